"""Classification, backoff and the retrying stream (reference §8.7)."""

from __future__ import annotations

import email.utils
from collections.abc import Iterator
from typing import Any

import pytest

from providers.interface import (
    Adapter,
    Finish,
    LLMRequest,
    ProviderError,
    StreamEvent,
    StreamHandle,
    StreamReset,
    TextDelta,
)
from providers.mockllm import MockLLMServer
from providers.retry import RetryingStream, backoff_delay, classify, parse_retry_after, stream_with_retry
from tests.providers.conftest import FLAVOURS, make_adapter, make_request, recorded, script


class Recorder:
    """Collects on_retry calls and fake sleeps, so no test really waits."""

    def __init__(self) -> None:
        self.retries: list[tuple[int, float, str]] = []
        self.sleeps: list[float] = []

    def on_retry(self, attempt: int, delay: float, error: ProviderError) -> None:
        self.retries.append((attempt, delay, error.kind))

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


class ScriptedAdapter(Adapter):
    """Each call plays the next script: a list of events, ending with an optional error."""

    def __init__(self, *scripts: list[Any]) -> None:
        self.scripts = list(scripts)
        self.calls = 0

    def stream_events(self, request: LLMRequest, handle: StreamHandle) -> Iterator[StreamEvent]:
        steps = self.scripts[min(self.calls, len(self.scripts) - 1)]
        self.calls += 1
        for step in steps:
            if isinstance(step, Exception):
                raise step
            yield step


def retryable(kind: str = "server_error", retry_after: float | None = None) -> ProviderError:
    return ProviderError("boom", kind=kind, retryable=True, retry_after=retry_after)


REQUEST = LLMRequest(model="m", messages=[])


@pytest.mark.parametrize(
    ("message", "status", "expected"),
    [
        ("Invalid API key provided", 401, ("auth", False)),
        ("You exceeded your current quota", 429, ("quota", False)),
        ("maximum context length is 8192 tokens", 400, ("context_exceeded", False)),
        ("model_not_found", 404, ("config", False)),
        ("Rate limit reached", 429, ("rate_limit", True)),
        ("internal", 500, ("server_error", True)),
        ("bad gateway", 502, ("server_error", True)),
        ("unavailable", 503, ("overloaded", True)),
        ("overloaded_error: Overloaded", 529, ("overloaded", True)),
        ("forbidden", 403, ("auth", False)),
        ("invalid request", 400, ("config", False)),
        ("connection reset by peer", None, ("connection", True)),
        ("unexpected eof", None, ("connection", True)),
        ("read timeout", None, ("timeout", True)),
        ("something odd", None, ("unknown", False)),
        ("context canceled", 500, ("unknown", False)),
    ],
)
def test_classify_checks_non_retryable_text_first(message: str, status: int | None, expected: tuple[str, bool]) -> None:
    assert classify(message, status) == expected


