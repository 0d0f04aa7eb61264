"""Publishing a chat's events: a lone delta goes out at once, deltas inside the window wait and go together."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Coroutine, Iterator
from typing import Any

import pytest

from chats import streaming
from tests.chats.streams import joined

pytestmark = [pytest.mark.core]


@pytest.fixture
def publisher_loop(monkeypatch: pytest.MonkeyPatch) -> Iterator[asyncio.AbstractEventLoop]:
    """A publisher on a loop of its own (as `serve` binds its loop), dropped afterwards."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="test-publisher", daemon=True)
    thread.start()
    monkeypatch.setattr(streaming, "_publisher", None)

    async def bind() -> None:
        streaming.bind_loop(asyncio.get_running_loop())

    async def shut_down() -> None:
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run_coroutine_threadsafe(bind(), loop).result(timeout=10)
    yield loop
    asyncio.run_coroutine_threadsafe(shut_down(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()


def _delta(chat_id: uuid.UUID, text: str) -> dict[str, Any]:
    part = {"type": "text", "text": text}
    return {"type": "message_part", "chat_id": str(chat_id), "role": "assistant", "part": part}


def test_a_lone_delta_goes_out_at_once_and_later_ones_wait_for_the_window(
    publisher_loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streaming, "COALESCE_SECONDS", 3600.0)  # a window that never closes by itself

    def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, publisher_loop).result(timeout=10)

    chat_id = uuid.uuid4()
    subscriber = run(joined(chat_id))

    streaming.publish_chat_events(chat_id, [_delta(chat_id, "a")])
    assert [e["part"]["text"] for e in subscriber.wait(1)] == ["a"]

    streaming.publish_chat_events(chat_id, [_delta(chat_id, "b")])
    streaming.publish_chat_events(chat_id, [_delta(chat_id, "c")])
    status = {"type": "status", "chat_id": str(chat_id), "status": "waiting", "last_error": None, "recovered": False}
    streaming.publish_chat_events(chat_id, [status])  # not a delta: flushes at once, held deltas first
    received = subscriber.wait(4)
    assert [e.get("part", {}).get("text", e["type"]) for e in received] == ["a", "b", "c", "status"]
    assert [e["seq"] for e in received] == [1, 2, 3, 4]
    assert subscriber.batches == 2  # b, c and the status went together
