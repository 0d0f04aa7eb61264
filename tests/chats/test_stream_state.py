"""Stream state and hub: numbering, the in-flight buffer and delivery to subscribers, in order.

Runs against Redis in distributed mode (the script that numbers a batch also publishes it) and
against process memory in embedded mode.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from chats import stream_hub
from chats.stream_state import Publish, SetBase, stream_state
from tests.chats.streams import joined

pytestmark = [pytest.mark.core]


def _delta(chat_id: uuid.UUID, text: str) -> dict[str, Any]:
    part = {"type": "text", "text": text}
    return {"type": "message_part", "chat_id": str(chat_id), "role": "assistant", "part": part}


def _status(chat_id: uuid.UUID, status: str) -> dict[str, Any]:
    return {"type": "status", "chat_id": str(chat_id), "status": status, "last_error": None, "recovered": False}


def _message(chat_id: uuid.UUID, message_id: int) -> dict[str, Any]:
    message = {"id": message_id, "role": "assistant", "parts": [{"type": "text", "text": "ab"}]}
    return {"type": "message", "chat_id": str(chat_id), "message": message}


def _texts(events: list[dict[str, Any]]) -> list[str]:
    return [e["part"]["text"] if e["type"] == "message_part" else e["type"] for e in events]


async def test_events_are_numbered_buffered_and_handed_to_subscribers_in_order() -> None:
    chat = uuid.uuid4()
    subscriber = await joined(chat)
    state = stream_state()

    await state.apply([SetBase(chat, 7), Publish(chat, [_status(chat, "running"), _delta(chat, "a")])])
    await state.apply([Publish(chat, [_delta(chat, "b")])])

    received = await subscriber.until(3)
    assert [(e["seq"], t) for e, t in zip(received, _texts(received), strict=True)] == [
        (1, "status"),
        (2, "a"),
        (3, "b"),
    ]
    assert received[1] == {**_delta(chat, "a"), "seq": 2}  # the event itself, with its seq
    snapshot = await state.snapshot(chat)
    assert (snapshot.seq, _texts(snapshot.parts), [p["seq"] for p in snapshot.parts]) == (3, ["a", "b"], [2, 3])
    assert snapshot.base_message_id == 7

    await state.apply([Publish(chat, [_message(chat, 9)])])  # the step is persisted: its parts go
    assert [e["seq"] for e in await subscriber.until(4)] == [1, 2, 3, 4]
    snapshot = await state.snapshot(chat)
    assert (snapshot.seq, snapshot.parts, snapshot.base_message_id) == (4, [], 9)
    stream_hub.leave(chat, subscriber)


async def test_several_chats_ops_in_one_call_keep_each_chats_order() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    one, two = await joined(first), await joined(second)

    await stream_state().apply(
        [
            Publish(first, [_delta(first, "1a")]),
            SetBase(second, 5),
            Publish(second, [_delta(second, "2a"), _delta(second, "2b")]),
            Publish(first, [_delta(first, "1b")]),
        ]
    )

    assert [(e["seq"], e["part"]["text"]) for e in await one.until(2)] == [(1, "1a"), (2, "1b")]
    assert [(e["seq"], e["part"]["text"]) for e in await two.until(2)] == [(1, "2a"), (2, "2b")]
    assert one.batches == 2 and two.batches == 1
    assert (await stream_state().snapshot(second)).base_message_id == 5
    stream_hub.leave(first, one)
    stream_hub.leave(second, two)


async def test_a_subscriber_hears_only_its_chat_and_nothing_after_it_leaves() -> None:
    chat, other = uuid.uuid4(), uuid.uuid4()
    leaving, staying = await joined(chat), await joined(chat)
    await stream_state().apply([Publish(chat, [_delta(chat, "a")]), Publish(other, [_delta(other, "x")])])
    await staying.until(1)

    stream_hub.leave(chat, leaving)
    await stream_state().apply([Publish(chat, [_delta(chat, "b")])])

    assert _texts(await staying.until(2)) == ["a", "b"]
    assert _texts(leaving.events) == ["a"]
    stream_hub.leave(chat, staying)


def test_deployments_sharing_a_redis_server_use_different_channels() -> None:
    chat = uuid.uuid4()
    with override_settings(REDIS_URL="redis://127.0.0.1:6379/1"):
        one = stream_hub.events_channel(chat)
    with override_settings(REDIS_URL="redis://127.0.0.1:6379/2"):
        two = stream_hub.events_channel(chat)
    assert one != two and one.endswith(chat.hex) and two.endswith(chat.hex)


@pytest.mark.distributed
async def test_a_lost_subscription_tells_every_subscriber_and_the_next_join_starts_afresh() -> None:
    import redis.asyncio as aioredis

    from config.env import redis_db

    chat = uuid.uuid4()
    first, second = await joined(chat), await joined(chat)
    admin = aioredis.Redis.from_url(redis_db(settings.REDIS_URL, stream_hub.STATE_DB))
    ours = [c["id"] for c in await admin.client_list(_type="pubsub") if c["name"] == stream_hub.client_name()]
    assert ours
    for client_id in ours:
        await admin.client_kill_filter(_id=client_id)

    assert (await first.until(1), await second.until(1)) == ([], [])  # returned because they were told
    assert first.lost and second.lost

    again = await joined(chat)
    await stream_state().apply([Publish(chat, [_delta(chat, "after")])])
    assert _texts(await again.until(1)) == ["after"]
    stream_hub.leave(chat, again)
    await admin.aclose()
