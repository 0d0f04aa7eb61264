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
import functools
import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings

from chats import stream_hub
from config.env import redis_db

MAX_BUFFERED_PARTS = 10_000
POOL_CONNECTIONS, POOL_WAIT_SECONDS = 50, 10  # Redis connections per event loop, and the wait for one

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

    async def ping(self, chat_id: uuid.UUID) -> None:
        """A control ping to whoever watches the chat (stream_hub.join_control); no seq."""
        ...


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

    async def ping(self, chat_id: uuid.UUID) -> None:
        stream_hub.deliver_control(chat_id)


# One call carries the ops of a whole flush, several chats' (each op atomic, the batch too).
# KEYS: per op its chat's seq, buffer, base and events channel.
# ARGV[1]: the buffer's cap; then per op: 'p' (publish) or 'b' (set base), the base message id,
# one buffer op letter per event, and the event bodies joined by newlines (they hold none).
_APPLY = r"""
local cap = tonumber(ARGV[1])
for j = 0, #KEYS / 4 - 1 do
  local seq_key, buf_key, base_key, channel = KEYS[4 * j + 1], KEYS[4 * j + 2], KEYS[4 * j + 3], KEYS[4 * j + 4]
  local kind, base = ARGV[4 * j + 2], tonumber(ARGV[4 * j + 3])
  if base > tonumber(redis.call('GET', base_key) or '0') then redis.call('SET', base_key, base, 'EX', 86400) end
  if kind == 'b' then
    redis.call('DEL', buf_key)
  else
    local ops, bodies = ARGV[4 * j + 4], ARGV[4 * j + 5]
    local n = #ops
    local first = redis.call('INCRBY', seq_key, n) - n + 1
    local i = 0
    for body in string.gmatch(bodies, '[^\n]+') do
      local op = string.sub(ops, i + 1, i + 1)
      if op == 'a' then
        redis.call('RPUSH', buf_key, (first + i) .. '|' .. body)
      elseif op == 'c' then
        redis.call('DEL', buf_key)
      end
      i = i + 1
    end
    redis.call('LTRIM', buf_key, -cap, -1)
    redis.call('EXPIRE', buf_key, 86400)
    redis.call('PUBLISH', channel, first .. '\n' .. bodies)
  end
end
"""


class RedisStreamState:
    """Distributed mode: any process may publish; Redis serialises them per chat."""

    def __init__(self, url: str) -> None:
        self._url = url
        # redis.asyncio clients are loop-bound: per loop, a client and the flush script on it
        self._clients: dict[asyncio.AbstractEventLoop, tuple[Any, Any]] = {}

    def _client(self) -> tuple[Any, Any]:
        """This loop's (client, flush script)."""
        import redis.asyncio as aioredis

        loop = asyncio.get_running_loop()
        if loop not in self._clients:
            for closed in [other for other in self._clients if other.is_closed()]:
                del self._clients[closed]
            # A burst (every socket reconnecting at once reads its snapshot) waits for one of
            # the loop's connections instead of failing past redis-py's default of 100.
            pool = aioredis.BlockingConnectionPool.from_url(
                self._url, max_connections=POOL_CONNECTIONS, timeout=POOL_WAIT_SECONDS
            )
            client = aioredis.Redis(connection_pool=pool)
            self._clients[loop] = client, client.register_script(_APPLY)
        return self._clients[loop]

    @staticmethod
    @functools.lru_cache(maxsize=4096)
    def _keys(chat_id: uuid.UUID) -> tuple[str, str, str, str]:
        key = chat_id.hex
        return f"chatd:seq:{key}", f"chatd:buf:{key}", f"chatd:base:{key}", stream_hub.events_channel(chat_id)

    async def apply(self, ops: list[Op]) -> None:
        """All the ops in one script call (EVALSHA): one round trip and one reply for a flush."""
        keys: list[str] = []
        args: list[Any] = [MAX_BUFFERED_PARTS]
        for op in ops:
            keys += self._keys(op.chat_id)
            if isinstance(op, SetBase):
                args += ["b", op.message_id, "", ""]
                continue
            events = op.events
            base = max((int(e["message"]["id"]) for e in events if e["type"] == "message"), default=0)
            args += ["p", base, "".join(map(buffer_op, events)), "\n".join(map(encode, events))]
        _, flush = self._client()
        await flush(keys=keys, args=args)

    async def snapshot(self, chat_id: uuid.UUID) -> Snapshot:
        seq_key, buf_key, base_key, _ = self._keys(chat_id)
        client, _ = self._client()
        async with client.pipeline(transaction=True) as pipe:
            seq, raw_parts, base = await pipe.get(seq_key).lrange(buf_key, 0, -1).get(base_key).execute()
        parts = []
        for raw in raw_parts:
            seq_text, _, body = raw.decode().partition("|")
            parts.append({**json.loads(body), "seq": int(seq_text)})
        return Snapshot(int(seq or 0), parts, int(base or 0))

    async def ping(self, chat_id: uuid.UUID) -> None:
        client, _ = self._client()
        await client.publish(stream_hub.control_channel(chat_id), "0")  # the hub reads "0\n<no bodies>"


_state: StreamState | None = None


def stream_state() -> StreamState:
    global _state
    if _state is None:
        _state = RedisStreamState(redis_db(settings.REDIS_URL, 3)) if settings.DISTRIBUTED else LocalStreamState()
    return _state
