"""Live chat events to this process's listeners: one subscription per process, fanned out here.

A published batch is `(first_seq, bodies)`: the JSON-encoded events of one chat, numbered from
`first_seq`, each without its `seq` (a listener adds it). In distributed mode the stream state's
script that numbers a batch also PUBLISHes it on the chat's Redis channel, so batches reach every
subscriber in seq order whichever process published them; each event loop here holds ONE Redis
pub/sub connection, subscribed to the chats it has listeners for, and hands each batch to them
in-process. Embedded mode has no Redis: the stream state calls `deliver` directly.

Compared with a channel-layer group per chat, a delta costs the worker one round trip (the
script) and `serve` no decoding at all: the bodies go to the sockets as they are.

The same subscription carries control pings (`join_control`): an empty message on the chat's
control channel, which tells a worker that its run's chat changed under it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
import uuid
from collections import deque
from typing import Any, Protocol

from django.conf import settings

from config.env import redis_db

logger = logging.getLogger(__name__)

STATE_DB = 3  # the Redis database (of the deployment's block) of the stream state


class Listener(Protocol):
    """Called on the event loop the listener joined from."""

    def stream_events(self, first_seq: int, bodies: list[str]) -> None: ...

    def stream_lost(self) -> None:
        """The feed broke: events may be missing, so the listener must resync."""


class FeedLost(Exception):
    """The Redis subscription broke before this listener's subscription was confirmed."""


def events_channel(chat_id: uuid.UUID | str) -> str:
    """The chat's Redis pub/sub channel. Pub/sub ignores database numbers, so the name carries
    the deployment's: two deployments (or test runs) on one server never hear each other."""
    return f"{_channel_prefix(settings.REDIS_URL)}events:{uuid.UUID(str(chat_id)).hex}"


def control_channel(chat_id: uuid.UUID | str) -> str:
    """The chat's control pings: "its status changed", for the worker running it."""
    return f"{_channel_prefix(settings.REDIS_URL)}control:{uuid.UUID(str(chat_id)).hex}"


def client_name() -> str:
    """How this process's subscriptions show in Redis's CLIENT LIST."""
    return f"chatd-stream-hub-{os.getpid()}"


@functools.cache
def _channel_prefix(redis_url: str) -> str:
    return f"chatd:{redis_db(redis_url, STATE_DB).rsplit('/', 1)[-1]}:"


