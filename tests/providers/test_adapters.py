"""Every adapter, driven through mockllm over real HTTP with the official SDK."""

from __future__ import annotations

import threading
import time

import pytest

from providers.interface import (
    Finish,
    ProviderError,
    ReasoningDelta,
    TextDelta,
    ToolCallArgsDelta,
    ToolCallComplete,
    ToolCallStart,
    Usage,
)
from providers.mockllm import MockLLMServer
from providers.useragent import user_agent
from tests.providers.conftest import FLAVOURS, make_adapter, make_request, of_type, recorded, script

pytestmark = pytest.mark.parametrize("flavour", list(FLAVOURS))


def test_streams_text_in_chunks(mockllm: MockLLMServer, flavour: str) -> None:
    script(mockllm, {"text": ["Hel", "lo ", "world"]})
    events = list(make_adapter(mockllm, flavour).stream(make_request(flavour)))
    assert [e.text for e in of_type(events, TextDelta)] == ["Hel", "lo ", "world"]
    assert events[-1] == Finish("stop")


def test_streams_reasoning_before_text(mockllm: MockLLMServer, flavour: str) -> None:
    script(mockllm, {"reasoning": ["Let me ", "think"], "signature": "sig-1", "text": "Done"})
    events = list(make_adapter(mockllm, flavour).stream(make_request(flavour)))
    reasoning = of_type(events, ReasoningDelta)
    assert "".join(r.text for r in reasoning) == "Let me think"
    assert events.index(reasoning[0]) < events.index(of_type(events, TextDelta)[0])
    if flavour == "anthropic":
        assert [r.signature for r in reasoning if r.signature] == ["sig-1"]


def test_streams_a_tool_call_with_split_arguments(mockllm: MockLLMServer, flavour: str) -> None:
    script(
        mockllm, {"tool_calls": [{"id": "call_1", "name": "read_file", "args_chunks": ['{"pa', 'th": "a', '.txt"}']}]}
    )
    events = list(make_adapter(mockllm, flavour).stream(make_request(flavour)))
    assert of_type(events, ToolCallStart) == [ToolCallStart("call_1", "read_file")]
    assert "".join(d.delta for d in of_type(events, ToolCallArgsDelta)).replace(" ", "") == '{"path":"a.txt"}'
    if flavour != "google":  # Gemini sends arguments whole
        assert len(of_type(events, ToolCallArgsDelta)) == 3
    assert of_type(events, ToolCallComplete) == [ToolCallComplete("call_1", "read_file", {"path": "a.txt"})]
    assert events[-1] == Finish("tool_calls")


def test_streams_two_parallel_tool_calls(mockllm: MockLLMServer, flavour: str) -> None:
    calls = [{"id": f"call_{n}", "name": "read_file", "arguments": {"path": f"{n}.txt"}} for n in (1, 2)]
    script(mockllm, {"text": "Reading both.", "tool_calls": calls})
    events = list(make_adapter(mockllm, flavour).stream(make_request(flavour)))
    complete = of_type(events, ToolCallComplete)
    assert [(c.id, c.args) for c in complete] == [("call_1", {"path": "1.txt"}), ("call_2", {"path": "2.txt"})]
    assert events[-1] == Finish("tool_calls")


def test_reports_normalised_usage_with_cache_tokens(mockllm: MockLLMServer, flavour: str) -> None:
    usage = {"input_tokens": 100, "output_tokens": 40, "reasoning_tokens": 10, "cache_read_tokens": 30}
    if flavour == "anthropic":
        usage["cache_write_tokens"] = 20
    script(mockllm, {"text": "ok", "usage": usage})
    events = list(make_adapter(mockllm, flavour).stream(make_request(flavour)))
    (reported,) = of_type(events, Usage)
    assert reported.input_tokens == 100
    assert reported.output_tokens == 40
    assert reported.cache_read_tokens == 30
    assert reported.cache_write_tokens == usage.get("cache_write_tokens", 0)
    assert reported.reasoning_tokens == (0 if flavour == "anthropic" else 10)  # Anthropic does not split them out
    assert reported.raw


def test_sends_the_chatd_user_agent(mockllm: MockLLMServer, flavour: str) -> None:
    list(make_adapter(mockllm, flavour).stream(make_request(flavour)))
    (seen,) = recorded(mockllm)
    assert seen["headers"]["user-agent"] == user_agent()
    assert user_agent().startswith("chatd/0.1.0 (")


def test_malformed_sse_is_a_clear_provider_error(mockllm: MockLLMServer, flavour: str) -> None:
    script(mockllm, {"text": "never", "malformed": True})
    with pytest.raises(ProviderError) as caught:
        list(make_adapter(mockllm, flavour).stream(make_request(flavour)))
    assert caught.value.kind == "malformed"
    assert "malformed" in caught.value.message


def test_a_stream_cut_short_is_a_retryable_error(mockllm: MockLLMServer, flavour: str) -> None:
    script(mockllm, {"text": ["a", "b", "c", "d"], "truncate": True})
    with pytest.raises(ProviderError) as caught:
        list(make_adapter(mockllm, flavour).stream(make_request(flavour)))
    assert caught.value.retryable


def test_bad_api_key_is_a_non_retryable_auth_error(mockllm: MockLLMServer, flavour: str) -> None:
    with pytest.raises(ProviderError) as caught:
        list(make_adapter(mockllm, flavour, api_key="bad-key").stream(make_request(flavour)))
    assert (caught.value.kind, caught.value.retryable, caught.value.status_code) == ("auth", False, 401)


def test_http_429_carries_status_and_retry_after(mockllm: MockLLMServer, flavour: str) -> None:
    script(mockllm, {"error": {"status": 429, "message": "slow down", "retry_after": 7}})
    with pytest.raises(ProviderError) as caught:
        list(make_adapter(mockllm, flavour).stream(make_request(flavour)))
    assert (caught.value.kind, caught.value.retryable, caught.value.retry_after) == ("rate_limit", True, 7.0)


def test_complete_returns_text_and_usage(mockllm: MockLLMServer, flavour: str) -> None:
    script(mockllm, {"text": "A short title", "usage": {"input_tokens": 12, "output_tokens": 3}})
    completion = make_adapter(mockllm, flavour).complete(make_request(flavour, tool_choice="none"))
    assert completion.text == "A short title"
    assert (completion.usage.input_tokens, completion.usage.output_tokens) == (12, 3)
    assert recorded(mockllm)[0]["body"].get("stream") in (None, False)


def test_close_from_another_thread_ends_a_slow_stream_at_once(mockllm: MockLLMServer, flavour: str) -> None:
    script(mockllm, {"slow": {"chunks": 200, "delay_ms": 50}})
    stream = make_adapter(mockllm, flavour).stream(make_request(flavour))
    received = []
    threading.Timer(0.3, stream.close).start()
    started = time.monotonic()
    for event in stream:
        received.append(event)
    assert time.monotonic() - started < 2
    assert 0 < len(of_type(received, TextDelta)) < 200
