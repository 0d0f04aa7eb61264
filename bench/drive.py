"""Clients that stream answers: through chatd (API + one WebSocket per chat) and straight from mockllm.

Both read the send time the mock stamped into every text delta (`mock: stamp`), and note the
moment they have the parsed delta in hand: a delta's latency is the difference. The mock, the
app and this client share one machine and so one clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import openai
from websockets.asyncio.client import ClientConnection, connect

STAMP = re.compile(r"@(\d+\.\d{6}) ")
WARMUP_TEXT = "mock: text ready"
TURN_TIMEOUT_SECONDS = 300.0
CONNECT_AT_ONCE = 50  # sockets opened concurrently (a burst of thousands only measures the accept queue)


@dataclass
class Stream:
    """What one client saw of one streamed answer; times are epoch seconds."""

    chat: int = 0  # which client (chat) streamed it
    sent: float = 0.0  # the request went out
    ended: float = 0.0  # the client saw the turn end
    first_text: float | None = None  # the first text delta was in hand
    last_text: float = 0.0
    stamps: list[float] = field(default_factory=list)  # per delta: when the mock sent it
    latencies: list[float] = field(default_factory=list)  # per delta: in hand - stamped by the mock
    deltas: int = 0
    error: str | None = None

    def saw_text(self, text: str, at: float) -> None:
        stamps = [float(stamp) for stamp in STAMP.findall(text)]
        if not stamps:
            return
        if self.first_text is None:
            self.first_text = at
        self.last_text = at
        self.stamps += stamps
        self.latencies += [at - stamp for stamp in stamps]
        self.deltas += len(stamps)

    @property
    def ttft(self) -> float | None:
        return None if self.first_text is None else self.first_text - self.sent


async def staggered(count: int, ramp: float, turns: int, turn: Callable[[int], Awaitable[Stream]]) -> list[Stream]:
    """`count` clients started evenly over `ramp` seconds, each streaming `turns` answers back
    to back (`turn(client)` streams one); every answer, in no particular order."""

    async def client(index: int) -> list[Stream]:
        await asyncio.sleep(ramp * index / count)
        streams = []
        for _ in range(turns):
            stream = await turn(index)
            stream.chat, stream.ended = index, time.time()
            streams.append(stream)
            if stream.error:
                break
        return streams

    return [stream for streams in await asyncio.gather(*(client(i) for i in range(count))) for stream in streams]


def all_running(streams: list[Stream]) -> tuple[float, float] | None:
    """The window in which every client was streaming: from the last client's first request to
    the first client's last turn end. None when there is no such window (e.g. one turn each)."""
    first_sent: dict[int, float] = {}
    last_ended: dict[int, float] = {}
    for stream in streams:
        first_sent[stream.chat] = min(first_sent.get(stream.chat, stream.sent), stream.sent)
        last_ended[stream.chat] = max(last_ended.get(stream.chat, stream.ended), stream.ended)
    if not streams:
        return None
    start, end = max(first_sent.values()), min(last_ended.values())
    return (start, end) if end > start else None


# --- straight from the mock ------------------------------------------------------------------


async def direct_streams(mock_url: str, content: str, count: int, ramp: float, turns: int) -> list[Stream]:
    """The same requests an agent would make, with the openai SDK, no chatd (see `staggered`)."""
    async with openai.AsyncOpenAI(
        base_url=f"{mock_url}/v1", api_key="mock", max_retries=0, timeout=TURN_TIMEOUT_SECONDS
    ) as client:  # its default pool allows 1000 connections

        async def one(_: int) -> Stream:
            stream = Stream(sent=time.time())
            try:
                chunks = await client.chat.completions.create(
                    model="mock-model", messages=[{"role": "user", "content": content}], stream=True
                )
                async for chunk in chunks:
                    at = time.time()
                    for choice in chunk.choices:
                        stream.saw_text(choice.delta.content or "", at)
            except Exception as exc:
                stream.error = _described(exc)
            return stream

        return await staggered(count, ramp, turns, one)


# --- through chatd ---------------------------------------------------------------------------


@dataclass
class Chat:
    """One chat with its WebSocket open, and the seq of the last event it received."""

    id: str
    socket: ClientConnection
    last_seq: int = 0


async def _frames(socket: ClientConnection, deadline: float) -> Any:
    """Data frames' events, each with the time the frame was parsed; pings skipped."""
    while True:
        raw = await asyncio.wait_for(socket.recv(), timeout=max(0.1, deadline - time.monotonic()))
        frame = json.loads(raw)
        at = time.time()
        if frame["type"] == "data":
            yield frame["events"], at


