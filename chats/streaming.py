"""Publishing from any thread: chat events and control pings (through the stream state) and
sidebar events (through the channel layer, which only this module touches).

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
from collections.abc import Callable
from typing import Any

from channels.layers import get_channel_layer

from chats import stream_hub
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
        """From any thread: ("group", group, message), ("ping", chat_id), ("call", function, args)
        or ("chat", chat_id, kind, payload, urgent). Only a chat item that is not urgent may wait."""
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
                    elif item[0] == "ping":
                        await stream_state().ping(item[1])
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


def publish_control(chat_id: uuid.UUID) -> None:
    """Tell the worker running this chat (if any) to re-check the row: its status changed."""
    _get_publisher().submit(("ping", chat_id))


class ControlWatch:
    """Calls `on_ping()` on a worker thread (it may read the database) whenever the chat's
    control channel pings, and once more after the subscription broke and was made again
    (a ping may have been missed meanwhile). Rides this process's one pub/sub connection
    (stream_hub), so a thousand runs watching cost one Redis connection, not one each.
    """

    RETRY_SECONDS = 1.0

    def __init__(self, chat_id: uuid.UUID, on_ping: Callable[[], None]) -> None:
        self.chat_id = chat_id
        self._on_ping = on_ping
        self._loop = _get_publisher().loop
        self._active = True
        self._rejoining = False

    def start(self) -> ControlWatch:
        """Returns once subscribed (from any thread but the publisher loop's)."""
        join = stream_hub.join_control(self.chat_id, self)
        try:
            asyncio.run_coroutine_threadsafe(join, self._loop).result(timeout=10)
        except BaseException:
            self.stop()  # no retrying in the background for a watch nobody holds
            raise
        return self

    def stop(self) -> None:
        self._active = False
        self._loop.call_soon_threadsafe(stream_hub.leave_control, self.chat_id, self)

    # stream_hub.Listener, called on the publisher loop

    def stream_events(self, first_seq: int, bodies: list[str]) -> None:
        if self._active:
            self._loop.run_in_executor(None, self._on_ping)

    def stream_lost(self) -> None:
        if self._active and not self._rejoining:
            self._rejoining = True
            self._loop.create_task(self._rejoin())

    async def _rejoin(self) -> None:
        try:
            while self._active:
                try:
                    await stream_hub.join_control(self.chat_id, self)
                except Exception:  # Redis still away: heartbeats catch a lost run meanwhile
                    logger.warning("control pings for chat %s: resubscribing failed", self.chat_id, exc_info=True)
                    await asyncio.sleep(self.RETRY_SECONDS)
                    continue
                self.stream_events(0, [])
                return
        finally:
            self._rejoining = False


def watch_control(chat_id: uuid.UUID, on_ping: Callable[[], None]) -> ControlWatch:
    """Start calling `on_ping` on the chat's control pings; `.stop()` the result when done."""
    return ControlWatch(chat_id, on_ping).start()
