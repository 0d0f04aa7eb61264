"""A chat-stream WebSocket client for end-to-end tests, checking the seq contract (API.md §8) as it reads."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from websockets.exceptions import ConnectionClosed

Events = list[dict[str, Any]]


def token(user: Any) -> str:
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user=user)[0].key


def auth(user: Any) -> dict[str, str]:
    return {"Authorization": f"Token {token(user)}"}


class Client:
    """Reads the snapshot on creation, then live events, failing on any gap or duplicate `seq`."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.snapshot: Events = []
        self.live: Events = []
        first = self._frame(time.monotonic() + 30)
        self.snapshot = first["events"]
        assert self.snapshot[0]["type"] == "status"  # status first
        self.seq = self.snapshot[0]["snapshot_seq"]

    def _frame(self, deadline: float) -> dict[str, Any]:
        """The next data frame (pings are skipped), or an AssertionError at `deadline`."""
        while True:
            try:
                frame = json.loads(self.socket.recv(timeout=max(deadline - time.monotonic(), 0)))
            except TimeoutError:
                seen = [(e["type"], e["seq"]) for e in self.live[-3:]]
                raise AssertionError(f"no data in time; the last events were {seen}") from None
            if frame["type"] == "data":
                assert len(frame["events"]) <= 256
                return frame

    def _take(self, frame: dict[str, Any]) -> None:
        for event in frame["events"]:
            if "snapshot_seq" in event:  # a long snapshot spans several frames
                self.snapshot.append(event)
                continue
            assert event["seq"] == self.seq + 1, f"gap or duplicate: {self.seq} then {event['seq']}"
            self.seq = event["seq"]
            self.live.append(event)

    def read_until(self, done: Callable[[Events], bool]) -> None:
        deadline = time.monotonic() + 60
        while not done(self.live):
            self._take(self._frame(deadline))

    def read_until_closed(self) -> int:
        """Everything the server sent before it closed the socket; returns the close code."""
        deadline = time.monotonic() + 60
        while True:
            try:
                self._take(self._frame(deadline))
            except ConnectionClosed as closed:
                assert closed.rcvd is not None, "closed without a close frame"
                return closed.rcvd.code

    def messages(self) -> dict[int, dict[str, Any]]:
        """The persisted messages seen, snapshot and live, by id."""
        return {e["message"]["id"]: e["message"] for e in self.snapshot + self.live if e["type"] == "message"}


def idle(events: Events) -> bool:
    return any(e["type"] == "status" and e["status"] == "waiting" for e in events)


def answer_text(events: Events) -> str:
    """The text the `message_part` deltas among `events` add up to."""
    return "".join(e["part"]["text"] for e in events if e["type"] == "message_part" and e["part"]["type"] == "text")


def refused_with(url: str, headers: dict[str, str]) -> int:
    """The close code a socket gets when the server turns it away after the handshake."""
    from websockets.sync.client import connect

    with connect(url, additional_headers=headers) as socket:
        try:
            socket.recv(timeout=10)
        except ConnectionClosed as closed:
            assert closed.rcvd is not None
            return closed.rcvd.code
    raise AssertionError("the socket was not closed")
