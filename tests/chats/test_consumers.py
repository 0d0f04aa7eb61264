"""The chat stream consumer in-process: a snapshot, live events with their seq, pings when silent."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from asgiref.testing import ApplicationCommunicator
from channels.db import database_sync_to_async

from chats import consumers
from chats.enums import ChatStatus
from chats.models import Chat
from chats.stream_state import Publish, stream_state

pytestmark = [pytest.mark.core, pytest.mark.django_db(transaction=True)]


class Socket(ApplicationCommunicator):
    """A WebSocket client speaking ASGI to one consumer (channels.testing needs daphne)."""

    def __init__(self, user: Any, chat: Chat) -> None:
        path = f"/ws/chats/{chat.pk}/"
        scope: dict[str, Any] = {"type": "websocket", "path": path, "query_string": b"", "headers": []}
        scope |= {"subprotocols": [], "user": user, "url_route": {"kwargs": {"chat_id": str(chat.pk)}}}
        super().__init__(consumers.ChatStreamConsumer.as_asgi(), scope)

    async def connect(self) -> None:
        await self.send_input({"type": "websocket.connect"})
        assert (await self.receive_output(10))["type"] == "websocket.accept"

    async def receive_json(self) -> Any:
        message = await self.receive_output(10)
        assert message["type"] == "websocket.send", message
        return json.loads(message["text"])

    async def disconnect(self) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.wait(10)


async def test_live_events_follow_the_snapshot_and_a_silent_socket_gets_pings(
    alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(consumers, "PING_SECONDS", 0.3)
    chat = await database_sync_to_async(Chat.objects.create)(owner=alice, status=ChatStatus.WAITING)
    socket = Socket(alice, chat)
    await socket.connect()
    snapshot = await socket.receive_json()
    assert [e["type"] for e in snapshot["events"]] == ["status"]
    seq = snapshot["events"][0]["snapshot_seq"]

    part = {"type": "text", "text": "hi"}
    delta = {"type": "message_part", "chat_id": str(chat.pk), "role": "assistant", "part": part}
    await stream_state().apply([Publish(uuid.UUID(str(chat.pk)), [delta])])
    assert await socket.receive_json() == {"type": "data", "events": [{**delta, "seq": seq + 1}]}

    assert await socket.receive_json() == {"type": "ping"}  # silence since
    assert await socket.receive_json() == {"type": "ping"}  # and again
    await socket.disconnect()
