"""A stream-hub listener for tests: what a chat's subscribers were handed, decoded."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from chats import stream_hub, streaming

DEADLINE_SECONDS = 10


class Collector:
    """Joins a chat on the running loop and keeps every event it is handed (thread-safe)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.batches = 0
        self.lost = False
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)

    def stream_events(self, first_seq: int, bodies: list[str]) -> None:
        with self._lock:
            self.events += [{**json.loads(body), "seq": first_seq + i} for i, body in enumerate(bodies)]
            self.batches += 1
            self._changed.notify_all()

    def stream_lost(self) -> None:
        with self._lock:
            self.lost = True
            self._changed.notify_all()

    def wait(self, count: int) -> list[dict[str, Any]]:
        """Block (a thread, not a loop) until `count` events arrived; returns them."""
        with self._lock:
            if not self._changed.wait_for(lambda: len(self.events) >= count, timeout=DEADLINE_SECONDS):
                raise AssertionError(f"expected {count} events, got {self.events}")
            return list(self.events)

    async def until(self, count: int) -> list[dict[str, Any]]:
        """On a loop: wait until `count` events arrived (or the feed was lost); returns them."""
        async with asyncio.timeout(DEADLINE_SECONDS):
            while len(self.events) < count and not self.lost:
                await asyncio.sleep(0.005)
        return list(self.events)


async def joined(chat_id: Any) -> Collector:
    collector = Collector()
    await stream_hub.join(chat_id, collector)
    return collector


def published() -> None:
    """Everything submitted to this process's publisher so far has gone out."""
    done = threading.Event()
    streaming.call_after_publishing(done.set)
    assert done.wait(DEADLINE_SECONDS)
