"""OpenAI Responses wire format (`POST /v1/responses`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

from providers.mockllm.script import Conversation, Reply, WebSearchSpec, usage_for
from providers.mockllm.sse import Frame, now, paced, sse

SOURCES = "web_search_call.action.sources"  # an `include` value: the search's urls in its action
MALFORMED = b'event: response.output_text.delta\ndata: {"type": "response.output_text.delta", \n\n'


def conversation(body: dict[str, Any]) -> Conversation:
    items = body.get("input") or []
    if isinstance(items, str):
        return Conversation(items, None, len(items))
    user_texts = [_text(i.get("content")) for i in items if i.get("role") == "user"]
    tool_result = None
    if items and items[-1].get("type") == "function_call_output":
        call_id = items[-1].get("call_id")
        names = [
            i.get("name", "tool") for i in items if i.get("type") == "function_call" and i.get("call_id") == call_id
        ]
        tool_result = (names[-1] if names else "tool", str(items[-1].get("output", "")))
    return Conversation(user_texts[-1] if user_texts else "", tool_result, len(json.dumps(items)))


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content if isinstance(content, str) else ""


def usage(reply: Reply, conv: Conversation) -> dict[str, Any]:
    u = usage_for(reply, conv)
    prompt = u["input_tokens"] + u["cache_read_tokens"]
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": u["cache_read_tokens"]},
        "output_tokens": u["output_tokens"],
        "output_tokens_details": {"reasoning_tokens": u["reasoning_tokens"]},
        "total_tokens": prompt + u["output_tokens"],
    }


def _response(body: dict[str, Any], status: str, output: list[Any], usage: dict[str, Any] | None) -> dict[str, Any]:
    incomplete = {"reason": "max_output_tokens"} if status == "incomplete" else None
    return {
        "id": f"resp_{uuid.uuid4().hex[:16]}",
        "object": "response",
        "created_at": now(),
        "model": body.get("model", ""),
        "status": status,
        "output": output,
        "usage": usage,
        "incomplete_details": incomplete,
        "error": None,
        "parallel_tool_calls": True,
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools", []),
    }


class _Writer:
    """Numbers events and keeps the output items for the final `response.completed`."""

    def __init__(self, body: dict[str, Any] | None = None) -> None:
        self.sequence = 0
        self.output: list[dict[str, Any]] = []
        self.include = set((body or {}).get("include") or [])

    def event(self, kind: str, **fields: Any) -> bytes:
        self.sequence += 1
        return sse({"type": kind, "sequence_number": self.sequence, **fields}, kind)

    def reasoning(self, reply: Reply) -> Iterator[bytes]:
        item = {"type": "reasoning", "id": f"rs_{uuid.uuid4().hex[:12]}", "summary": []}
        index = len(self.output)
        yield self.event("response.output_item.added", output_index=index, item=item)
        for piece in reply.reasoning_chunks:
            yield self.event(
                "response.reasoning_summary_text.delta",
                item_id=item["id"],
                output_index=index,
                summary_index=0,
                delta=piece,
            )
        done = {**item, "summary": [{"type": "summary_text", "text": reply.reasoning}]}
        self.output.append(done)
        yield self.event("response.output_item.done", output_index=index, item=done)

    def web_search(self, search: WebSearchSpec) -> Iterator[bytes]:
        item_id, index = f"ws_{search.id}", len(self.output)
        item = {"type": "web_search_call", "id": item_id, "status": "in_progress", "action": {"type": "search"}}
        yield self.event("response.output_item.added", output_index=index, item=item)
        for phase in ("in_progress", "searching", "completed"):
            yield self.event(f"response.web_search_call.{phase}", item_id=item_id, output_index=index)
        action: dict[str, Any] = {"type": "search", "query": search.query}
        if SOURCES in self.include and not search.error_code:
            action["sources"] = [{"type": "url", "url": url} for url, _ in search.results]
        done = {**item, "status": "failed" if search.error_code else "completed", "action": action}
        self.output.append(done)
        yield self.event("response.output_item.done", output_index=index, item=done)

    def message(self, reply: Reply) -> Iterator[bytes]:
        item_id, index = f"msg_{uuid.uuid4().hex[:12]}", len(self.output)
        item = {"type": "message", "id": item_id, "role": "assistant", "status": "in_progress", "content": []}
        part: dict[str, Any] = {"type": "output_text", "text": "", "annotations": []}
        at: dict[str, Any] = {"item_id": item_id, "output_index": index, "content_index": 0}
        yield self.event("response.output_item.added", output_index=index, item=item)
        yield self.event("response.content_part.added", **at, part=part)
        for piece in reply.text_chunks:
            yield self.event("response.output_text.delta", **at, delta=piece, logprobs=[])
        annotations = _annotations(reply.web_search)
        for number, annotation in enumerate(annotations):
            added: dict[str, Any] = {"annotation_index": number, "annotation": annotation}
            yield self.event("response.output_text.annotation.added", **at, **added)
        yield self.event("response.output_text.done", **at, text=reply.text, logprobs=[])
        part = {**part, "text": reply.text, "annotations": annotations}
        yield self.event("response.content_part.done", **at, part=part)
        done = {**item, "status": "completed", "content": [part]}
        self.output.append(done)
        yield self.event("response.output_item.done", output_index=index, item=done)

    def function_call(self, call_id: str, name: str, chunks: list[str]) -> Iterator[bytes]:
        item_id, index = f"fc_{uuid.uuid4().hex[:12]}", len(self.output)
        item = {
            "type": "function_call",
            "id": item_id,
            "call_id": call_id,
            "name": name,
            "arguments": "",
            "status": "in_progress",
        }
        yield self.event("response.output_item.added", output_index=index, item=item)
        for piece in chunks:
            yield self.event("response.function_call_arguments.delta", item_id=item_id, output_index=index, delta=piece)
        done = {**item, "arguments": "".join(chunks), "status": "completed"}
        self.output.append(done)
        yield self.event("response.output_item.done", output_index=index, item=done)


def _annotations(search: WebSearchSpec | None) -> list[dict[str, Any]]:
    """`url_citation`s over the cited spans of the text (end_index exclusive, as the API sends)."""
    if search is None:
        return []
    return [
        {"type": "url_citation", "start_index": start, "end_index": end, "url": url, "title": title}
        for start, end, result in search.citations
        for url, title in [search.results[result]]
    ]


def _items(writer: _Writer, reply: Reply) -> Iterator[bytes]:
    if reply.reasoning_chunks:
        yield from writer.reasoning(reply)
    if reply.web_search:
        yield from writer.web_search(reply.web_search)
    if reply.text_chunks:
        yield from writer.message(reply)
    for call in reply.tool_calls:
        yield from writer.function_call(call.id, call.name, call.args_chunks)


def stream(reply: Reply, conv: Conversation, body: dict[str, Any]) -> Iterator[Frame]:
    writer = _Writer(body)
    created = _response(body, "in_progress", [], None)
    yield writer.event("response.created", response=created)
    yield from paced(_items(writer, reply), reply.chunk_delay)
    status = "incomplete" if reply.finish() == "length" else "completed"
    final = {**_response(body, status, writer.output, usage(reply, conv)), "id": created["id"]}
    yield writer.event(f"response.{status}", response=final)


def complete(reply: Reply, conv: Conversation, body: dict[str, Any]) -> dict[str, Any]:
    writer = _Writer(body)
    for _ in _items(writer, reply):
        pass
    status = "incomplete" if reply.finish() == "length" else "completed"
    return _response(body, status, writer.output, usage(reply, conv))


def stream_error(status: int, message: str) -> bytes:
    """A failure reported inside a 200 stream: an `error` event."""
    code = "server_error" if status >= 500 else "invalid_request_error"
    return sse({"type": "error", "code": code, "message": message, "param": None, "sequence_number": 0}, "error")


def error(status: int, message: str) -> dict[str, Any]:
    return {
        "error": {"message": message, "type": "invalid_request_error" if status < 500 else "server_error", "code": None}
    }
