"""Anthropic Messages wire format (`POST /v1/messages`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

from providers.mockllm.script import Conversation, Reply, WebSearchSpec, cited_segments, usage_for
from providers.mockllm.sse import Frame, paced, sse

MALFORMED = b'event: content_block_delta\ndata: {"type": "content_block_delta", "index": \n\n'
PAGE_AGE = "November 1, 2026"
STOP_REASONS = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens", "pause": "pause_turn"}
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


def usage(reply: Reply, conv: Conversation) -> dict[str, Any]:
    u = usage_for(reply, conv)
    result: dict[str, Any] = {
        "input_tokens": u["input_tokens"],
        "output_tokens": u["output_tokens"],
        "cache_read_input_tokens": u["cache_read_tokens"],
        "cache_creation_input_tokens": u["cache_write_tokens"],
    }
    if reply.web_search:
        result["server_tool_use"] = {"web_search_requests": 1, "web_fetch_requests": 0}
    return result


def _message(
    body: dict[str, Any], content: list[Any], stop_reason: str | None, usage: dict[str, Any]
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
    final_usage = {k: v for k, v in full.items() if k in ("output_tokens", "server_tool_use")}
    yield sse(
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": None},
            "usage": final_usage,
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
    if reply.web_search:
        yield from _web_search_blocks(index, reply.web_search)
        index += 2
        for block in _cited_text_blocks(reply, reply.web_search):
            citations = block.get("citations", [])
            start = {**block, "text": "", **({"citations": []} if citations else {})}
            deltas = [{"type": "citations_delta", "citation": c} for c in citations]
            yield from _block(index, start, [*deltas, {"type": "text_delta", "text": block["text"]}])
            index += 1
    elif reply.text_chunks:
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


def _web_search_blocks(index: int, search: WebSearchSpec) -> Iterator[bytes]:
    """`server_tool_use` (its input streamed like a tool call's), then `web_search_tool_result`."""
    use = _server_tool_use(search)
    args = json.dumps(use["input"])
    half = len(args) // 2
    chunks = ["", args[:half], args[half:]]  # the API opens with an empty partial_json
    start = {**use, "input": {}}
    yield from _block(index, start, [{"type": "input_json_delta", "partial_json": c} for c in chunks])
    yield from _block(index + 1, _search_result(search), [])


def _server_tool_use(search: WebSearchSpec) -> dict[str, Any]:
    query = {"query": search.query}
    return {"type": "server_tool_use", "id": f"srvtoolu_{search.id}", "name": "web_search", "input": query}


def _search_result(search: WebSearchSpec) -> dict[str, Any]:
    content: Any = (
        {"type": "web_search_tool_result_error", "error_code": search.error_code}
        if search.error_code
        else [
            {"type": "web_search_result", "url": url, "title": title, "encrypted_content": f"enc-{n}"}
            | {"page_age": PAGE_AGE}
            for n, (url, title) in enumerate(search.results)
        ]
    )
    return {"type": "web_search_tool_result", "tool_use_id": f"srvtoolu_{search.id}", "content": content}


def _cited_text_blocks(reply: Reply, search: WebSearchSpec) -> list[dict[str, Any]]:
    """The answer as the API gives it after a search: one text block per cited or uncited stretch."""
    blocks: list[dict[str, Any]] = []
    for text, cited in cited_segments(reply):
        citations = {} if cited is None else {"citations": [_citation(search, cited, text)]}
        blocks.append({"type": "text", "text": text, **citations})
    return blocks


def _citation(search: WebSearchSpec, result: int, cited_text: str) -> dict[str, Any]:
    url, title = search.results[result]
    return {
        "type": "web_search_result_location",
        "url": url,
        "title": title,
        "cited_text": cited_text,
        "encrypted_index": f"idx-{result}",
    }


def _block(index: int, start: dict[str, Any], deltas: list[dict[str, Any]]) -> Iterator[bytes]:
    yield sse({"type": "content_block_start", "index": index, "content_block": start}, "content_block_start")
    for delta in deltas:
        yield sse({"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta")
    yield sse({"type": "content_block_stop", "index": index}, "content_block_stop")


def complete(reply: Reply, conv: Conversation, body: dict[str, Any]) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if reply.reasoning:
        content.append({"type": "thinking", "thinking": reply.reasoning, "signature": reply.signature})
    if reply.web_search:
        content += [_server_tool_use(reply.web_search), _search_result(reply.web_search)]
        content += _cited_text_blocks(reply, reply.web_search)
    elif reply.text:
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
