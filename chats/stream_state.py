"""Per-chat stream state: the event sequence number and the in-flight parts of the running step.

Every live event of a chat gets the next `seq`, whichever process publishes it, and the parts
of the step being streamed are kept so a client joining mid-answer sees the answer so far.
Assigning seqs, changing the buffer and handing the batch to the chat's subscribers (see
`stream_hub`) happen in one atomic operation, so subscribers get batches in seq order; and a
snapshot reads (seq, buffer) atomically, so "everything up to seq S" always means the same thing.

Redis holds it in distributed mode (one Lua script per batch, which also PUBLISHes it);
embedded mode keeps it in process memory under a lock and delivers in-process.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings

from chats import stream_hub
from config.env import redis_db

MAX_BUFFERED_PARTS = 10_000
BUFFER_TTL_SECONDS = 24 * 3600

APPEND, CLEAR, NONE = "a", "c", "n"


def buffer_op(event: dict[str, Any]) -> str:
    """What an event does to the in-flight buffer."""
    kind = event["type"]
    if kind == "message_part":
        return APPEND
    if kind == "retry" or (kind == "message" and event["message"]["role"] in ("assistant", "tool")):
        return CLEAR  # a retried step starts afresh; a persisted step replaces its parts
    if kind == "status" and event["status"] != "running":
        return CLEAR
    return NONE


@dataclass
class Snapshot:
    seq: int
    parts: list[dict[str, Any]]  # buffered message_part events, each with its seq
    base_message_id: int  # the newest persisted message when the buffered step began


def encode(event: dict[str, Any]) -> str:
    """An event as it goes on the wire, less its seq. ASCII-only, so it never holds a newline."""
    return json.dumps(event)


@dataclass
class Publish:
    """Number the events, update the buffer, deliver them to the chat's subscribers."""

    chat_id: uuid.UUID
    events: list[dict[str, Any]]


@dataclass
class SetBase:
    """A step starts streaming after `message_id`: earlier in-flight parts are stale."""

    chat_id: uuid.UUID
    message_id: int


Op = Publish | SetBase


class StreamState(Protocol):
    async def apply(self, ops: list[Op]) -> None:
        """Carry out the ops in order, each atomically (several chats' ops share a round trip)."""
        ...

    async def snapshot(self, chat_id: uuid.UUID) -> Snapshot: ...


@dataclass
class _LocalChat:
    seq: int = 0
    parts: list[dict[str, Any]] = field(default_factory=list)
    base: int = 0


class LocalStreamState:
    """Embedded mode: one process, so memory and a lock are the single source of order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._chats: dict[uuid.UUID, _LocalChat] = {}

    async def apply(self, ops: list[Op]) -> None:
        for op in ops:
            if isinstance(op, Publish):
                self._publish(op.chat_id, op.events)
            else:
                self._set_base(op.chat_id, op.message_id)

    def _publish(self, chat_id: uuid.UUID, events: list[dict[str, Any]]) -> None:
        bodies = [encode(event) for event in events]
        with self._lock:  # delivered under the lock too: subscribers see batches in seq order
            state = self._chats.setdefault(chat_id, _LocalChat())
            first = state.seq + 1
            for event in events:
                state.seq += 1
                op = buffer_op(event)
                if op == APPEND:
                    state.parts.append({**event, "seq": state.seq})
                    del state.parts[:-MAX_BUFFERED_PARTS]
                elif op == CLEAR:
                    state.parts.clear()
                if event["type"] == "message":
                    state.base = max(state.base, int(event["message"]["id"]))
            stream_hub.deliver(chat_id, first, bodies)

    def _set_base(self, chat_id: uuid.UUID, message_id: int) -> None:
        with self._lock:
            state = self._chats.setdefault(chat_id, _LocalChat())
            state.parts.clear()
            state.base = max(state.base, message_id)

    async def snapshot(self, chat_id: uuid.UUID) -> Snapshot:
        with self._lock:
            state = self._chats.get(chat_id, _LocalChat())
            return Snapshot(state.seq, list(state.parts), state.base)


_PUBLISH = r"""
local n = tonumber(ARGV[1])
local first = redis.call('INCRBY', KEYS[1], n) - n + 1
local bodies = {}
for i = 0, n - 1 do
  local op = ARGV[4 + 2 * i]
  local body = ARGV[5 + 2 * i]
  if op == 'a' then
    redis.call('RPUSH', KEYS[2], (first + i) .. '|' .. body)
  elseif op == 'c' then
    redis.call('DEL', KEYS[2])
  end
  bodies[i + 1] = body
