"""OpenAI Chat Completions wire format (`POST /v1/chat/completions`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

from providers.mockllm.script import Conversation, Reply, usage_for
from providers.mockllm.sse import Frame, now, paced, sse

MALFORMED = b'data: {"id": "chatcmpl-broken", "choices": [\n\n'
FINISH = {"stop": "stop", "tool_calls": "tool_calls", "length": "length"}


def conversation(body: dict[str, Any]) -> Conversation:
    messages = body.get("messages") or []
    user_texts = [_text(m.get("content")) for m in messages if m.get("role") == "user"]
    tool_result = None
    if messages and messages[-1].get("role") == "tool":
        tool_result = (_tool_name(messages, messages[-1].get("tool_call_id")), _text(messages[-1].get("content")))
    return Conversation(user_texts[-1] if user_texts else "", tool_result, len(json.dumps(messages)))


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content if isinstance(content, str) else ""


def _tool_name(messages: list[dict[str, Any]], call_id: str | None) -> str:
    for message in reversed(messages):
        for call in message.get("tool_calls") or []:
            if call.get("id") == call_id:
                return str(call["function"]["name"])
    return "tool"


def usage(reply: Reply, conv: Conversation) -> dict[str, Any]:
    u = usage_for(reply, conv)
    prompt = u["input_tokens"] + u["cache_read_tokens"]
    return {
        "prompt_tokens": prompt,
        "completion_tokens": u["output_tokens"],
        "total_tokens": prompt + u["output_tokens"],
        "prompt_tokens_details": {"cached_tokens": u["cache_read_tokens"]},
        "completion_tokens_details": {"reasoning_tokens": u["reasoning_tokens"]},
    }


def stream(reply: Reply, conv: Conversation, body: dict[str, Any]) -> Iterator[Frame]:
    base = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion.chunk",
        "created": now(),
        "model": body.get("model", ""),
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return sse({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})

    def content() -> Iterator[bytes]:
        yield chunk({"role": "assistant", "content": ""})
        for piece in reply.reasoning_chunks:
            yield chunk({"reasoning_content": piece})
        for piece in reply.text_chunks:
            yield chunk({"content": piece})
        for index, call in enumerate(reply.tool_calls):
            head = {"index": index, "id": call.id, "type": "function", "function": {"name": call.name, "arguments": ""}}
            yield chunk({"tool_calls": [head]})
            for piece in call.args_chunks:
                yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
        yield chunk({}, FINISH.get(reply.finish(), reply.finish()))

    yield from paced(content(), reply.chunk_delay)
    if (body.get("stream_options") or {}).get("include_usage"):
        yield sse({**base, "choices": [], "usage": usage(reply, conv)})
    yield b"data: [DONE]\n\n"


def complete(reply: Reply, conv: Conversation, body: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": "".join(c.args_chunks)}}
            for c in reply.tool_calls
        ]
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": now(),
        "model": body.get("model", ""),
        "choices": [{"index": 0, "message": message, "finish_reason": FINISH.get(reply.finish(), reply.finish())}],
        "usage": usage(reply, conv),
    }


def stream_error(status: int, message: str) -> bytes:
    """A failure reported inside a 200 stream: a chunk carrying an `error`."""
    return sse(error(status, message))


def error(status: int, message: str) -> dict[str, Any]:
    kinds = {401: "invalid_api_key", 429: "rate_limit_exceeded"}
    return {
        "error": {
            "message": message,
            "type": "invalid_request_error" if status < 500 else "server_error",
            "code": kinds.get(status),
        }
    }
