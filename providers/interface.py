"""Neutral types at the provider boundary.

Adapters translate between these dataclasses and vendor SDKs; no SDK object ever
crosses this boundary, so the chat loop and its tests depend on nothing vendor-specific.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ProviderSettings:
    kind: str
    api_key: str
    base_url: str = ""


@dataclass
class PromptMessage:
    """One prompt message; `parts` use the stored part shape (see chats/parts)."""

    role: str
    parts: list[dict[str, Any]]


@dataclass(frozen=True)
class ToolDefinition:
    """A tool the model may call. `native` names a vendor-defined tool it stands for (e.g.
    `{"type": "computer", "display_width_px": …, "display_height_px": …}`): adapters that know
    it send their own definition, the others send `parameters` as an ordinary function."""

    name: str
    description: str
    parameters: dict[str, Any]
    native: dict[str, Any] | None = None


@dataclass
class LLMRequest:
    model: str
    messages: list[PromptMessage]
    tools: list[ToolDefinition] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    max_output_tokens: int = 32000
    tool_choice: str = "auto"


# --- stream events -------------------------------------------------------------


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ReasoningDelta:
    text: str
    signature: str = ""


@dataclass(frozen=True)
class ToolCallStart:
    id: str
    name: str


@dataclass(frozen=True)
class ToolCallArgsDelta:
    id: str
    delta: str


@dataclass(frozen=True)
class ToolCallComplete:
    id: str
    name: str
    args: dict[str, Any]
    provider_executed: bool = False


@dataclass(frozen=True)
class ProviderToolResult:
    """Result of a tool the provider ran itself (web search); stays in the assistant message."""

    id: str
    name: str
    result: Any
    is_error: bool = False


@dataclass(frozen=True)
class Source:
    url: str
    title: str = ""


@dataclass(frozen=True)
class Usage:
    """Token counts, normalised across vendors.

    `input_tokens` excludes cache reads and writes; `output_tokens` includes
    `reasoning_tokens`, which are reported separately for display only.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Finish:
    """stop | tool_calls | length | content_filter, or PAUSED."""

    reason: str


# The provider paused its own long server-side tool loop (Anthropic `pause_turn`): the turn
# goes on with a request that ends with the paused answer, and no new user message.
PAUSED = "pause"


@dataclass(frozen=True)
class StreamReset:
    """Emitted by the retry layer before retrying a stream that already produced events:
    the consumer must drop everything it accumulated for the current step."""

    attempt: int


StreamEvent = (
    TextDelta
    | ReasoningDelta
    | ToolCallStart
    | ToolCallArgsDelta
    | ToolCallComplete
    | ProviderToolResult
    | Source
    | Usage
    | Finish
    | StreamReset
)


@dataclass(frozen=True)
class Completion:
    text: str
    usage: Usage


class ProviderError(Exception):
    """A failed provider call; `retryable` says whether trying again can help.

    kind: rate_limit | overloaded | server_error | auth | config | context_exceeded |
    quota | timeout | startup_timeout | connection | malformed | unknown.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str = "unknown",
        retryable: bool = False,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.retryable = retryable
        self.status_code = status_code
        self.retry_after = retry_after

    def as_dict(self) -> dict[str, Any]:
        """The payload of an `error` event (API.md §8)."""
        return {
            "message": self.message,
            "kind": self.kind,
            "retryable": self.retryable,
            "status_code": self.status_code,
        }


# --- streams and adapters ------------------------------------------------------


class _End:
    """Queue sentinel: the producer finished normally."""


class StreamHandle:
    """Lets a producer register how to abort its connection, and see that it should stop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._abort: Callable[[], None] | None = None
        self.closed = threading.Event()

    def attach(self, abort: Callable[[], None]) -> None:
        with self._lock:
            self._abort = abort
        if self.closed.is_set():
            abort()

    def abort(self) -> None:
        self.closed.set()
        with self._lock:
            abort = self._abort
        if abort is not None:
            abort()


class ModelStream:
    """Events of one model call.

    The first event is read on a background thread, so that the retry layer can wait for it
    with a timeout even while the call is still connecting, and so that `close()` ends that
    wait at once. The rest are read on the caller's thread: a delta costs no hand-off between
    threads. `close()` (any thread) aborts the connection, which makes a blocked read return;
    iteration then ends quietly.
    """

    def __init__(self, produce: Callable[[StreamHandle], Iterator[StreamEvent]]) -> None:
        self._handle = StreamHandle()
        self._events = produce(self._handle)
        self._first: queue.Queue[Any] = queue.Queue()
        self._started = False  # the first event was taken: the caller's thread reads on
        threading.Thread(target=lambda: self._first.put(self._next()), daemon=True).start()

    def _next(self) -> Any:
        """The producer's next event, _End at its end, or the exception it raised."""
        try:
            return next(self._events)
        except StopIteration:
            return _End()
        except BaseException as exc:  # handed to the consumer
            return exc

    def next_event(self, timeout: float | None = None) -> StreamEvent | None:
        """The next event, or None at the end. Raises ProviderError, or `queue.Empty`
        when `timeout` passes with no first event (`timeout` bounds only the first)."""
        if self._handle.closed.is_set():
            return None
        if self._started:
            item = self._next()
        else:
            item = self._first.get(timeout=timeout)
            self._started = True
        if isinstance(item, _End) or self._handle.closed.is_set():
            return None
        if isinstance(item, BaseException):
            raise item
        return item  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[StreamEvent]:
        while (event := self.next_event()) is not None:
            yield event

    def close(self) -> None:
        """Abort the call; safe from any thread, idempotent."""
        self._handle.abort()
        self._first.put(_End())  # a wait for the first event ends now, even mid-connect


class Adapter:
    """One vendor behind the neutral interface."""

    def stream(self, request: LLMRequest) -> ModelStream:
        return ModelStream(lambda handle: self.stream_events(request, handle))

    def stream_events(self, request: LLMRequest, handle: StreamHandle) -> Iterator[StreamEvent]:
        """Yield the call's events; raise ProviderError on failure; `handle.attach`
        the connection's abort as soon as it exists."""
        raise NotImplementedError

    def complete(self, request: LLMRequest) -> Completion:
        """A non-streaming call (titles, summaries)."""
        raise NotImplementedError
