"""Error classification and retry with backoff for model calls (reference §8.7).

Retry policy: every retryable error is retried, wherever it happens in the stream.
When the failed attempt had already handed events to the consumer, a `StreamReset`
event comes first so the consumer drops the partial step before the new attempt.
"""

from __future__ import annotations

import email.utils
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from providers.interface import (
    Adapter,
    LLMRequest,
    ModelStream,
    ProviderError,
    StreamEvent,
    StreamReset,
)

MAX_DELAY_S = 60.0
MAX_ATTEMPTS = 25
FIRST_CHUNK_TIMEOUT_S = 60.0
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 529})
NON_RETRYABLE_STATUSES = frozenset({400, 401, 403})

# (pattern, kind); checked in order against the lower-cased error text.
_NON_RETRYABLE_PATTERNS = (
    ("context canceled", "unknown"),
    ("context deadline exceeded", "timeout"),
    ("authentication", "auth"),
    ("unauthorized", "auth"),
    ("forbidden", "auth"),
    ("invalid api key", "auth"),
    ("invalid_api_key", "auth"),
    ("invalid model", "config"),
    ("model not found", "config"),
    ("model_not_found", "config"),
    ("context length exceeded", "context_exceeded"),
    ("context_exceeded", "context_exceeded"),
    ("maximum context length", "context_exceeded"),
    ("quota", "quota"),
    ("billing", "quota"),
)
_RETRYABLE_PATTERNS = (
    ("overloaded", "overloaded"),
    ("rate limit", "rate_limit"),
    ("rate_limit", "rate_limit"),
    ("too many requests", "rate_limit"),
    ("server error", "server_error"),
    ("status 500", "server_error"),
    ("status 502", "server_error"),
    ("status 503", "server_error"),
    ("status 529", "overloaded"),
    ("connection reset", "connection"),
    ("connection refused", "connection"),
    ("eof", "connection"),
    ("broken pipe", "connection"),
    ("timeout", "timeout"),
    ("timed out", "timeout"),
    ("unavailable", "overloaded"),
)
_STATUS_KINDS = {
    400: "config",
    401: "auth",
    402: "quota",
    403: "auth",
    404: "config",
    408: "timeout",
    413: "context_exceeded",
    429: "rate_limit",
    529: "overloaded",
    503: "overloaded",
}


def classify(message: str, status_code: int | None = None) -> tuple[str, bool]:
    """(kind, retryable) for an error text and optional HTTP status.

    Non-retryable text wins over everything; then retryable statuses; then statuses
    known to be permanent; then retryable text. Anything else is not retried.
    """
    text = message.lower()
    for pattern, kind in _NON_RETRYABLE_PATTERNS:
        if pattern in text:
            return kind, False
    status_kind = _status_kind(status_code)
    if status_code in RETRYABLE_STATUSES:
        return status_kind, True
    if status_code in NON_RETRYABLE_STATUSES:
        return status_kind, False
    for pattern, kind in _RETRYABLE_PATTERNS:
        if pattern in text:
            return (status_kind if status_code else kind), True
    return status_kind, False


def _status_kind(status_code: int | None) -> str:
    if status_code is None:
        return "unknown"
    if status_code in _STATUS_KINDS:
        return _STATUS_KINDS[status_code]
    return "server_error" if status_code >= 500 else "unknown"


def error_from_status(status_code: int, message: str, headers: Any = None) -> ProviderError:
    """A classified ProviderError for an HTTP error response."""
    kind, retryable = classify(f"status {status_code}: {message}", status_code)
    return ProviderError(
        message or f"HTTP {status_code}",
        kind=kind,
        retryable=retryable,
        status_code=status_code,
        retry_after=parse_retry_after(headers.get("retry-after") if headers else None),
    )


def error_from_text(message: str, *, default_kind: str = "unknown") -> ProviderError:
    """A classified ProviderError for a failure without an HTTP status (network, stream)."""
    kind, retryable = classify(message)
    return ProviderError(message, kind=default_kind if kind == "unknown" else kind, retryable=retryable)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_delay(retry_index: int) -> float:
    """min(1 s * 2^i, 60 s) for the i-th retry (0-based): 1, 2, 4, … 60."""
    return min(2.0 ** min(retry_index, 16), MAX_DELAY_S)


def retry_delay(error: ProviderError, retry_index: int) -> float:
    """The wait before the i-th retry (0-based): the provider's Retry-After, else backoff_delay."""
    return error.retry_after if error.retry_after is not None else backoff_delay(retry_index)


OnRetry = Callable[[int, float, ProviderError], None]


class RetryingStream:
    """A model stream that retries retryable failures with backoff.

    Iterate it for events. `on_retry(attempt, delay_s, error)` is called before each
    wait (attempt is 1-based). `close()` (any thread) stops the in-flight call and any
    wait; iteration then ends quietly. `sleep` is injectable for tests; the default
    wait is cut short by `close()`.
    """

    def __init__(
        self,
        adapter: Adapter,
        request: LLMRequest,
        *,
        on_retry: OnRetry,
        sleep: Callable[[float], None] | None = None,
        first_chunk_timeout: float = FIRST_CHUNK_TIMEOUT_S,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self._adapter = adapter
        self._request = request
        self._on_retry = on_retry
        self._stopped = threading.Event()
        self._sleep = sleep or (lambda seconds: self._stopped.wait(seconds))
        self._first_chunk_timeout = first_chunk_timeout
        self._max_attempts = max_attempts
        self._lock = threading.Lock()
        self._current: ModelStream | None = None

    def close(self) -> None:
        self._stopped.set()
        with self._lock:
            current = self._current
        if current is not None:
            current.close()

    def __iter__(self) -> Iterator[StreamEvent]:
        attempt = 0
        while not self._stopped.is_set():
            attempt += 1
            yielded = False
            try:
                for event in self._attempt():
                    yielded = True
                    yield event
                return
            except ProviderError as error:
                if not error.retryable or attempt >= self._max_attempts or self._stopped.is_set():
                    raise
                if yielded:
                    yield StreamReset(attempt=attempt)
                delay = retry_delay(error, attempt - 1)
                self._on_retry(attempt, delay, error)
                self._sleep(delay)

    def _attempt(self) -> Iterator[StreamEvent]:
        stream = self._adapter.stream(self._request)
        with self._lock:
            self._current = stream
        if self._stopped.is_set():
            stream.close()
        try:
            first = self._first_event(stream)
            if first is None:
                return
            yield first
            yield from stream
        finally:
            stream.close()

    def _first_event(self, stream: ModelStream) -> StreamEvent | None:
        try:
            return stream.next_event(timeout=self._first_chunk_timeout)
        except queue.Empty:
            raise ProviderError(
                f"no response from the model within {self._first_chunk_timeout:g} s",
                kind="startup_timeout",
                retryable=True,
            ) from None


def stream_with_retry(adapter: Adapter, request: LLMRequest, *, on_retry: OnRetry, **kwargs: Any) -> RetryingStream:
    """Shorthand for `RetryingStream(adapter, request, on_retry=…, …)`."""
    return RetryingStream(adapter, request, on_retry=on_retry, **kwargs)
