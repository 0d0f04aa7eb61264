"""What a model stream may carry on the wire, through every adapter that reads SSE: errors
reported inside a 200 stream, and legal but unusual framing (CRLF, comments, multi-line data)."""

from __future__ import annotations

import pytest

from providers.interface import ProviderError, StreamEvent, TextDelta
from providers.mockllm import MockLLMServer
from tests.providers.conftest import make_adapter, make_request, of_type, script

SSE_FLAVOURS = ["openai", "openai_compatible", "anthropic", "openai_responses"]  # Gemini's SDK reads its own
pytestmark = [pytest.mark.core, pytest.mark.parametrize("flavour", SSE_FLAVOURS)]


def read_until_error(server: MockLLMServer, flavour: str) -> tuple[list[StreamEvent], ProviderError]:
    received: list[StreamEvent] = []
    with pytest.raises(ProviderError) as caught:
        for event in make_adapter(server, flavour).stream(make_request(flavour)):
            received.append(event)
    return received, caught.value


def test_an_error_inside_the_stream_is_a_retryable_error_of_its_kind(mockllm: MockLLMServer, flavour: str) -> None:
    script(mockllm, {"text": ["a", "b", "c", "d"], "stream_error": {"status": 529, "message": "Overloaded"}})
    received, error = read_until_error(mockllm, flavour)
    assert of_type(received, TextDelta)  # what came before the error was passed on
    assert (error.kind, error.retryable, error.status_code) == ("overloaded", True, None)
    assert error.message == ("overloaded_error: Overloaded" if flavour == "anthropic" else "Overloaded")


def test_a_permanent_error_inside_the_stream_is_not_retryable(mockllm: MockLLMServer, flavour: str) -> None:
    message = "This model's maximum context length is 8192 tokens"
    script(mockllm, {"text": ["a", "b"], "stream_error": {"status": 400, "message": message}})
    _, error = read_until_error(mockllm, flavour)
    assert (error.kind, error.retryable) == ("context_exceeded", False)
    assert error.message.endswith(message)


def test_crlf_comments_and_multiline_data_read_like_plain_sse(mockllm: MockLLMServer, flavour: str) -> None:
    reply = {
        "reasoning": ["Let me ", "think"],
        "signature": "sig-1",
        "text": ["Hel", "lo"],
        "tool_calls": [{"id": "call_1", "name": "read_file", "args_chunks": ['{"pa', 'th": "a.txt"}']}],
        "usage": {"input_tokens": 10, "output_tokens": 5, "cache_read_tokens": 2},
    }
    script(mockllm, reply, {**reply, "quirks": ["crlf", "comments", "multiline_data"]})
    adapter = make_adapter(mockllm, flavour)
    plain = list(adapter.stream(make_request(flavour)))
    quirky = list(adapter.stream(make_request(flavour)))
    assert quirky == plain
    assert len(of_type(plain, TextDelta)) == 2


def test_a_stream_cut_short_with_crlf_and_comments_is_retryable(mockllm: MockLLMServer, flavour: str) -> None:
    script(mockllm, {"text": ["a", "b", "c", "d"], "truncate": True, "quirks": ["crlf", "comments"]})
    _, error = read_until_error(mockllm, flavour)
    assert (error.kind, error.retryable) == ("malformed", True)


def test_a_connection_dropped_mid_stream_is_a_retryable_connection_error(mockllm: MockLLMServer, flavour: str) -> None:
    script(mockllm, {"text": ["a", "b", "c", "d"], "disconnect": True})
    received, error = read_until_error(mockllm, flavour)
    assert of_type(received, TextDelta)
    assert (error.kind, error.retryable) == ("connection", True)
