"""Events published from request threads reach WebSocket clients through a real server.

In embedded mode the in-memory channel layer lives on the server's event loop and is not
thread-safe; every publish from another thread must be handed to that loop. Several chats
streaming at once from several threads prove the hand-off (and, in distributed mode, the
same path through Redis).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from chats.enums import ChatStatus
from chats.models import Chat
from tests.conftest import make_user
from tests.e2e.conftest import LiveApp

pytestmark = [pytest.mark.core, pytest.mark.django_db(transaction=True)]

CHATS = 6
CHUNKS = 30


def _token(user: Any) -> str:
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user=user)[0].key


def _events(socket: Any, count: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while len(events) < count:
        frame = json.loads(socket.recv(timeout=20))
        if frame["type"] == "data":
            events += frame["events"]
    return events


def _events_until_idle(socket: Any) -> list[dict[str, Any]]:
    """Events up to the `waiting` status that ends the turn (pings keep the socket busy: a deadline)."""
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + 60
    while not any(e["type"] == "status" and e["status"] == "waiting" for e in events):
        assert time.monotonic() < deadline, f"the turn did not end: {events[-3:]}"
        frame = json.loads(socket.recv(timeout=30))
        if frame["type"] == "data":
            events += frame["events"]
    return events


def test_several_chats_stream_at_once(live_app: LiveApp, alice: Any, mock_model: Any) -> None:
    """Each chat's answer arrives token by token, complete and in order, while all run at once."""
    headers = {"Authorization": f"Token {_token(alice)}"}
    chats = [Chat.objects.create(owner=alice, model_config=mock_model, status=ChatStatus.WAITING) for _ in range(CHATS)]
    with contextlib.ExitStack() as stack:
        sockets = [
            stack.enter_context(connect(f"{live_app.ws}/ws/chats/{chat.id}/", additional_headers=headers))
            for chat in chats
        ]
        for socket in sockets:
            assert _events(socket, 1)[0]["type"] == "status"  # snapshot of an empty chat

        def send(chat: Chat) -> None:
            content = f"mock: slow {CHUNKS} 5ms"
            response = httpx.post(f"{live_app.http}/api/chats/{chat.id}/messages/", json={"content": content},
                                  headers=headers, timeout=20)  # fmt: skip
            assert response.status_code == 201, response.text

        threads = [threading.Thread(target=send, args=(chat,)) for chat in chats]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        for chat, socket in zip(chats, sockets, strict=True):
            events = _events_until_idle(socket)
            assert all(e["chat_id"] == str(chat.id) for e in events)
            assert [e["status"] for e in events if e["type"] == "status"] == ["pending", "running", "waiting"]
            deltas = [e["part"]["text"] for e in events if e["type"] == "message_part"]
            answers = [e["message"] for e in events if e["type"] == "message" and e["message"]["role"] == "assistant"]
            assert len(deltas) >= CHUNKS and len(answers) == 1
            assert "".join(deltas) == answers[0]["parts"][0]["text"]


def test_sockets_of_others_and_strangers_are_refused(
    live_app: LiveApp, alice: Any, django_user_model: Any, model_config: Any
) -> None:
    chat = Chat.objects.create(owner=alice, model_config=model_config)
    bob = make_user(django_user_model, "bob")
    for headers, code in [({"Authorization": f"Token {_token(bob)}"}, 4404), ({}, 4401)]:
        with connect(f"{live_app.ws}/ws/chats/{chat.id}/", additional_headers=headers) as socket:
            with pytest.raises(ConnectionClosed) as closed:
                socket.recv(timeout=10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == code


def test_cross_site_browser_sockets_are_refused(live_app: LiveApp, alice: Any) -> None:
    headers = {"Authorization": f"Token {_token(alice)}", "Origin": "https://evil.example"}
    with pytest.raises(Exception, match="403"):
        connect(f"{live_app.ws}/ws/chats/", additional_headers=headers)


def test_sidebar_gets_own_chat_events(live_app: LiveApp, alice: Any, mock_model: Any) -> None:
    headers = {"Authorization": f"Token {_token(alice)}"}
    with connect(f"{live_app.ws}/ws/chats/", additional_headers=headers) as socket:
        assert json.loads(socket.recv(timeout=10)) == {"type": "ping"}
        response = httpx.post(f"{live_app.http}/api/chats/", json={"content": "hello there"}, headers=headers)
        assert response.status_code == 201
        events = _events(socket, 4)
        assert [(e["kind"], e["chat"]["status"]) for e in events[:2]] == [
            ("created", "pending"),
            ("status_change", "running"),
        ]
        assert all(e["chat"]["id"] == response.json()["id"] for e in events)


def test_a_burst_of_sidebar_sockets_all_connect_and_hear_events(live_app: LiveApp, alice: Any, mock_model: Any) -> None:
    """Every open sidebar reconnects at once after a restart: past a hundred group_adds at once,
    redis-py's default pool refused connections and those sockets were dropped."""
    headers = {"Authorization": f"Token {_token(alice)}"}
    sockets = 300
    all_subscribed = threading.Barrier(sockets + 1, timeout=60)

    def sidebar(_: int) -> str:
        with connect(f"{live_app.ws}/ws/chats/", additional_headers=headers) as socket:
            assert json.loads(socket.recv(timeout=30)) == {"type": "ping"}  # subscribed
            all_subscribed.wait()
            return str(_events(socket, 1)[0]["chat"]["id"])

    with ThreadPoolExecutor(max_workers=sockets) as pool:
        heard = [pool.submit(sidebar, index) for index in range(sockets)]
        all_subscribed.wait()
        response = httpx.post(f"{live_app.http}/api/chats/", json={"content": "hello"}, headers=headers)
        assert response.status_code == 201
        assert [future.result() for future in heard] == [response.json()["id"]] * sockets


def test_a_burst_of_chat_sockets_all_get_their_snapshot(live_app: LiveApp, alice: Any, model_config: Any) -> None:
    """Each chat socket reads its snapshot from Redis: past a hundred at once, redis-py's default
    pool refused connections and those sockets were dropped."""
    chat = Chat.objects.create(owner=alice, model_config=model_config)
    headers = {"Authorization": f"Token {_token(alice)}"}

    def snapshot(_: int) -> dict[str, Any]:
        with connect(f"{live_app.ws}/ws/chats/{chat.id}/", additional_headers=headers) as socket:
            return dict(json.loads(socket.recv(timeout=30)))

    with ThreadPoolExecutor(max_workers=300) as pool:
        frames = list(pool.map(snapshot, range(300)))
    assert {(frame["type"], frame["events"][0]["type"]) for frame in frames} == {("data", "status")}


def test_serve_exits_cleanly_on_sigterm(live_app: LiveApp) -> None:
    assert live_app.stop() == 0
