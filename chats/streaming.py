"""Publishing from any thread: chat events (through the stream state), sidebar events and
control pings (through the channel layer, which only this module touches).

Channel layers and Redis clients are asyncio objects: the in-memory layer lives on exactly one
event loop (the ASGI server's, in embedded mode), and channels-redis keeps its connections per
loop. So every publish, from whatever thread, is handed to one process-wide publisher loop and
sent there in order. ``serve`` binds that loop to the server's own loop; elsewhere (Celery
workers, scripts) a background loop thread is started on first use.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections import deque
from typing import Any

from channels.layers import get_channel_layer

from chats.stream_state import Op, Publish, SetBase, stream_state

logger = logging.getLogger(__name__)

SIDEBAR_EVENT = "sidebar.event"  # consumer handler: sidebar_event


def owner_group(user_id: int) -> str:
    return f"owner.{user_id}"


# Under load, deltas go out together once per window, whichever chats they belong to: one
# wake-up of the publisher loop and one Redis round trip for all of them, instead of a wake-up
# and a round trip per delta (~0.2 ms of CPU each, most of it in the kernel).
COALESCE_SECONDS = 0.003
FRAME_EVENTS = 256


class _Publisher:
    """Publishes in order on one event loop; deltas are coalesced and numbered.

    Deltas go out at once unless something went out less than COALESCE_SECONDS ago (from any
    chat of this process): then they wait for that window to close and go with everything else
    due by then, so a quiet process adds no delay and a busy one sends one batch per window.
    Anything but a delta flushes at once, held deltas first. Each chat's batch gets its seqs and
    in-flight buffer changes from the stream state, which delivers it to the chat's subscribers
    in the same atomic step; all the chats of one flush share one stream-state round trip.

    Submissions from other threads wait in `inbox`. A delta submitted while the window is open
    does not wake the loop: the window's timer takes the inbox when it closes. (Whenever
    `window_open` is true, that timer is pending, so nothing is left behind.)
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        self.inbox: deque[tuple[Any, ...]] = deque()  # appended on any thread, taken on the loop
        self.wake_pending = False
        self.window_open = False
        self.pending: dict[uuid.UUID, list[tuple[str, Any]]] = {}  # chat items not flushed yet
        self.task = loop.create_task(self._drain()) if loop.is_running() else None

    def submit(self, item: tuple[Any, ...]) -> None:
        """From any thread: ("group", group, message), ("call", function, args) or
        ("chat", chat_id, kind, payload, urgent). Only a chat item that is not urgent may wait."""
        self.inbox.append(item)  # before reading window_open: see the class docstring
        urgent = item[0] != "chat" or item[4]
        if (urgent or not self.window_open) and not self.wake_pending:
            self.wake_pending = True  # cleared on the loop before it empties the inbox: none is missed
            self.loop.call_soon_threadsafe(self._take_inbox)

    def _take_inbox(self) -> None:
        self.wake_pending = False
        flush = not self.window_open
        while self.inbox:
            item = self.inbox.popleft()
            if item[0] == "chat":
                _, chat_id, kind, payload, urgent = item
                self.pending.setdefault(chat_id, []).append((kind, payload))
                flush |= urgent
            else:
                self._flush()  # what was submitted before it goes out before it
                self._put(item)
        if flush:
            self._flush()

    def _flush(self) -> None:
        if not self.pending:
            return
        self._put(("chats", self.pending))
        self.pending = {}
        if not self.window_open:
            self.window_open = True
            self.loop.call_later(COALESCE_SECONDS, self._close_window)

    def _close_window(self) -> None:
        self.window_open = False
        self._take_inbox()  # flushes what the window held, which opens the next one

    def _put(self, item: tuple[Any, ...]) -> None:
        if self.task is None:
            self.task = self.loop.create_task(self._drain())
        self.queue.put_nowait(item)

    async def _drain(self) -> None:
        layer = get_channel_layer()
        while True:
            items = [await self.queue.get()]
            while not self.queue.empty():
                items.append(self.queue.get_nowait())
            ops: list[Op] = []
            for item in items:
                if item[0] == "chats":
                    ops += [op for chat_id, pending in item[1].items() for op in _chat_ops(chat_id, pending)]
                    continue
                await self._apply(ops)  # what was submitted before it goes out before it
                ops = []
                try:
                    if item[0] == "group":
                        await layer.group_send(item[1], item[2])
                    else:
                        self.loop.run_in_executor(None, item[1], *item[2])
                except Exception:
                    logger.exception("publishing %s failed", item[:2])
            await self._apply(ops)

    async def _apply(self, ops: list[Op]) -> None:
        if not ops:
            return
        try:
            await stream_state().apply(ops)
        except Exception:  # lost before they were numbered: sockets see no gap; snapshots have the rows
            logger.exception("publishing chat events failed")


def _chat_ops(chat_id: uuid.UUID, pending: list[tuple[str, Any]]) -> list[Op]:
    """A chat's flushed items as stream-state ops: runs of events cut into frames."""
    ops: list[Op] = []
    batch: list[dict[str, Any]] = []
    for kind, payload in [*pending, ("end", None)]:
        if kind == "events":
            batch += payload
        if batch and (kind != "events" or len(batch) >= FRAME_EVENTS):
            ops += [Publish(chat_id, batch[i : i + FRAME_EVENTS]) for i in range(0, len(batch), FRAME_EVENTS)]
            batch = []
        if kind == "base":
            ops.append(SetBase(chat_id, payload))
    return ops


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


def publish_chat_events(chat_id: uuid.UUID, events: list[dict[str, Any]]) -> None:
    """Queue events for every subscriber of the chat; never blocks the caller."""
    urgent = any(event["type"] != "message_part" for event in events)
    _get_publisher().submit(("chat", chat_id, "events", events, urgent))


def call_after_publishing(function: Any, *args: Any) -> None:
    """Run `function(*args)` (on a thread) once everything published so far has its seq.

    Dispatching a run this way keeps `pending` ahead of the worker's `running` in seq order.
    """
    _get_publisher().submit(("call", function, args))


def set_stream_base(chat_id: uuid.UUID, message_id: int) -> None:
    """A step starts streaming after `message_id`: earlier in-flight parts are stale."""
    _get_publisher().submit(("chat", chat_id, "base", message_id, True))


def publish_sidebar_event(user_id: int, kind: str, chat: dict[str, Any]) -> None:
    event = {"type": "chat", "kind": kind, "chat": chat}
    _get_publisher().submit(("group", owner_group(user_id), {"type": SIDEBAR_EVENT, "event": event}))


# --- control pings: how a worker hears that its run's chat changed under it -------------

CHAT_CONTROL = "chat.control"


def control_group(chat_id: uuid.UUID | str) -> str:
    return f"chatctl.{uuid.UUID(str(chat_id)).hex}"


def publish_control(chat_id: uuid.UUID | str) -> None:
    """Tell the worker running this chat (if any) to re-check the row: its status changed."""
    _get_publisher().submit(("group", control_group(chat_id), {"type": CHAT_CONTROL, "chat_id": str(chat_id)}))


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
