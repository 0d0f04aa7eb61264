"""Stopping a run from another thread: interrupts, takeovers and worker shutdown."""

from __future__ import annotations

import enum
import threading
from typing import Protocol


class CancelReason(enum.Enum):
    INTERRUPT = "interrupt"  # the user stopped it: keep the partial answer, end `waiting`
    SUPERSEDED = "superseded"  # edited, taken over or errored elsewhere: write nothing more
    SHUTDOWN = "shutdown"  # this worker is stopping: release to `pending` with no error


class Closeable(Protocol):
    def close(self) -> None: ...


class RunControl:
    """Shared by a run and whoever may stop it. The first reason given wins.

    `event` doubles as the tools' cancellation flag; cancelling also closes the model stream
    in flight, so a run notices within one chunk even if the model is silent.
    """

    def __init__(self) -> None:
        self.event = threading.Event()
        self.reason: CancelReason | None = None
        self._lock = threading.Lock()
        self._stream: Closeable | None = None

    @property
    def cancelled(self) -> bool:
        return self.event.is_set()

    def cancel(self, reason: CancelReason) -> None:
        with self._lock:
            if self.reason is None:
                self.reason = reason
            stream = self._stream
        self.event.set()
        if stream is not None:
            stream.close()

    def attach(self, stream: Closeable) -> None:
        with self._lock:
            self._stream = stream
        if self.event.is_set():
            stream.close()

    def detach(self) -> None:
        with self._lock:
            self._stream = None
