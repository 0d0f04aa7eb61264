"""Anthropic Messages wire format (`POST /v1/messages`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

from providers.mockllm.script import Conversation, Reply, usage_for
from providers.mockllm.sse import Frame, paced, sse

MALFORMED = b'event: content_block_delta\ndata: {"type": "content_block_delta", "index": \n\n'
STOP_REASONS = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}
ERROR_TYPES = {
    401: "authentication_error",
    429: "rate_limit_error",
    529: "overloaded_error",
    400: "invalid_request_error",
}


def conversation(body: dict[str, Any]) -> Conversation:
    messages = body.get("messages") or []
    user_texts = [t for m in messages if m.get("role") == "user" and (t := _text(m.get("content")))]
    tool_result = None
    if messages and messages[-1].get("role") == "user":
        results = [b for b in _blocks(messages[-1].get("content")) if b.get("type") == "tool_result"]
        if results:
            tool_result = (_tool_name(messages, results[-1].get("tool_use_id")), _text(results[-1].get("content")))
    return Conversation(user_texts[-1] if user_texts else "", tool_result, len(json.dumps(body)))


def _blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content or [] if isinstance(b, dict)]


def _text(content: Any) -> str:
    return "".join(b.get("text", "") for b in _blocks(content) if b.get("type") == "text")


def _tool_name(messages: list[dict[str, Any]], tool_use_id: str | None) -> str:
    for message in reversed(messages):
        for block in _blocks(message.get("content")):
            if block.get("type") == "tool_use" and block.get("id") == tool_use_id:
                return str(block["name"])
    return "tool"


def usage(reply: Reply, conv: Conversation) -> dict[str, int]:
    u = usage_for(reply, conv)
    return {
        "input_tokens": u["input_tokens"],
        "output_tokens": u["output_tokens"],
        "cache_read_input_tokens": u["cache_read_tokens"],
        "cache_creation_input_tokens": u["cache_write_tokens"],
    }


def _message(
    body: dict[str, Any], content: list[Any], stop_reason: str | None, usage: dict[str, int]
) -> dict[str, Any]:
    return {
        "id": f"msg_{uuid.uuid4().hex[:16]}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", ""),
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage,
    }


def stream(reply: Reply, conv: Conversation, body: dict[str, Any]) -> Iterator[Frame]:
    full = usage(reply, conv)
    yield sse(
        {"type": "message_start", "message": _message(body, [], None, {**full, "output_tokens": 1})}, "message_start"
    )
    yield sse({"type": "ping"}, "ping")
    yield from paced(_blocks_events(reply), reply.chunk_delay)
    stop = STOP_REASONS.get(reply.finish(), reply.finish())
    yield sse(
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": None},
            "usage": {"output_tokens": full["output_tokens"]},
        },
        "message_delta",
    )
    yield sse({"type": "message_stop"}, "message_stop")


def _blocks_events(reply: Reply) -> Iterator[bytes]:
    index = 0
    if reply.reasoning_chunks:
        yield from _block(
            index,
            {"type": "thinking", "thinking": "", "signature": ""},
            [{"type": "thinking_delta", "thinking": c} for c in reply.reasoning_chunks]
            + [{"type": "signature_delta", "signature": reply.signature}],
        )
        index += 1
    if reply.text_chunks:
        yield from _block(
            index, {"type": "text", "text": ""}, [{"type": "text_delta", "text": c} for c in reply.text_chunks]
        )
        index += 1
    for call in reply.tool_calls:
        yield from _block(
            index,
            {"type": "tool_use", "id": call.id, "name": call.name, "input": {}},
            [{"type": "input_json_delta", "partial_json": c} for c in call.args_chunks],
        )
        index += 1


def _block(index: int, start: dict[str, Any], deltas: list[dict[str, Any]]) -> Iterator[bytes]:
    yield sse({"type": "content_block_start", "index": index, "content_block": start}, "content_block_start")
    for delta in deltas:
        yield sse({"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta")
    yield sse({"type": "content_block_stop", "index": index}, "content_block_stop")


def complete(reply: Reply, conv: Conversation, body: dict[str, Any]) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if reply.reasoning:
        content.append({"type": "thinking", "thinking": reply.reasoning, "signature": reply.signature})
    if reply.text:
        content.append({"type": "text", "text": reply.text})
    for call in reply.tool_calls:
        content.append(
            {"type": "tool_use", "id": call.id, "name": call.name, "input": json.loads("".join(call.args_chunks))}
        )
    return _message(body, content, STOP_REASONS.get(reply.finish(), reply.finish()), usage(reply, conv))


def stream_error(status: int, message: str) -> bytes:
    """A failure reported inside a 200 stream: an `error` event (e.g. overloaded_error)."""
    return sse(error(status, message), "error")


def error(status: int, message: str) -> dict[str, Any]:
    kind = ERROR_TYPES.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": message}}
