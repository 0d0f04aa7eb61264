"""Anthropic Messages adapter: thinking with signatures, prompt caching, web search, computer use."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterator
from typing import Any

import anthropic
import pydantic

from providers.adapters.common import (
    abort_response,
    file_as_text,
    is_text_file,
    malformed,
    parse_args,
    stream_ended_early,
    without_none,
)
from providers.adapters.convert import message_text, repair_history, result_text
from providers.adapters.sse import ServerSentEvent, read_events
from providers.interface import (
    PAUSED,
    Adapter,
    Completion,
    Finish,
    LLMRequest,
    PromptMessage,
    ProviderError,
    ProviderToolResult,
    ReasoningDelta,
    Source,
    StreamEvent,
    StreamHandle,
    TextDelta,
    ToolCallArgsDelta,
    ToolCallComplete,
    ToolCallStart,
    ToolDefinition,
    Usage,
)
from providers.retry import error_from_status, error_from_text
from providers.useragent import user_agent

FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "refusal": "content_filter",
    "pause_turn": PAUSED,
}
CACHE_CONTROL = {"type": "ephemeral"}
WEB_SEARCH_TOOL = "web_search_20250305"
SERVER_TOOL_ID_PREFIX = "srvtoolu_"  # ids of Anthropic's own server tool calls
COMPLETE_TIMEOUT_S = 300.0
MAX_IMAGE_BYTES = 5 * 1024 * 1024  # the Messages API's per-image limit
DEFAULT_COMPUTER_TOOL = "computer_20250124"
COMPUTER_TOOL_BETAS = {"computer_20250124": "computer-use-2025-01-24", "computer_20251124": "computer-use-2025-11-24"}


class AnthropicAdapter(Adapter):
    def __init__(self, api_key: str, base_url: str = "") -> None:
        self.client = anthropic.Anthropic(
            api_key=api_key or "unset",
            base_url=base_url or None,
            max_retries=0,
            default_headers={"User-Agent": user_agent()},
        )

    def stream_events(self, request: LLMRequest, handle: StreamHandle) -> Iterator[StreamEvent]:
        # The SDK sends the request and raises status errors; the body is read as plain dicts
        # (see providers.adapters.sse).
        create = self.client.messages.with_streaming_response.create
        with translate_errors(), create(**params(request), stream=True) as raw:
            response = raw.http_response
            handle.attach(lambda: abort_response(response))
            yield from _StreamState().events(_stream_events(read_events(response)))

    def complete(self, request: LLMRequest) -> Completion:
        with translate_errors():
            # An explicit timeout: the SDK refuses large max_tokens without streaming otherwise.
            message = self.client.messages.create(**params(request), timeout=COMPLETE_TIMEOUT_S)
        text = "".join(block.text for block in message.content if block.type == "text")
        return Completion(text=text, usage=anthropic_usage(message.usage.model_dump(exclude_none=True)))


def params(request: LLMRequest) -> dict[str, Any]:
    options = request.options
    system, messages = anthropic_messages(request.messages)
    result: dict[str, Any] = {"model": request.model, "max_tokens": request.max_output_tokens, "messages": messages}
    if system:
        result["system"] = system
    budget = options.get("thinking_budget")
    if budget:
        result["thinking"] = {"type": "enabled", "budget_tokens": budget}
        result["max_tokens"] = max(request.max_output_tokens, budget + 1024)
    else:  # sampling settings are rejected while thinking is on
        result.update({key: options[key] for key in ("temperature", "top_p", "top_k") if key in options})
    tools = _tools(request)
    if tools:
        result["tools"] = tools
        result["tool_choice"] = {"type": request.tool_choice}
        if request.tool_choice == "auto" and options.get("disable_parallel_tool_use"):
            result["tool_choice"]["disable_parallel_tool_use"] = True
    betas = sorted({COMPUTER_TOOL_BETAS[t["type"]] for t in tools if t.get("type") in COMPUTER_TOOL_BETAS})
    if betas:
        result["extra_headers"] = {"anthropic-beta": ",".join(betas)}
    return result


def _tools(request: LLMRequest) -> list[dict[str, Any]]:
    tools: list[dict[str, Any]] = [_tool(t, request.options) for t in request.tools]
    if request.options.get("web_search_enabled"):
        search: dict[str, Any] = {"type": WEB_SEARCH_TOOL, "name": "web_search"}
        for key in ("allowed_domains", "blocked_domains"):
            if request.options.get(key):
                search[key] = request.options[key]
        tools.append(search)
    return tools


def _tool(tool: ToolDefinition, options: dict[str, Any]) -> dict[str, Any]:
    """A function tool, or Anthropic's own computer tool in the version the model config names."""
    native = tool.native or {}
    if native.get("type") != "computer":
        return {"name": tool.name, "description": tool.description, "input_schema": tool.parameters}
    version = options.get("computer_use") or DEFAULT_COMPUTER_TOOL
    computer = {"type": version, "name": tool.name, **{k: v for k, v in native.items() if k != "type"}}
    if version == "computer_20251124":
        computer["enable_zoom"] = True
    return computer


