"""The only module that touches the channel layer: groups, and publishing from any thread.

Channel layers are asyncio objects: the in-memory one lives on exactly one event loop (the
ASGI server's, in embedded mode), and channels-redis keeps its connections per loop. So every
publish, from whatever thread, is handed to one process-wide publisher loop and sent there in
order. ``serve`` binds that loop to the server's own loop; elsewhere (Celery workers, scripts)
a background loop thread is started on first use.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from typing import Any

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

CHAT_EVENTS = "chat.events"  # consumer handler: chat_events
SIDEBAR_EVENT = "sidebar.event"  # consumer handler: sidebar_event


def chat_group(chat_id: uuid.UUID | str) -> str:
    return f"chat.{uuid.UUID(str(chat_id)).hex}"


def owner_group(user_id: int) -> str:
    return f"owner.{user_id}"


class _Publisher:
    """Sends queued (group, message) pairs one after another on a single event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        self.task = loop.create_task(self._drain()) if loop.is_running() else None

    def submit(self, group: str, message: dict[str, Any]) -> None:
        self.loop.call_soon_threadsafe(self._put, group, message)

    def _put(self, group: str, message: dict[str, Any]) -> None:
        if self.task is None:
            self.task = self.loop.create_task(self._drain())
        self.queue.put_nowait((group, message))

    async def _drain(self) -> None:
        layer = get_channel_layer()
        while True:
            group, message = await self.queue.get()
            try:
                await layer.group_send(group, message)
            except Exception:  # a lost live event is recovered by the client's snapshot
                logger.exception("publishing to %s failed", group)


_publisher: _Publisher | None = None
_lock = threading.Lock()


def bind_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Publish on `loop` from now on (the ASGI server's loop, which owns the in-memory layer)."""
    global _publisher
    with _lock:
        _publisher = _Publisher(loop)


def _get_publisher() -> _Publisher:
    global _publisher
    with _lock:
        if _publisher is None or _publisher.loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="chatd-publisher", daemon=True).start()
            _publisher = _Publisher(loop)
        return _publisher


def publish_chat_events(chat_id: uuid.UUID | str, events: list[dict[str, Any]]) -> None:
    """Queue events for every subscriber of the chat; never blocks the caller."""
    _get_publisher().submit(chat_group(chat_id), {"type": CHAT_EVENTS, "events": events})


def publish_sidebar_event(user_id: int, kind: str, chat: dict[str, Any]) -> None:
    event = {"type": "chat", "kind": kind, "chat": chat}
    _get_publisher().submit(owner_group(user_id), {"type": SIDEBAR_EVENT, "event": event})


# --- control pings: how a worker hears that its run's chat changed under it -------------

CHAT_CONTROL = "chat.control"


def control_group(chat_id: uuid.UUID | str) -> str:
    return f"chatctl.{uuid.UUID(str(chat_id)).hex}"


def publish_control(chat_id: uuid.UUID | str) -> None:
    """Tell the worker running this chat (if any) to re-check the row: its status changed."""
    _get_publisher().submit(control_group(chat_id), {"type": CHAT_CONTROL, "chat_id": str(chat_id)})


class ControlListener:
    """One per process: receives control pings for the chats this process runs.

    `on_ping(chat_id)` runs on a worker thread (it reads the database), never on the loop.
    """

    def __init__(self, on_ping: Any) -> None:
        self._on_ping = on_ping
        self._loop = _get_publisher().loop
        self._channel = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)

    async def _start(self) -> str:
        layer = get_channel_layer()
        channel = await layer.new_channel("chatd-worker.")
        self._task = asyncio.get_running_loop().create_task(self._receive(channel))
        return str(channel)

    async def _receive(self, channel: str) -> None:
        layer = get_channel_layer()
        loop = asyncio.get_running_loop()
        while True:
            try:
                message = await layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis blip: heartbeats still catch a lost run; keep listening
                logger.exception("control channel receive failed")
                await asyncio.sleep(1)
                continue
            loop.run_in_executor(None, self._on_ping, message["chat_id"])

    def watch(self, chat_id: uuid.UUID | str) -> None:
        """Subscribe to the chat's pings; returns once subscribed."""
        coroutine = get_channel_layer().group_add(control_group(chat_id), self._channel)
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    def unwatch(self, chat_id: uuid.UUID | str) -> None:
        coroutine = get_channel_layer().group_discard(control_group(chat_id), self._channel)
        asyncio.run_coroutine_threadsafe(coroutine, self._loop)
