"""The OpenAI Responses API half of the OpenAI adapter (`options.use_responses_api`).

Stateless use (`store=False`): the whole history is sent each time, so reasoning items
and web-search calls, which need server-side ids, are not replayed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai

from providers.adapters.common import (
    abort_response,
    data_url,
    dump_args,
    file_as_text,
    is_text_file,
    parse_args,
    stream_ended_early,
    untransformed,
    without_none,
)
from providers.adapters.convert import message_text, repair_history, result_text
from providers.adapters.openai_stream import stream_data
from providers.interface import (
    Completion,
    Finish,
    LLMRequest,
    PromptMessage,
    ProviderToolResult,
    ReasoningDelta,
    Source,
    StreamEvent,
    StreamHandle,
    TextDelta,
    ToolCallArgsDelta,
    ToolCallComplete,
    ToolCallStart,
    Usage,
)
from providers.retry import error_from_text

SAMPLING_OPTIONS = ("temperature", "top_p")
BULKY = ("input", "tools")  # sent as they are (see common.untransformed)
SEARCH_SOURCES = "web_search_call.action.sources"


def stream_events(client: openai.OpenAI, request: LLMRequest, handle: StreamHandle) -> Iterator[StreamEvent]:
    """The SDK sends the request and raises status errors; the body is read as plain dicts
    (see providers.adapters.sse)."""
    state = _State()
    with client.responses.with_streaming_response.create(**untransformed(params(request), BULKY), stream=True) as raw:
        response = raw.http_response
        handle.attach(lambda: abort_response(response))
        for event in stream_data(response):
            yield from state.handle(event)
            if state.finish is not None:
                break
    if state.finish is None:
        raise stream_ended_early()
    if state.usage is not None:
        yield state.usage
    yield state.finish


def complete(client: openai.OpenAI, request: LLMRequest) -> Completion:
    response = client.responses.create(**untransformed(params(request), BULKY))
    return Completion(text=response.output_text, usage=responses_usage(response.usage))


def params(request: LLMRequest) -> dict[str, Any]:
    options = request.options
    result: dict[str, Any] = {
        "model": request.model,
        "input": input_items(request.messages),
        "max_output_tokens": request.max_output_tokens,
        "store": False,
    }
    result.update({key: options[key] for key in SAMPLING_OPTIONS if key in options})
    if options.get("reasoning_effort"):
        result["reasoning"] = {
            "effort": options["reasoning_effort"],
            "summary": options.get("reasoning_summary", "auto"),
        }
    tools: list[dict[str, Any]] = [
        {"type": "function", "name": t.name, "description": t.description, "parameters": t.parameters, "strict": False}
        for t in request.tools
    ]
    if options.get("web_search_enabled"):
        tools.append({"type": "web_search", "search_context_size": options.get("search_context_size", "medium")})
        result["include"] = [SEARCH_SOURCES]  # without it a search call says nothing of what it found
    if tools:
        result["tools"] = tools
        result["tool_choice"] = request.tool_choice
    return result


def input_items(messages: list[PromptMessage]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for message in repair_history(messages):
        if message.role in ("system", "assistant") and message_text(message):
            items.append({"role": message.role, "content": message_text(message)})
        if message.role == "user":
            items.append({"role": "user", "content": _user_content(message)})
        for part in message.parts:
            if part["type"] == "tool_call" and not part.get("provider_executed"):
                items.append(
                    {
                        "type": "function_call",
                        "call_id": part["tool_call_id"],
                        "name": part["tool_name"],
                        "arguments": dump_args(part["args"]),
                    }
                )
            elif part["type"] == "tool_result" and not part.get("provider_executed"):
                items.append(
                    {"type": "function_call_output", "call_id": part["tool_call_id"], "output": result_text(part)}
                )
    return items


def _user_content(message: PromptMessage) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = []
    for part in message.parts:
        if part["type"] == "text":
            content.append({"type": "input_text", "text": part["text"]})
        elif part["type"] == "file" and is_text_file(part):
            content.append({"type": "input_text", "text": file_as_text(part)})
        elif part["type"] == "file" and part["media_type"].startswith("image/"):
            content.append({"type": "input_image", "image_url": data_url(part)})
        elif part["type"] == "file":
            content.append({"type": "input_file", "filename": part.get("name") or "file", "file_data": data_url(part)})
    return content


class _State:
    """Turns Responses stream events (decoded JSON) into neutral events."""

    def __init__(self) -> None:
        self.call_ids: dict[str, str] = {}  # output item id -> call id
        self.has_tool_calls = False
        self.usage: Usage | None = None
        self.finish: Finish | None = None

    def handle(self, event: dict[str, Any]) -> Iterator[StreamEvent]:
        kind = event.get("type")
        if kind == "response.output_text.delta":
            yield TextDelta(event["delta"])
        elif kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            yield ReasoningDelta(event["delta"])
        elif kind == "response.output_item.added" and event["item"].get("type") == "function_call":
            item = event["item"]
            self.call_ids[item.get("id") or item["call_id"]] = item["call_id"]
            yield ToolCallStart(item["call_id"], item["name"])
        elif kind == "response.function_call_arguments.delta":
            yield ToolCallArgsDelta(self.call_ids.get(event["item_id"], event["item_id"]), event["delta"])
        elif kind == "response.output_item.done":
            yield from self._item_done(event["item"])
        elif kind == "response.output_text.annotation.added":
            yield from _annotation_source(event.get("annotation"))
        elif kind in ("response.completed", "response.incomplete"):
            self._finished(event["response"])
        elif kind in ("response.failed", "error"):
            raise error_from_text(_failure_message(event))

    def _item_done(self, item: dict[str, Any]) -> Iterator[StreamEvent]:
        if item.get("type") == "function_call":
            self.has_tool_calls = True
            yield ToolCallComplete(item["call_id"], item["name"], parse_args(item.get("arguments")))
        elif item.get("type") == "web_search_call":
            yield from _web_search(item)

    def _finished(self, response: dict[str, Any]) -> None:
        self.usage = responses_usage(response.get("usage"))
        if response.get("status") == "incomplete":
            reason = (response.get("incomplete_details") or {}).get("reason")
            self.finish = Finish("length" if reason == "max_output_tokens" else (reason or "length"))
        else:
            self.finish = Finish("tool_calls" if self.has_tool_calls else "stop")


def _web_search(item: dict[str, Any]) -> Iterator[StreamEvent]:
    """The call's arguments are its action (type, query); its result, the sources it found."""
    action = without_none(item.get("action")) or {}
    sources = action.pop("sources", [])
    status = item.get("status")
    yield ToolCallComplete(item["id"], "web_search", action, provider_executed=True)
    yield ProviderToolResult(item["id"], "web_search", {"status": status, "sources": sources}, status == "failed")


def _annotation_source(annotation: Any) -> Iterator[StreamEvent]:
    if isinstance(annotation, dict) and annotation.get("type") == "url_citation" and annotation.get("url"):
        yield Source(annotation["url"], annotation.get("title") or "")


def _failure_message(event: dict[str, Any]) -> str:
    error = (event.get("response") or {}).get("error") or event
    return error.get("message") or "the provider reported a failed response"


def responses_usage(usage: Any) -> Usage:
    """From the SDK's ResponseUsage or its JSON (streams are read as JSON). input_tokens
    include cached tokens; output_tokens include reasoning tokens."""
    if usage is None:
        return Usage()
    raw = without_none(usage) if isinstance(usage, dict) else usage.model_dump(exclude_none=True)
    cached = (raw.get("input_tokens_details") or {}).get("cached_tokens") or 0
    return Usage(
        input_tokens=(raw.get("input_tokens") or 0) - cached,
        output_tokens=raw.get("output_tokens") or 0,
        reasoning_tokens=(raw.get("output_tokens_details") or {}).get("reasoning_tokens") or 0,
        cache_read_tokens=cached,
        raw=raw,
    )
