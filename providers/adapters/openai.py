"""OpenAI adapter: Chat Completions, or the Responses API when `use_responses_api` is set.

The OpenAI-compatible adapter reuses this class with a base URL and the wire
differences of third-party servers (`compatible=True`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import openai
import pydantic

from providers.adapters import openai_responses
from providers.adapters.common import (
    abort_response,
    data_url,
    dump_args,
    file_as_text,
    is_text_file,
    malformed,
    parse_args,
    stream_ended_early,
    untransformed,
    without_none,
)
from providers.adapters.convert import message_text, repair_history, result_text
from providers.adapters.openai_stream import error_message, stream_data
from providers.interface import (
    Adapter,
    Completion,
    Finish,
    LLMRequest,
    PromptMessage,
    ProviderError,
    ReasoningDelta,
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

FINISH_REASONS = {"stop": "stop", "tool_calls": "tool_calls", "function_call": "tool_calls", "length": "length"}
SAMPLING_OPTIONS = ("temperature", "top_p", "presence_penalty", "frequency_penalty")
BULKY = ("messages", "tools")  # sent as they are (see common.untransformed)


class OpenAIAdapter(Adapter):
    def __init__(self, api_key: str, base_url: str = "", *, compatible: bool = False) -> None:
        self.compatible = compatible
        self.client = openai.OpenAI(
            api_key=api_key or "unset",
            base_url=base_url or None,
            max_retries=0,
            default_headers={"User-Agent": user_agent()},
        )

    def stream_events(self, request: LLMRequest, handle: StreamHandle) -> Iterator[StreamEvent]:
        with translate_errors():
            if request.options.get("use_responses_api"):
                yield from openai_responses.stream_events(self.client, request, handle)
                return
            # The SDK sends the request and raises status errors; the body is read as plain
            # dicts (see providers.adapters.sse).
            create = self.client.chat.completions.with_streaming_response.create
            with create(**self._kwargs(request), stream=True) as raw:
                response = raw.http_response
                handle.attach(lambda: abort_response(response))
                yield from _chat_events(stream_data(response))

    def complete(self, request: LLMRequest) -> Completion:
        with translate_errors():
            if request.options.get("use_responses_api"):
                return openai_responses.complete(self.client, request)
            response = self.client.chat.completions.create(**self._kwargs(request))
        text = response.choices[0].message.content or "" if response.choices else ""
        return Completion(text=text, usage=chat_usage(response.usage))

    def _kwargs(self, request: LLMRequest) -> dict[str, Any]:
        return untransformed(self._params(request), BULKY, required=("messages",))

    def _params(self, request: LLMRequest) -> dict[str, Any]:
        options = request.options
        params: dict[str, Any] = {
            "model": request.model,
            "messages": chat_messages(request.messages),
            "stream_options": {"include_usage": True},
        }
        params["max_tokens" if self.compatible else "max_completion_tokens"] = request.max_output_tokens
        params.update({key: options[key] for key in SAMPLING_OPTIONS if key in options})
        if options.get("reasoning_effort"):
            params["reasoning_effort"] = options["reasoning_effort"]
        if request.tools:
            params["tools"] = [
                {
                    "type": "function",
                    "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
                }
                for t in request.tools
            ]
            params["tool_choice"] = request.tool_choice
            if "parallel_tool_calls" in options:
                params["parallel_tool_calls"] = options["parallel_tool_calls"]
        return params


def _chat_events(chunks: Iterator[dict[str, Any]]) -> Iterator[StreamEvent]:
    calls: dict[int, dict[str, Any]] = {}
    finish_reason = None
    usage = None
    for chunk in chunks:
        if chunk.get("usage") is not None:
            usage = chat_usage(chunk["usage"])
        for choice in chunk.get("choices") or ():
            yield from _delta_events(choice.get("delta"), calls)
            finish_reason = choice.get("finish_reason") or finish_reason
    if finish_reason is None:
        raise stream_ended_early()
    for call in calls.values():
        yield ToolCallComplete(call["id"], call["name"], parse_args("".join(call["args"])))
    if usage is not None:
        yield usage
    yield Finish(FINISH_REASONS.get(finish_reason, finish_reason))


def _delta_events(delta: dict[str, Any] | None, calls: dict[int, dict[str, Any]]) -> Iterator[StreamEvent]:
    if not delta:
        return
    # OpenAI-compatible servers (DeepSeek, vLLM, Ollama…) stream reasoning under these names.
    reasoning = delta.get("reasoning_content") or delta.get("reasoning")
    if isinstance(reasoning, str) and reasoning:
        yield ReasoningDelta(reasoning)
    if delta.get("content"):
        yield TextDelta(delta["content"])
    for fragment in delta.get("tool_calls") or ():
        function = fragment.get("function") or {}
        call = calls.get(fragment.get("index"))
        if call is None:
            if not (fragment.get("id") and function.get("name")):
                raise malformed("tool call fragment without id or name")
            call = calls[fragment.get("index")] = {"id": fragment["id"], "name": function["name"], "args": []}
            yield ToolCallStart(call["id"], call["name"])
        if function.get("arguments"):
            call["args"].append(function["arguments"])
            yield ToolCallArgsDelta(call["id"], function["arguments"])


def chat_usage(usage: Any) -> Usage:
    """From the SDK's CompletionUsage or its JSON (streams are read as JSON). prompt_tokens
    include cached tokens; completion_tokens include reasoning tokens."""
    if usage is None:
        return Usage()
    raw = without_none(usage) if isinstance(usage, dict) else usage.model_dump(exclude_none=True)
    cached = (raw.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    return Usage(
        input_tokens=(raw.get("prompt_tokens") or 0) - cached,
        output_tokens=raw.get("completion_tokens") or 0,
        reasoning_tokens=(raw.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0,
        cache_read_tokens=cached,
        raw=raw,
    )


def chat_messages(messages: list[PromptMessage]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for message in repair_history(messages):
        if message.role == "system":
            out.append({"role": "system", "content": message_text(message)})
        elif message.role == "user":
            out.append({"role": "user", "content": _user_content(message)})
        elif message.role == "assistant":
            out.append(_assistant_message(message))
        else:
            out.extend(
                {"role": "tool", "tool_call_id": p["tool_call_id"], "content": result_text(p)}
                for p in message.parts
                if p["type"] == "tool_result"
            )
    return out


def _user_content(message: PromptMessage) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = []
    for part in message.parts:
        if part["type"] == "text":
            content.append({"type": "text", "text": part["text"]})
        elif part["type"] == "file" and is_text_file(part):
            content.append({"type": "text", "text": file_as_text(part)})
        elif part["type"] == "file" and part["media_type"].startswith("image/"):
            content.append({"type": "image_url", "image_url": {"url": data_url(part)}})
        elif part["type"] == "file":
            content.append(
                {"type": "file", "file": {"filename": part.get("name") or "file", "file_data": data_url(part)}}
            )
    return content


def _assistant_message(message: PromptMessage) -> dict[str, Any]:
    """Reasoning and provider-executed parts cannot be replayed through Chat Completions."""
    result: dict[str, Any] = {"role": "assistant", "content": message_text(message) or None}
    calls = [p for p in message.parts if p["type"] == "tool_call" and not p.get("provider_executed")]
    if calls:
        result["tool_calls"] = [
            {
                "id": p["tool_call_id"],
                "type": "function",
                "function": {"name": p["tool_name"], "arguments": dump_args(p["args"])},
            }
            for p in calls
        ]
    return result


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    """Turn OpenAI SDK and wire errors into classified ProviderErrors."""
    try:
        yield
    except ProviderError:
        raise
    except openai.APIStatusError as exc:
        raise error_from_status(exc.status_code, _message(exc), exc.response.headers) from exc
    except openai.APITimeoutError as exc:
        raise ProviderError("request to the provider timed out", kind="timeout", retryable=True) from exc
    except openai.APIConnectionError as exc:
        raise ProviderError(f"connection error: {exc.__cause__ or exc}", kind="connection", retryable=True) from exc
    except openai.APIError as exc:  # an error event inside a stream
        raise error_from_text(_message(exc)) from exc
    except (json.JSONDecodeError, pydantic.ValidationError) as exc:  # undecodable or invalid SSE data
        raise malformed(str(exc)) from exc


def _message(exc: openai.APIError) -> str:
    return error_message(exc.body, exc.message)
