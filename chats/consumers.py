"""WebSocket endpoints (API.md §8): thin — authenticate, subscribe, snapshot, forward."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import deque
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404

from chats import selectors, stream_hub, streaming
from chats.serializers import message_event, queue_event, status_event
from chats.stream_state import Snapshot, stream_state
from costs import metrics

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_RESYNC = 4409  # events were lost (slow client, dropped message): reconnect with after_id
PING_SECONDS = 15  # of silence on a socket before it gets a ping
GAP_TIMEOUT_SECONDS = 1.0  # events from different processes may cross; a hole this old is a loss
# A client whose socket has not taken this much of its live events yet is cut off (4409) rather
# than waited for: it costs bounded memory, and reconnecting with after_id is cheaper for it
# than the backlog (the snapshot carries persisted messages whole, not as thousands of deltas).
MAX_BEHIND_BYTES = 1 << 20


def _data_frame(encoded_events: list[str]) -> str:
    return '{"type": "data", "events": [' + ", ".join(encoded_events) + "]}"


def _numbered(body: str, seq: int) -> str:
    """An encoded event (a JSON object, as stream_state.encode made it) with its seq added."""
    return f'{body[:-1]}, "seq": {seq}}}'


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
    """`/ws/chats/{id}/?after_id=N`: a snapshot, then the live events in `seq` order, each once.

    Live events come from this process's stream hub, already JSON-encoded, and never wait for
    the socket: they go to an outbox that a sender task feeds to the socket at the client's
    pace. A client that falls more than MAX_BEHIND_BYTES behind is closed with 4409 and resyncs
    from a snapshot.
    """

    channel_layer_alias = None  # no channel-layer channel per socket: nothing comes that way

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
        self.last_seq: int | None = None  # known once the snapshot is read; events wait in `held`
        self.held: dict[int, str] = {}  # seq -> encoded event, received ahead of its turn
        self.outbox: deque[str] = deque()  # live events, JSON-encoded, the socket has not taken yet
        self.outbox_bytes = 0
        self.outbox_filled = asyncio.Event()
        self.cut_off = False
        # Subscribe before reading the snapshot so nothing falls between the two; events that
        # arrive meanwhile are held, and those the snapshot already covers are dropped.
        self.chat_id = chat_id
        try:
            await stream_hub.join(chat_id, self)
        except stream_hub.FeedLost:
            self._resync()
            return
        live = await stream_state().snapshot(uuid.UUID(chat_id))
        self.last_seq = live.seq
        self.held = {seq: body for seq, body in self.held.items() if seq > live.seq}
        self._release_held()  # to the outbox, which the sender starts on after the snapshot
        for frame in _frames(await _chat_snapshot(user, chat_id, self._after_id(), live)):
            await self.send_json(frame)
        if not self.cut_off:
            loop = asyncio.get_running_loop()
            self.sent_at = loop.time()
            self.ping_due = False
            self.pinger = loop.call_later(PING_SECONDS, self._check_silence)
            self.sender = loop.create_task(self._send_live())
            metrics.ACTIVE_STREAMS.inc()

    def _after_id(self) -> int:
        query = parse_qs(self.scope.get("query_string", b"").decode())
        try:
            return max(int(query.get("after_id", ["0"])[0]), 0)
        except ValueError:
            return 0

    async def disconnect(self, code: int) -> None:
        if sender := getattr(self, "sender", None):
            sender.cancel()
            self.pinger.cancel()
            metrics.ACTIVE_STREAMS.dec()
        if chat_id := getattr(self, "chat_id", None):
            stream_hub.leave(chat_id, self)

    def stream_events(self, first_seq: int, bodies: list[str]) -> None:
        """A batch from the hub (stream_hub.Listener), numbered from `first_seq`."""
        if self.cut_off:
            return
        if self.last_seq is not None and not self.held and first_seq == self.last_seq + 1:
            self.last_seq += len(bodies)  # the usual case: the very next events, in order
            self._post([_numbered(body, first_seq + i) for i, body in enumerate(bodies)])
            return
        for offset, body in enumerate(bodies):
            if self.last_seq is None or first_seq + offset > self.last_seq:
                self.held[first_seq + offset] = body
        if self.last_seq is not None:
            self._release_held()

    def stream_lost(self) -> None:
        self._resync()

    def _release_held(self) -> None:
        assert self.last_seq is not None
        ready = []
        while self.last_seq + 1 in self.held:
            self.last_seq += 1
            ready.append(_numbered(self.held.pop(self.last_seq), self.last_seq))
        self._post(ready)
        if self.held:
            asyncio.get_running_loop().call_later(GAP_TIMEOUT_SECONDS, self._check_gap, self.last_seq)

    def _post(self, encoded_events: list[str]) -> None:
        if not encoded_events:
            return
        if self.outbox_bytes > MAX_BEHIND_BYTES:
            self._resync()
            return
        self.outbox.extend(encoded_events)
        self.outbox_bytes += sum(map(len, encoded_events))
        self.outbox_filled.set()

    async def _send_live(self) -> None:
        """Feed the outbox to the socket, up to FRAME_EVENTS per frame; ping after PING_SECONDS of silence."""
        loop = asyncio.get_running_loop()
        with contextlib.suppress(OSError):  # the client is gone: disconnect() cleans up
            while True:
                await self.outbox_filled.wait()  # no timeout to arm per wake-up: the pinger wakes it
                self.outbox_filled.clear()
                if self.ping_due and not self.outbox:
                    await self.send_json({"type": "ping"})
                self.ping_due = False
                while self.outbox:
                    batch = [self.outbox.popleft() for _ in range(min(len(self.outbox), streaming.FRAME_EVENTS))]
                    self.outbox_bytes -= sum(map(len, batch))
                    await self.send(text_data=_data_frame(batch))  # waits while the client is not reading
                self.sent_at = loop.time()

    def _check_silence(self) -> None:
        """Every PING_SECONDS or so: a socket silent that long gets a ping (from the sender)."""
        loop = asyncio.get_running_loop()
        silent = loop.time() - self.sent_at
        if silent >= PING_SECONDS:
            self.ping_due = True
            self.outbox_filled.set()
            silent = 0
        self.pinger = loop.call_later(PING_SECONDS - silent, self._check_silence)

    def _check_gap(self, seq_then: int) -> None:
        if self.held and self.last_seq == seq_then:
            self._resync()

    def _resync(self) -> None:
        """Drop the backlog and close with 4409: the client reconnects with after_id."""
        if self.cut_off:
            return
        self.cut_off = True
        if sender := getattr(self, "sender", None):
            sender.cancel()  # a frame it was waiting to write is not half-written: writes are whole
            self.pinger.cancel()
        self.outbox.clear()
        self.held.clear()
        self.outbox_bytes = 0
        self.closing = asyncio.ensure_future(self._close_quietly())

    async def _close_quietly(self) -> None:
        with contextlib.suppress(OSError):  # already gone
            await self.close(code=CLOSE_RESYNC)


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