class ChatdClient:
    """A user of the API: creates chats, keeps a WebSocket on each, sends messages."""

    def __init__(self, base_http: str, base_ws: str, token: str, model_config_id: int, connections: int) -> None:
        self.base_ws = base_ws
        self.headers = {"Authorization": f"Token {token}"}
        self.model_config_id = model_config_id
        # Drop idle connections well before the server's 5 s keep-alive ends, so a request never
        # goes out on a connection the server is closing at that moment (a spurious ReadError).
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=1)
        self.http = httpx.AsyncClient(base_url=base_http, headers=self.headers, limits=limits, timeout=120)
        self.connecting = asyncio.Semaphore(CONNECT_AT_ONCE)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def open_socket(self, chat_id: str) -> ClientConnection:
        async with self.connecting:
            return await connect(
                f"{self.base_ws}/ws/chats/{chat_id}/?after_id=0", additional_headers=self.headers, max_size=None
            )

    async def ready_chat(self) -> Chat:
        """A chat whose first (short) turn is over, its socket open and caught up.

        The first turn also generates the title, so the measured turn is a plain follow-up.
        """
        async with self.connecting:
            response = await self.http.post(
                "/api/chats/", json={"content": WARMUP_TEXT, "model_config_id": self.model_config_id}
            )
        response.raise_for_status()
        chat = Chat(response.json()["id"], await self.open_socket(response.json()["id"]))
        answered = idle = False
        async for events, _ in _frames(chat.socket, time.monotonic() + TURN_TIMEOUT_SECONDS):
            for event in events:
                chat.last_seq = max(chat.last_seq, event.get("seq") or event.get("snapshot_seq") or 0)
                answered |= event["type"] == "message" and event["message"]["role"] == "assistant"
                if event["type"] == "status":
                    idle = event["status"] == "waiting"
                    if event["status"] == "error":
                        raise RuntimeError(f"warm-up turn of chat {chat.id} failed: {event}")
            if answered and idle:
                return chat
        raise AssertionError("unreachable")

    async def stream_turn(self, chat: Chat, content: str) -> Stream:
        """Send `content` and read the socket until the turn is over; checks every seq arrives once."""
        stream = Stream()
        sent_id: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        reading = asyncio.create_task(self._read_turn(chat, stream, sent_id))
        stream.sent = time.time()
        try:
            response = await self.http.post(f"/api/chats/{chat.id}/messages/", json={"content": content})
            if response.status_code != 201:
                stream.error = f"send: HTTP {response.status_code} {response.text[:200]}"
                reading.cancel()
                return stream
            sent_id.set_result(int(response.json()["message"]["id"]))
            await reading
        except Exception as exc:
            stream.error = stream.error or _described(exc)
            reading.cancel()
        return stream

    async def _read_turn(self, chat: Chat, stream: Stream, sent_id: asyncio.Future[int]) -> None:
        """Until `waiting` follows the answer to the message sent.

        Under load the events of the warm-up turn may still be arriving (the database was ahead
        of the stream when the socket's snapshot was read), so a `waiting` alone proves nothing.
        """
        answers: list[int] = []
        async for events, at in _frames(chat.socket, time.monotonic() + TURN_TIMEOUT_SECONDS):
            for event in events:
                if event["seq"] != chat.last_seq + 1:
                    stream.error = f"seq {event['seq']} after {chat.last_seq}"
                chat.last_seq = event["seq"]
                kind = event["type"]
                if kind == "message_part" and event["part"].get("type") == "text":
                    stream.saw_text(event["part"]["text"], at)
                elif kind == "message" and event["message"]["role"] == "assistant":
                    answers.append(int(event["message"]["id"]))
                elif kind == "error":
                    stream.error = f"error event: {event['error']}"
                elif kind == "status" and event["status"] == "error":  # the warm-up turn never ends so
                    stream.error = stream.error or f"chat error: {event.get('last_error')}"
                    return
                elif kind == "status" and event["status"] == "waiting":
                    sent = await sent_id
                    if any(answer > sent for answer in answers):
                        return

    async def idle_sockets(self, chats: list[Chat], count: int) -> list[ClientConnection]:
        """`count` more sockets spread over the chats, each past its snapshot."""

        async def one(index: int) -> ClientConnection:
            socket = await self.open_socket(chats[index % len(chats)].id)
            await asyncio.wait_for(socket.recv(), timeout=60)  # the snapshot
            return socket

        return list(await asyncio.gather(*(one(i) for i in range(count))))


def _described(exc: BaseException) -> str:
    """The error and where it was raised: a bare TimeoutError says little by itself."""
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" (at {Path(frame.filename).name}:{frame.lineno} in {frame.name})" if frame else ""
    return f"{type(exc).__name__}: {exc}{where}"


async def close_all(sockets: list[ClientConnection]) -> None:
    async def close(socket: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            await socket.close()

    await asyncio.gather(*(close(s) for s in sockets))