class _Hub:
    """One event loop's listeners by chat and, in distributed mode, its Redis subscription."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.listeners: dict[str, set[Listener]] = {}  # chat channel -> listeners on this loop
        self.subscribed: dict[str, asyncio.Future[None]] = {}  # chat channel -> Redis confirmed it
        self.confirming: dict[str, deque[asyncio.Future[None]]] = {}  # SUBSCRIBEs sent, in order
        self.pubsub: Any = None
        self.connected: asyncio.Task[None] | None = None  # self.pubsub has its connection
        self.reader: asyncio.Task[None] | None = None

    async def join(self, channel: str, listener: Listener) -> None:
        first = channel not in self.listeners
        self.listeners.setdefault(channel, set()).add(listener)
        if first and settings.DISTRIBUTED:
            await self._subscribe(channel)
        if confirmed := self.subscribed.get(channel):
            await asyncio.shield(confirmed)

    def leave(self, channel: str, listener: Listener) -> None:
        listeners = self.listeners.get(channel)
        if listeners is None or listener not in listeners:
            return
        listeners.discard(listener)
        if not listeners:
            del self.listeners[channel]
            if self.subscribed.pop(channel, None) is not None and self.pubsub is not None:
                self.loop.create_task(self._unsubscribe(self.pubsub, channel))

    def dispatch(self, channel: str, first_seq: int, bodies: list[str]) -> None:
        for listener in list(self.listeners.get(channel, ())):
            listener.stream_events(first_seq, bodies)

    async def _subscribe(self, channel: str) -> None:
        confirmed = self.loop.create_future()
        self.subscribed[channel] = confirmed
        self.confirming.setdefault(channel, deque()).append(confirmed)
        if self.pubsub is None:
            import redis.asyncio as aioredis
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            # No silent reconnects: a reconnect loses messages, and listeners must hear of it.
            client = aioredis.Redis.from_url(
                redis_db(settings.REDIS_URL, STATE_DB),
                retry=Retry(NoBackoff(), 0),
                socket_keepalive=True,
                client_name=client_name(),
            )
            self.pubsub = client.pubsub()
            self.connected = self.loop.create_task(self._connect(self.pubsub))
        pubsub, connected = self.pubsub, self.connected
        assert connected is not None
        try:
            await asyncio.shield(connected)  # one connection: concurrent first SUBSCRIBEs must share it
            await pubsub.subscribe(channel)
        except Exception:
            self._lose_feed(pubsub)
            raise

    async def _connect(self, pubsub: Any) -> None:
        await pubsub.connect()
        self.reader = self.loop.create_task(self._read(pubsub))

    async def close(self) -> None:
        """Drop the subscription (listeners hear nothing more, and nothing of it)."""
        pubsub, self.pubsub = self.pubsub, None
        self.listeners.clear()
        self.subscribed.clear()
        self.confirming.clear()
        if pubsub is not None:
            if self.reader is not None:
                self.reader.cancel()
            await pubsub.aclose()

    async def _unsubscribe(self, pubsub: Any, channel: str) -> None:
        try:
            await pubsub.unsubscribe(channel)
        except Exception:
            self._lose_feed(pubsub)

    async def _read(self, pubsub: Any) -> None:
        try:
            while True:
                message = await pubsub.get_message(timeout=None)
                if message is None:
                    continue
                channel = message["channel"].decode()
                if message["type"] == "message":
                    head, *bodies = message["data"].decode().split("\n")
                    self.dispatch(channel, int(head), bodies)
                elif message["type"] == "subscribe" and (waiting := self.confirming.get(channel)):
                    confirmed = waiting.popleft()
                    if not waiting:
                        del self.confirming[channel]
                    if not confirmed.done():
                        confirmed.set_result(None)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.warning("chat event subscription lost; its listeners resync", exc_info=True)
            self._lose_feed(pubsub)

    def _lose_feed(self, pubsub: Any) -> None:
        """Every listener may have missed events: tell them all and start afresh on the next join."""
        if pubsub is not self.pubsub:
            return
        self.pubsub = None
        self.loop.create_task(pubsub.aclose())
        for waiting in self.confirming.values():
            for confirmed in waiting:
                if not confirmed.done():
                    confirmed.set_exception(FeedLost())
                    confirmed.exception()  # retrieved: a joiner that left meanwhile is not an error
        listeners = [listener for group in self.listeners.values() for listener in group]
        self.listeners.clear()
        self.subscribed.clear()
        self.confirming.clear()
        for listener in listeners:
            listener.stream_lost()


_hubs: dict[asyncio.AbstractEventLoop, _Hub] = {}
_hubs_lock = threading.Lock()


def _hub() -> _Hub:
    loop = asyncio.get_running_loop()
    with _hubs_lock:
        for closed in [other for other in _hubs if other.is_closed()]:
            del _hubs[closed]
        if loop not in _hubs:
            _hubs[loop] = _Hub(loop)
        return _hubs[loop]


async def join(chat_id: uuid.UUID | str, listener: Listener) -> None:
    """Deliver the chat's live events to `listener` from now on; returns once that holds.

    If the subscription breaks, from the call on, `listener.stream_lost()` is called (and this
    may raise FeedLost).
    """
    await _hub().join(events_channel(chat_id), listener)


def leave(chat_id: uuid.UUID | str, listener: Listener) -> None:
    _hub().leave(events_channel(chat_id), listener)


async def join_control(chat_id: uuid.UUID | str, listener: Listener) -> None:
    """Like `join`, for the chat's control pings: each is `stream_events(0, [])`."""
    await _hub().join(control_channel(chat_id), listener)


def leave_control(chat_id: uuid.UUID | str, listener: Listener) -> None:
    _hub().leave(control_channel(chat_id), listener)


async def close() -> None:
    """Drop this event loop's subscription and listeners (before closing the loop)."""
    loop = asyncio.get_running_loop()
    with _hubs_lock:
        hub = _hubs.pop(loop, None)
    if hub is not None:
        await hub.close()


def deliver(chat_id: uuid.UUID | str, first_seq: int, bodies: list[str]) -> None:
    """In-process publish (embedded mode), from any thread: each listener hears it on its loop."""
    _deliver(events_channel(chat_id), first_seq, bodies)


def deliver_control(chat_id: uuid.UUID | str) -> None:
    """In-process control ping (embedded mode), from any thread."""
    _deliver(control_channel(chat_id), 0, [])


def _deliver(channel: str, first_seq: int, bodies: list[str]) -> None:
    with _hubs_lock:
        hubs = [hub for hub in _hubs.values() if channel in hub.listeners and not hub.loop.is_closed()]
    for hub in hubs:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if hub.loop is running:
            hub.dispatch(channel, first_seq, bodies)
        else:
            hub.loop.call_soon_threadsafe(hub.dispatch, channel, first_seq, bodies)