def anthropic_messages(messages: list[PromptMessage]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(system blocks, messages) with cache marks on the last system block and last two messages."""
    system: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    for message in repair_history(messages):
        if message.role == "system":
            system.append({"type": "text", "text": message_text(message)})
            continue
        role = "assistant" if message.role == "assistant" else "user"
        blocks = [block for part in message.parts if (block := _block(part)) is not None]
        if not blocks:
            continue
        if out and out[-1]["role"] == role:  # tool results and the next user turn share a message
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    if system:
        system[-1]["cache_control"] = CACHE_CONTROL
    for turn in out[-2:]:
        _mark_cache(turn["content"])
    return system, out


def _mark_cache(blocks: list[dict[str, Any]]) -> None:
    """Thinking blocks cannot carry cache_control; mark the last block that can."""
    for block in reversed(blocks):
        if block["type"] not in ("thinking", "redacted_thinking"):
            block["cache_control"] = CACHE_CONTROL
            return


def _block(part: dict[str, Any]) -> dict[str, Any] | None:
    kind = part["type"]
    if kind == "text":
        return {"type": "text", "text": part["text"]}
    if kind == "reasoning":  # unsigned thinking is rejected, so it is dropped
        return (
            {"type": "thinking", "thinking": part["text"], "signature": part["signature"]}
            if part.get("signature")
            else None
        )
    if kind == "file":
        return _file_block(part)
    if part.get("provider_executed") and not part["tool_call_id"].startswith(SERVER_TOOL_ID_PREFIX):
        return None  # another vendor's search (the chat switched models): Anthropic would refuse it
    if kind == "tool_call":
        block_type = "server_tool_use" if part.get("provider_executed") else "tool_use"
        return {"type": block_type, "id": part["tool_call_id"], "name": part["tool_name"], "input": part["args"]}
    if part.get("provider_executed"):
        return {"type": "web_search_tool_result", "tool_use_id": part["tool_call_id"], "content": part["result"]}
    return {
        "type": "tool_result",
        "tool_use_id": part["tool_call_id"],
        "content": _media_result(part) if part.get("is_media") and part.get("data") else result_text(part),
        "is_error": bool(part.get("is_error")),
    }


def _media_result(part: dict[str, Any]) -> list[dict[str, Any]]:
    """A tool result carrying an image (a screenshot): its text, then the image itself."""
    result = part["result"] if isinstance(part["result"], dict) else {}
    media_type = str(result.get("media_type") or "image/png")
    source = {"type": "base64", "media_type": media_type, "data": base64.b64encode(part["data"]).decode()}
    return [{"type": "text", "text": str(result.get("text") or "screenshot")}, {"type": "image", "source": source}]


def _file_block(part: dict[str, Any]) -> dict[str, Any]:
    if is_text_file(part):
        return {"type": "text", "text": file_as_text(part)}
    if part["media_type"].startswith("image/") and len(part["data"]) > MAX_IMAGE_BYTES:
        # The API refuses the whole request over one such image: tell the model instead.
        return {"type": "text", "text": f"[image {part.get('name') or 'attachment'} omitted: larger than 5 MiB]"}
    source = {"type": "base64", "media_type": part["media_type"], "data": base64.b64encode(part["data"]).decode()}
    return {"type": "image" if part["media_type"].startswith("image/") else "document", "source": source}


def _stream_events(events: Iterator[ServerSentEvent]) -> Iterator[dict[str, Any]]:
    """Messages stream events as the SDK reads them: unnamed events and pings are skipped, an
    `error` event (e.g. overloaded_error in a 200 stream) is raised."""
    for event in events:
        if not event.event or event.event == "ping":
            continue
        if event.event == "error":
            raise _stream_error(event.data)
        if not event.data:
            continue
        data = json.loads(event.data)
        if not isinstance(data, dict):
            raise malformed(f"event is not an object: {event.data[:200]}")
        yield data


def _stream_error(data: str) -> ProviderError:
    try:
        body: object = json.loads(data)
        fallback = f"{body}"
    except ValueError:
        body, fallback = data, data or "Error code: 200"
    return error_from_text(_error_message(body, fallback))


class _StreamState:
    """Turns Messages stream events (decoded JSON) into neutral events."""

    def __init__(self) -> None:
        self.blocks: dict[int, dict[str, Any]] = {}
        self.usage: dict[str, Any] = {}
        self.stop_reason: str | None = None

    def events(self, stream: Iterator[dict[str, Any]]) -> Iterator[StreamEvent]:
        for event in stream:
            kind = event.get("type")
            if kind == "message_start":
                self.usage.update(without_none(event["message"].get("usage") or {}))
            elif kind == "content_block_start":
                yield from self._block_start(event["index"], event["content_block"])
            elif kind == "content_block_delta":
                yield from self._block_delta(event["index"], event["delta"])
            elif kind == "content_block_stop":
                yield from self._block_stop(event["index"])
            elif kind == "message_delta":
                self.stop_reason = (event.get("delta") or {}).get("stop_reason") or self.stop_reason
                self.usage.update(without_none(event.get("usage") or {}))
            elif kind == "message_stop":
                break
        if self.stop_reason is None:
            raise stream_ended_early()
        yield anthropic_usage(self.usage)
        yield Finish(FINISH_REASONS.get(self.stop_reason, self.stop_reason))

    def _block_start(self, index: int, block: dict[str, Any]) -> Iterator[StreamEvent]:
        kind = block.get("type")
        self.blocks[index] = {"type": kind, "block": block, "json": []}
        if kind in ("tool_use", "server_tool_use"):
            yield ToolCallStart(block["id"], block["name"])
        elif kind == "web_search_tool_result":
            content = without_none(block.get("content"))
            is_error = isinstance(content, dict) and content.get("type") == "web_search_tool_result_error"
            yield ProviderToolResult(block["tool_use_id"], "web_search", content, is_error)
        elif kind == "text" and block.get("text"):
            yield TextDelta(block["text"])

    def _block_delta(self, index: int, delta: dict[str, Any]) -> Iterator[StreamEvent]:
        state = self.blocks.get(index)
        if state is None:
            raise malformed(f"delta for unknown content block {index}")
        kind = delta.get("type")
        if kind == "text_delta":
            yield TextDelta(delta["text"])
        elif kind == "thinking_delta":
            yield ReasoningDelta(delta["thinking"])
        elif kind == "signature_delta":
            yield ReasoningDelta("", signature=delta["signature"])
        elif kind == "input_json_delta" and delta.get("partial_json"):
            state["json"].append(delta["partial_json"])
            yield ToolCallArgsDelta(state["block"]["id"], delta["partial_json"])
        elif kind == "citations_delta":
            citation = delta.get("citation") or {}
            if citation.get("url"):
                yield Source(citation["url"], citation.get("title") or "")

    def _block_stop(self, index: int) -> Iterator[StreamEvent]:
        state = self.blocks.get(index)
        if state is None or state["type"] not in ("tool_use", "server_tool_use"):
            return
        block = state["block"]
        given = block.get("input")
        args = parse_args("".join(state["json"])) if state["json"] else (given if isinstance(given, dict) else {})
        yield ToolCallComplete(block["id"], block["name"], args, provider_executed=state["type"] == "server_tool_use")


def anthropic_usage(raw: dict[str, Any]) -> Usage:
    """Anthropic's input_tokens already exclude cache reads and writes."""
    return Usage(
        input_tokens=raw.get("input_tokens") or 0,
        output_tokens=raw.get("output_tokens") or 0,
        cache_read_tokens=raw.get("cache_read_input_tokens") or 0,
        cache_write_tokens=raw.get("cache_creation_input_tokens") or 0,
        raw=raw,
    )


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    """Turn Anthropic SDK and wire errors into classified ProviderErrors."""
    try:
        yield
    except ProviderError:
        raise
    except anthropic.APIStatusError as exc:
        if exc.status_code < 400:  # an `error` event inside a 200 stream, e.g. overloaded_error
            raise error_from_text(_message(exc)) from exc
        raise error_from_status(exc.status_code, _message(exc), exc.response.headers) from exc
    except anthropic.APITimeoutError as exc:
        raise ProviderError("request to the provider timed out", kind="timeout", retryable=True) from exc
    except anthropic.APIConnectionError as exc:
        raise ProviderError(f"connection error: {exc.__cause__ or exc}", kind="connection", retryable=True) from exc
    except anthropic.APIError as exc:
        raise error_from_text(_message(exc)) from exc
    except (json.JSONDecodeError, pydantic.ValidationError) as exc:  # undecodable or invalid SSE data
        raise malformed(str(exc)) from exc


def _message(exc: anthropic.APIError) -> str:
    return _error_message(exc.body, exc.message)


def _error_message(body: object, fallback: str) -> str:
    """`<type>: <message>` of an error body (`{"error": {"type", "message"}}` or the inner object)."""
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return f"{error.get('type', 'error')}: {error['message']}"
    return fallback
