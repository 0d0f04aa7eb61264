"""WebSocket endpoints (API.md §8): thin — authenticate, subscribe, snapshot, forward."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404

from chats import selectors, streaming
from chats.serializers import message_event, queue_event, status_event
from chats.stream_state import Snapshot, stream_state
from costs import metrics

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_RESYNC = 4409  # events were lost (slow client, dropped message): reconnect with after_id
PING_SECONDS = 15
GAP_TIMEOUT_SECONDS = 1.0  # events from different processes may cross; a hole this old is a loss


def _frames(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"type": "data", "events": events[i : i + streaming.FRAME_EVENTS]}
        for i in range(0, len(events), streaming.FRAME_EVENTS)
    ]


@database_sync_to_async
def _chat_snapshot(user: Any, chat_id: str, after_id: int, live: Snapshot) -> list[dict[str, Any]]:
    """status, persisted messages after `after_id`, the running step's parts, the queue.

    Read after the stream state, so every event numbered up to `live.seq` is in the database.
    """
    chat = selectors.chat_get(user=user, chat_id=chat_id)
    events = [{**status_event(chat), "snapshot_seq": live.seq}]
    while True:
        messages, has_more = selectors.message_page(chat=chat, after_id=after_id, limit=200)
        events += [message_event(m) for m in messages]
        if not has_more:
            break
        after_id = messages[-1].id
    # Parts of a step that has been persisted since are covered by its message.
    if live.parts and selectors.last_message_id(chat=chat) <= live.base_message_id:
        events += live.parts
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
    """`/ws/chats/{id}/?after_id=N`: a snapshot, then the live events in `seq` order, each once."""

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
        # Subscribe before reading the snapshot so nothing falls between the two; live events
        # wait in the channel until connect() returns, and those it already covers are dropped.
        self.group = streaming.chat_group(chat_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        live = await stream_state().snapshot(uuid.UUID(chat_id))
        self.last_seq = live.seq
        self.held: dict[int, dict[str, Any]] = {}
        for frame in _frames(await _chat_snapshot(user, chat_id, self._after_id(), live)):
            await self.send_json(frame)
        self.pinger = asyncio.create_task(self._ping())
        metrics.ACTIVE_STREAMS.inc()

    def _after_id(self) -> int:
        query = parse_qs(self.scope.get("query_string", b"").decode())
        try:
            return max(int(query.get("after_id", ["0"])[0]), 0)
        except ValueError:
            return 0

    async def disconnect(self, code: int) -> None:
        if pinger := getattr(self, "pinger", None):
            pinger.cancel()
            metrics.ACTIVE_STREAMS.dec()
        if group := getattr(self, "group", None):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def chat_events(self, message: dict[str, Any]) -> None:
        ready = []
        for event in message["events"]:
            if event["seq"] > self.last_seq:
                self.held[event["seq"]] = event
        while self.last_seq + 1 in self.held:
            self.last_seq += 1
            ready.append(self.held.pop(self.last_seq))
        for frame in _frames(ready):
            await self.send_json(frame)
        if self.held:
            asyncio.get_running_loop().call_later(GAP_TIMEOUT_SECONDS, self._check_gap, self.last_seq)

    def _check_gap(self, seq_then: int) -> None:
        if self.held and self.last_seq == seq_then:
            self.closing = asyncio.ensure_future(self.close(code=CLOSE_RESYNC))

    async def _ping(self) -> None:
        while True:
            await asyncio.sleep(PING_SECONDS)
            await self.send_json({"type": "ping"})


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