end
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
redis.call('EXPIRE', KEYS[2], 86400)
local base = tonumber(ARGV[3])
if base > tonumber(redis.call('GET', KEYS[3]) or '0') then redis.call('SET', KEYS[3], base, 'EX', 86400) end
redis.call('PUBLISH', KEYS[4], first .. '\n' .. table.concat(bodies, '\n'))
return first
"""
_SET_BASE = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1], 'EX', 86400) end
redis.call('DEL', KEYS[2])
"""


class RedisStreamState:
    """Distributed mode: any process may publish; Redis serialises them per chat."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._clients: dict[asyncio.AbstractEventLoop, Any] = {}  # redis.asyncio clients are loop-bound

    def _client(self) -> Any:
        import redis.asyncio as aioredis

        loop = asyncio.get_running_loop()
        if loop not in self._clients:
            for closed in [other for other in self._clients if other.is_closed()]:
                del self._clients[closed]
            self._clients[loop] = aioredis.Redis.from_url(self._url)
        return self._clients[loop]

    @staticmethod
    def _keys(chat_id: uuid.UUID) -> list[str]:
        key = uuid.UUID(str(chat_id)).hex
        return [f"chatd:seq:{key}", f"chatd:buf:{key}", f"chatd:base:{key}"]

    async def apply(self, ops: list[Op]) -> None:
        """One script call per op; several ops go in one pipeline (a round trip, far less CPU).

        Raises the first op's error, after the others have been carried out.
        """
        if len(ops) == 1:
            await self._client().eval(*self._script_call(ops[0]))
            return
        pipe = self._client().pipeline(transaction=False)
        for op in ops:
            pipe.eval(*self._script_call(op))
        for result in await pipe.execute(raise_on_error=False):
            if isinstance(result, Exception):
                raise result

    def _script_call(self, op: Op) -> list[Any]:
        seq_key, buf_key, base_key = self._keys(op.chat_id)
        if isinstance(op, SetBase):
            return [_SET_BASE, 2, base_key, buf_key, op.message_id]
        events = op.events
        base = max((int(e["message"]["id"]) for e in events if e["type"] == "message"), default=0)
        call: list[Any] = [_PUBLISH, 4, seq_key, buf_key, base_key, stream_hub.events_channel(op.chat_id)]
        call += [len(events), MAX_BUFFERED_PARTS, base]
        for event in events:
            call += [buffer_op(event), encode(event)]
        return call

    async def snapshot(self, chat_id: uuid.UUID) -> Snapshot:
        seq_key, buf_key, base_key = self._keys(chat_id)
        async with self._client().pipeline(transaction=True) as pipe:
            seq, raw_parts, base = await pipe.get(seq_key).lrange(buf_key, 0, -1).get(base_key).execute()
        parts = []
        for raw in raw_parts:
            seq_text, _, body = raw.decode().partition("|")
            parts.append({**json.loads(body), "seq": int(seq_text)})
        return Snapshot(int(seq or 0), parts, int(base or 0))


_state: StreamState | None = None


def stream_state() -> StreamState:
    global _state
    if _state is None:
        _state = RedisStreamState(redis_db(settings.REDIS_URL, 3)) if settings.DISTRIBUTED else LocalStreamState()
    return _state
