"""Google Gemini adapter (google-genai, streamGenerateContent).

The SDK prefixes any User-Agent with its own label, so an httpx request hook sets
ours verbatim; a response hook hands the live response to the stream's abort.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pydantic
from google import genai
from google.genai import errors, types

from providers.adapters.common import (
    abort_response,
    dump_args,
    file_as_text,
    is_text_file,
    malformed,
    stream_ended_early,
)
from providers.adapters.convert import message_text, repair_history, result_text
from providers.interface import (
    Adapter,
    Completion,
    Finish,
    LLMRequest,
    PromptMessage,
    ProviderError,
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
from providers.retry import error_from_status, error_from_text
from providers.useragent import user_agent

FINISH_REASONS = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
}
SAMPLING_OPTIONS = ("temperature", "top_p", "top_k", "presence_penalty", "frequency_penalty")


class GoogleAdapter(Adapter):
    def __init__(self, api_key: str, base_url: str = "") -> None:
        self._local = threading.local()  # per producer thread: where to report the response
        http_client = httpx.Client(
            timeout=httpx.Timeout(600.0, connect=10.0),
            event_hooks={"request": [_set_user_agent], "response": [self._on_response]},
        )
        self.client = genai.Client(
            api_key=api_key or "unset",
            http_options=types.HttpOptions(
                base_url=base_url or None,
                retry_options=types.HttpRetryOptions(attempts=1),
                httpx_client=http_client,
            ),
        )

    def _on_response(self, response: httpx.Response) -> None:
        on_response: Callable[[httpx.Response], None] | None = getattr(self._local, "on_response", None)
        if on_response is not None:
            on_response(response)

    def stream_events(self, request: LLMRequest, handle: StreamHandle) -> Iterator[StreamEvent]:
        self._local.on_response = lambda response: handle.attach(lambda: abort_response(response))
        state = _StreamState()
        with translate_errors():
            chunks = self.client.models.generate_content_stream(
                model=request.model, contents=gemini_contents(request.messages), config=config(request)
            )
            for chunk in chunks:
                yield from state.chunk(chunk)
        yield from state.finish()

    def complete(self, request: LLMRequest) -> Completion:
        self._local.on_response = None
        with translate_errors():
            response = self.client.models.generate_content(
                model=request.model, contents=gemini_contents(request.messages), config=config(request)
            )
        text = "".join(p.text for p in _parts(response) if p.text and not p.thought)
        return Completion(text=text, usage=gemini_usage(response.usage_metadata))


def _set_user_agent(request: httpx.Request) -> None:
    request.headers["User-Agent"] = user_agent()


def config(request: LLMRequest) -> types.GenerateContentConfig:
    options = request.options
    result: dict[str, Any] = {
        "max_output_tokens": request.max_output_tokens,
        "automatic_function_calling": {"disable": True},
        **{key: options[key] for key in SAMPLING_OPTIONS if key in options},
    }
    system = "\n\n".join(message_text(m) for m in request.messages if m.role == "system" and message_text(m))
    if system:
        result["system_instruction"] = system
    if "thinking_budget" in options or "include_thoughts" in options:
        result["thinking_config"] = {
            "thinking_budget": options.get("thinking_budget"),
            "include_thoughts": options.get("include_thoughts", True),
        }
    tools: list[dict[str, Any]] = []
    if request.tools:
        declarations = [
            {"name": t.name, "description": t.description, "parameters_json_schema": t.parameters}
            for t in request.tools
        ]
        tools.append({"function_declarations": declarations})
        mode = "NONE" if request.tool_choice == "none" else "AUTO"
        result["tool_config"] = {"function_calling_config": {"mode": mode}}
    if options.get("web_search_enabled"):
        tools.append({"google_search": {}})
    if tools:
        result["tools"] = tools
    return types.GenerateContentConfig.model_validate(result)


def gemini_contents(messages: list[PromptMessage]) -> list[dict[str, Any]]:
    """System text goes to `system_instruction`; tool results travel in user turns."""
    contents: list[dict[str, Any]] = []
    for message in repair_history(messages):
        if message.role == "system":
            continue
        role = "model" if message.role == "assistant" else "user"
        parts = [p for part in message.parts if (p := _part(part)) is not None]
        if not parts:
            continue
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    return contents


def _part(part: dict[str, Any]) -> dict[str, Any] | None:
    kind = part["type"]
    if kind == "text":
        return {"text": part["text"]}
    if kind == "file":
        if is_text_file(part):
            return {"text": file_as_text(part)}
        return {"inline_data": {"mime_type": part["media_type"], "data": part["data"]}}
    if part.get("provider_executed"):  # grounding is not replayable
        return None
    if kind == "tool_call":
        return {"function_call": {"id": part["tool_call_id"], "name": part["tool_name"], "args": part["args"]}}
    if kind == "tool_result":
        key = "error" if part.get("is_error") else "result"
        response = {"id": part["tool_call_id"], "name": part["tool_name"], "response": {key: result_text(part)}}
        return {"function_response": response}
    return None  # reasoning: Gemini thoughts are not sent back


class _StreamState:
    def __init__(self) -> None:
        self.finish_reason: str | None = None
        self.has_tool_calls = False
        self.usage: Usage | None = None

    def chunk(self, chunk: types.GenerateContentResponse) -> Iterator[StreamEvent]:
        if chunk.usage_metadata is not None:
            self.usage = gemini_usage(chunk.usage_metadata)
        for part in _parts(chunk):
            yield from self._part_events(part)
        for candidate in chunk.candidates or []:
            yield from self._sources(candidate)
            if candidate.finish_reason is not None:
                self.finish_reason = str(candidate.finish_reason.value)

    def _part_events(self, part: types.Part) -> Iterator[StreamEvent]:
        if part.text and part.thought:
            yield ReasoningDelta(part.text)
        elif part.text:
            yield TextDelta(part.text)
        elif part.function_call is not None:
            call = part.function_call
            call_id, name, args = call.id or f"call_{uuid.uuid4().hex[:16]}", call.name or "", call.args or {}
            self.has_tool_calls = True
            yield ToolCallStart(call_id, name)
            yield ToolCallArgsDelta(call_id, dump_args(args))
            yield ToolCallComplete(call_id, name, args)

    def _sources(self, candidate: types.Candidate) -> Iterator[StreamEvent]:
        grounding = candidate.grounding_metadata
        for source in (grounding.grounding_chunks or []) if grounding else []:
            if source.web and source.web.uri:
                yield Source(source.web.uri, source.web.title or "")

    def finish(self) -> Iterator[StreamEvent]:
        if self.finish_reason is None:
            raise stream_ended_early()
        if self.usage is not None:
            yield self.usage
        reason = FINISH_REASONS.get(self.finish_reason, self.finish_reason.lower())
        yield Finish("tool_calls" if reason == "stop" and self.has_tool_calls else reason)


def _parts(response: types.GenerateContentResponse) -> list[types.Part]:
    candidate = response.candidates[0] if response.candidates else None
    return list(candidate.content.parts or []) if candidate and candidate.content else []


def gemini_usage(metadata: types.GenerateContentResponseUsageMetadata | None) -> Usage:
    """promptTokenCount includes cached tokens; thoughts are counted apart from candidates."""
    if metadata is None:
        return Usage()
    cached = metadata.cached_content_token_count or 0
    reasoning = metadata.thoughts_token_count or 0
    return Usage(
        input_tokens=(metadata.prompt_token_count or 0) - cached,
        output_tokens=(metadata.candidates_token_count or 0) + reasoning,
        reasoning_tokens=reasoning,
        cache_read_tokens=cached,
        raw=metadata.model_dump(exclude_none=True, mode="json"),
    )


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    """Turn google-genai and httpx errors into classified ProviderErrors."""
    try:
        yield
    except ProviderError:
        raise
    except errors.APIError as exc:
        headers = getattr(exc.response, "headers", None)
        message = f"{exc.status or ''} {exc.message or exc}".strip()
        raise error_from_status(exc.code, message, headers) if exc.code else error_from_text(message) from exc
    except httpx.TimeoutException as exc:
        raise ProviderError("request to the provider timed out", kind="timeout", retryable=True) from exc
    except httpx.TransportError as exc:
        raise ProviderError(f"connection error: {exc}", kind="connection", retryable=True) from exc
    except (errors.UnknownApiResponseError, pydantic.ValidationError) as exc:
        raise malformed(str(exc)) from exc
