"""Publishing a chat's events: a lone delta goes out at once, deltas inside the window wait and go together."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis
from django.conf import settings

from chats import stream_hub, streaming
from config.env import redis_db
from tests.chats.streams import joined, published

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
        await stream_hub.close()
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


def _watching(chat_id: uuid.UUID) -> tuple[streaming.ControlWatch, threading.Event]:
    pinged = threading.Event()
    return streaming.watch_control(chat_id, pinged.set), pinged


def test_a_control_ping_reaches_every_watch_of_its_chat_and_no_other(
    publisher_loop: asyncio.AbstractEventLoop,
) -> None:
    chat, other = uuid.uuid4(), uuid.uuid4()
    (first, first_pinged), (second, second_pinged) = _watching(chat), _watching(chat)
    bystander, bystander_pinged = _watching(other)

    streaming.publish_control(chat)
    assert first_pinged.wait(10) and second_pinged.wait(10)

    first.stop()
    first_pinged.clear()
    second_pinged.clear()
    streaming.publish_control(chat)
    assert second_pinged.wait(10)
    published()
    assert not first_pinged.is_set() and not bystander_pinged.is_set()
    second.stop()
    bystander.stop()


def _redis_admin() -> redis.Redis:
    return redis.Redis.from_url(redis_db(settings.REDIS_URL, stream_hub.STATE_DB))


@pytest.mark.distributed
def test_hundreds_of_watches_share_one_redis_connection(publisher_loop: asyncio.AbstractEventLoop) -> None:
    """Runs claimed at once (500 on one worker in the benchmark) must not each take a connection:
    one per watch exhausted the pool, and the runs failed before claiming their chats."""
    admin = _redis_admin()
    before = len(admin.client_list())
    with ThreadPoolExecutor(max_workers=100) as pool:
        watches = list(pool.map(lambda _: streaming.watch_control(uuid.uuid4(), lambda: None), range(500)))
    assert len(admin.client_list()) - before <= 1  # this loop's one pub/sub connection
    for watch in watches:
        watch.stop()
    admin.close()


@pytest.mark.distributed
def test_a_watch_subscribes_again_after_its_connection_drops_and_checks_at_once(
    publisher_loop: asyncio.AbstractEventLoop,
) -> None:
    chat = uuid.uuid4()
    watch, pinged = _watching(chat)
    admin = _redis_admin()
    for client in admin.client_list(_type="pubsub"):
        if client["name"] == stream_hub.client_name():
            admin.client_kill_filter(_id=client["id"])

    assert pinged.wait(10)  # subscribed again; a ping may have been missed meanwhile
    pinged.clear()
    streaming.publish_control(chat)
    assert pinged.wait(10)
    watch.stop()
    admin.close()
