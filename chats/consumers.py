"""WebSocket endpoints (API.md §8): thin — authenticate, subscribe, snapshot, forward."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404

from chats import selectors, streaming
from chats.serializers import message_event, queue_event, status_event

FRAME_EVENTS = 256
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404


def _frames(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"type": "data", "events": events[i : i + FRAME_EVENTS]} for i in range(0, len(events), FRAME_EVENTS)]


@database_sync_to_async
def _chat_snapshot(user: Any, chat_id: str, after_id: int) -> list[dict[str, Any]]:
    """status, then persisted messages after `after_id`, then the queue when non-empty."""
    chat = selectors.chat_get(user=user, chat_id=chat_id)
    events = [status_event(chat)]
    while True:
        messages, has_more = selectors.message_page(chat=chat, after_id=after_id, limit=200)
        events += [message_event(m) for m in messages]
        if not has_more:
            break
        after_id = messages[-1].id
    if queued := selectors.queued_messages(chat=chat):
        events.append(queue_event(chat, queued))
    return events


@database_sync_to_async
def _owns_chat(user: Any, chat_id: str) -> bool:
    try:
        selectors.chat_get(user=user, chat_id=chat_id)
    except Http404:
        return False
    return True


class ChatStreamConsumer(AsyncJsonWebsocketConsumer):
    """`/ws/chats/{id}/?after_id=N`: one chat's snapshot, then its live events."""

    async def connect(self) -> None:
        await self.accept()
        user = self.scope["user"]
        chat_id = self.scope["url_route"]["kwargs"]["chat_id"]
        if not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not await _owns_chat(user, chat_id):
            await self.close(code=CLOSE_NOT_FOUND)
            return
        # Subscribe before reading the snapshot so nothing falls between the two.
        self.group = streaming.chat_group(chat_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        for frame in _frames(await _chat_snapshot(user, chat_id, self._after_id())):
            await self.send_json(frame)

    def _after_id(self) -> int:
        query = parse_qs(self.scope.get("query_string", b"").decode())
        try:
            return max(int(query.get("after_id", ["0"])[0]), 0)
        except ValueError:
            return 0

    async def disconnect(self, code: int) -> None:
        if group := getattr(self, "group", None):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def chat_events(self, message: dict[str, Any]) -> None:
        for frame in _frames(message["events"]):
            await self.send_json(frame)


class SidebarConsumer(AsyncJsonWebsocketConsumer):
    """`/ws/chats/`: created / deleted / status_change / title_change events of one's own chats."""

    async def connect(self) -> None:
        await self.accept()
        user = self.scope["user"]
        if not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.group = streaming.owner_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_json({"type": "ping"})

    async def disconnect(self, code: int) -> None:
        if group := getattr(self, "group", None):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def sidebar_event(self, message: dict[str, Any]) -> None:
        await self.send_json({"type": "data", "events": [message["event"]]})
