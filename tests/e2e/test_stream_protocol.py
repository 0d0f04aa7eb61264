"""The chat stream protocol over a real server: snapshot + live, numbered, each event once."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from chats.models import Chat, Message
from tests.e2e.conftest import LiveApp
from tests.e2e.streams import Client, answer_text, idle, token

pytestmark = [pytest.mark.core, pytest.mark.django_db(transaction=True)]


def test_a_client_joining_mid_answer_sees_the_answer_so_far_then_the_rest_exactly_once(
    live_app: LiveApp, alice: Any, mock_model: Any
) -> None:
    headers = {"Authorization": f"Token {token(alice)}"}
    chat = httpx.post(f"{live_app.http}/api/chats/", json={"content": "mock: slow 80 25ms"}, headers=headers).json()
    url = f"{live_app.ws}/ws/chats/{chat['id']}/"
    with connect(url, additional_headers=headers) as early:
        watcher = Client(early)
        watcher.read_until(lambda live: len([e for e in live if e["type"] == "message_part"]) >= 20)
        with connect(url, additional_headers=headers) as late:
            joiner = Client(late)
            so_far = answer_text(joiner.snapshot)
            assert so_far, "the snapshot carries the in-flight answer"
            joiner.read_until(idle)
        watcher.read_until(idle)

    stored = Message.objects.get(chat_id=chat["id"], role="assistant").parts[0]["text"]
    rest = answer_text([e for e in joiner.live if e["type"] == "message_part"])
    assert so_far + rest == stored
    assert answer_text(watcher.snapshot + watcher.live) == stored
    assert [e["type"] for e in joiner.live if e["type"] == "message"] == ["message"]


def test_reconnecting_with_after_id_gives_the_same_history_with_no_gap_or_duplicate(
    live_app: LiveApp, alice: Any, mock_model: Any
) -> None:
    headers = {"Authorization": f"Token {token(alice)}"}
    chat = Chat.objects.create(owner=alice, model_config=mock_model, status="waiting")
    url = f"{live_app.ws}/ws/chats/{chat.id}/"
    seen: dict[int, dict[str, Any]] = {}
    for text in ("first question", "second question"):
        with connect(url + f"?after_id={max(seen, default=0)}", additional_headers=headers) as socket:
            client = Client(socket)
            for event in client.snapshot:
                if event["type"] == "message":
                    assert event["message"]["id"] not in seen  # nothing twice
                    seen[event["message"]["id"]] = event["message"]
            httpx.post(f"{live_app.http}/api/chats/{chat.id}/messages/", json={"content": text}, headers=headers)
            client.read_until(idle)
            for event in client.live:
                if event["type"] == "message":
                    seen[event["message"]["id"]] = event["message"]
    stored = {m.id: m.role for m in Message.objects.user_visible().filter(chat=chat)}
    assert {i: m["role"] for i, m in seen.items()} == stored  # no gap
    assert list(stored.values()) == ["user", "assistant", "user", "assistant"]