def test_backoff_doubles_from_one_second_up_to_sixty() -> None:
    assert [backoff_delay(i) for i in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert backoff_delay(1000) == 60


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("1.5") == 1.5
    date = email.utils.formatdate(1_000_010, usegmt=True)
    assert parse_retry_after(date, now=1_000_000) == pytest.approx(10.0)
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_retries_with_doubling_backoff_and_reports_each_retry() -> None:
    adapter = ScriptedAdapter([retryable()], [retryable()], [retryable()], [TextDelta("ok"), Finish("stop")])
    rec = Recorder()
    events = list(stream_with_retry(adapter, REQUEST, on_retry=rec.on_retry, sleep=rec.sleep))
    assert events == [TextDelta("ok"), Finish("stop")]
    assert rec.sleeps == [1, 2, 4]
    assert rec.retries == [(1, 1, "server_error"), (2, 2, "server_error"), (3, 4, "server_error")]


def test_retry_after_replaces_the_backoff() -> None:
    adapter = ScriptedAdapter([retryable("rate_limit", retry_after=9)], [Finish("stop")])
    rec = Recorder()
    list(stream_with_retry(adapter, REQUEST, on_retry=rec.on_retry, sleep=rec.sleep))
    assert rec.sleeps == [9]


def test_non_retryable_errors_are_raised_at_once() -> None:
    adapter = ScriptedAdapter([ProviderError("no", kind="auth", retryable=False)])
    rec = Recorder()
    with pytest.raises(ProviderError, match="no"):
        list(stream_with_retry(adapter, REQUEST, on_retry=rec.on_retry, sleep=rec.sleep))
    assert (adapter.calls, rec.sleeps) == (1, [])


def test_gives_up_after_max_attempts() -> None:
    adapter = ScriptedAdapter([retryable()])
    rec = Recorder()
    with pytest.raises(ProviderError):
        list(RetryingStream(adapter, REQUEST, on_retry=rec.on_retry, sleep=rec.sleep))
    assert adapter.calls == 25
    assert len(rec.sleeps) == 24


def test_an_error_after_partial_output_resets_the_step_before_retrying() -> None:
    adapter = ScriptedAdapter([TextDelta("par"), retryable()], [TextDelta("full"), Finish("stop")])
    rec = Recorder()
    events = list(stream_with_retry(adapter, REQUEST, on_retry=rec.on_retry, sleep=rec.sleep))
    assert events == [TextDelta("par"), StreamReset(attempt=1), TextDelta("full"), Finish("stop")]


def test_an_error_before_any_output_needs_no_reset() -> None:
    adapter = ScriptedAdapter([retryable()], [Finish("stop")])
    events = list(stream_with_retry(adapter, REQUEST, on_retry=Recorder().on_retry, sleep=Recorder().sleep))
    assert events == [Finish("stop")]


def test_close_during_backoff_ends_the_stream_quietly() -> None:
    adapter = ScriptedAdapter([retryable()])
    stream = RetryingStream(adapter, REQUEST, on_retry=lambda *_: stream.close())
    assert list(stream) == []
    assert adapter.calls == 1


@pytest.mark.parametrize("status", [429, 500, 529])
@pytest.mark.parametrize("flavour", ["openai", "anthropic", "google"])
def test_http_errors_are_retried_with_backoff(mockllm: MockLLMServer, flavour: str, status: int) -> None:
    script(mockllm, *[{"error": {"status": status}}] * 3, {"text": "finally"})
    rec = Recorder()
    stream = stream_with_retry(
        make_adapter(mockllm, flavour), make_request(flavour), on_retry=rec.on_retry, sleep=rec.sleep
    )
    events = list(stream)
    assert events[0] == TextDelta("fin") and events[-1] == Finish("stop")
    assert rec.sleeps == [1, 2, 4]
    assert len(recorded(mockllm)) == 4


@pytest.mark.parametrize("flavour", list(FLAVOURS))
def test_retry_after_header_is_honoured(mockllm: MockLLMServer, flavour: str) -> None:
    script(mockllm, {"error": {"status": 429, "retry_after": 3}}, {"text": "ok"})
    rec = Recorder()
    list(
        stream_with_retry(make_adapter(mockllm, flavour), make_request(flavour), on_retry=rec.on_retry, sleep=rec.sleep)
    )
    assert rec.sleeps == [3.0]
    assert rec.retries[0][2] == "rate_limit"


@pytest.mark.parametrize("flavour", list(FLAVOURS))
def test_401_is_not_retried(mockllm: MockLLMServer, flavour: str) -> None:
    rec = Recorder()
    adapter = make_adapter(mockllm, flavour, api_key="bad-key")
    with pytest.raises(ProviderError) as caught:
        list(stream_with_retry(adapter, make_request(flavour), on_retry=rec.on_retry, sleep=rec.sleep))
    assert caught.value.status_code == 401
    assert rec.sleeps == [] and len(recorded(mockllm)) == 1


@pytest.mark.parametrize("flavour", list(FLAVOURS))
def test_a_silent_stream_is_a_retryable_startup_timeout(mockllm: MockLLMServer, flavour: str) -> None:
    script(mockllm, {"text": "late", "stall_seconds": 2}, {"text": "on time"})
    rec = Recorder()
    adapter = make_adapter(mockllm, flavour)
    stream = stream_with_retry(
        adapter, make_request(flavour), on_retry=rec.on_retry, sleep=rec.sleep, first_chunk_timeout=0.3
    )
    events = list(stream)
    assert rec.retries == [(1, 1, "startup_timeout")]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "on time"
