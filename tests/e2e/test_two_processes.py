"""Two ASGI servers and two Celery workers on one PostgreSQL + Redis, as a real deployment runs.

A chat's run lives on whichever worker claimed it, its HTTP writes may land on one server and
its WebSocket on another: everything a client sees crosses processes through Redis (the
channel layer for events, the stream state for `seq`) and the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from chats.enums import ChatStatus, Role
from chats.models import Chat, Message
from chats.parts import parts_text
from tests.e2e.conftest import LiveApp, start_app
from tests.e2e.streams import Client, Events, answer_text, auth, idle, refused_with
from tests.e2e.workers import CeleryProcess, Cluster, cluster

__all__ = ["cluster"]  # the fixture, imported so pytest finds it

pytestmark = [pytest.mark.distributed, pytest.mark.django_db(transaction=True)]

CHUNKS = 60
FULL_REPLY = "".join(f"chunk {i} " for i in range(CHUNKS))


@dataclass
class Deployment:
    a: LiveApp
    b: LiveApp
    workers: list[CeleryProcess]
    cluster: Cluster

    def owner(self, chat: Chat) -> CeleryProcess:
        """The one worker running `chat` now."""
        chat.refresh_from_db()
        owners = [worker for worker in self.workers if worker.owns(chat)]
        assert chat.status == ChatStatus.RUNNING and len(owners) == 1, (chat.status, chat.worker_id)
        return owners[0]


@pytest.fixture
def deployment(cluster: Cluster) -> Iterator[Deployment]:
    workers = cluster.workers(2)
    a, b = start_app(), start_app()
    try:
        yield Deployment(a, b, workers, cluster)
    finally:
        a.stop()
        b.stop()


def _deltas(events: Events) -> int:
    return sum(e["type"] == "message_part" for e in events)


def _assistant(events: Events) -> list[dict[str, Any]]:
    return [e["message"] for e in events if e["type"] == "message" and e["message"]["role"] == "assistant"]


def _send(app: LiveApp, chat: Chat, user: Any, content: str) -> None:
    response = httpx.post(f"{app.http}/api/chats/{chat.id}/messages/", json={"content": content}, headers=auth(user))
    assert response.status_code == 201, response.text


def test_a_client_on_one_server_streams_a_run_on_a_worker_whole_and_in_order(
    deployment: Deployment, alice: Any, bob: Any, mock_model: Any
) -> None:
    chat = Chat.objects.create(owner=alice, model_config=mock_model, status=ChatStatus.WAITING)
    url = f"{deployment.b.ws}/ws/chats/{chat.id}/"
    with connect(url, additional_headers=auth(alice)) as socket:
        client = Client(socket)
        _send(deployment.a, chat, alice, f"mock: slow {CHUNKS} 50ms")
        client.read_until(lambda live: _deltas(live) >= 5)
        owner = deployment.owner(chat)
        # Mid-run, another user's socket on the same server gets nothing of it.
        assert refused_with(url, auth(bob)) == 4404
        client.read_until(idle)

    assert "Task chats.run_chat[" in owner.log_text()
    assert [e["status"] for e in client.live if e["type"] == "status"] == ["pending", "running", "waiting"]
    stored = Message.objects.get(chat=chat, role=Role.ASSISTANT)
    assert answer_text(client.live) == parts_text(stored.parts) == FULL_REPLY
    assert [m["id"] for m in _assistant(client.live)] == [stored.id]
    assert parts_text(_assistant(client.live)[0]["parts"]) == FULL_REPLY


def test_an_interrupt_sent_to_one_server_reaches_a_client_on_the_other(
    deployment: Deployment, alice: Any, mock_model: Any
) -> None:
    chat = Chat.objects.create(owner=alice, model_config=mock_model, status=ChatStatus.WAITING)
    with connect(f"{deployment.b.ws}/ws/chats/{chat.id}/", additional_headers=auth(alice)) as socket:
        client = Client(socket)
        _send(deployment.a, chat, alice, "mock: slow 400 50ms")
        client.read_until(lambda live: _deltas(live) >= 10)
        owner = deployment.owner(chat)

        response = httpx.post(f"{deployment.a.http}/api/chats/{chat.id}/interrupt/", headers=auth(alice))
        assert response.status_code == 200 and response.json()["status"] == "waiting", response.text
        client.read_until(lambda live: idle(live) and bool(_assistant(live)))

    assert "Task chats.run_chat[" in owner.log_text()
    chat.refresh_from_db()
    assert chat.status == ChatStatus.WAITING and chat.last_error is None
    stored = Message.objects.get(chat=chat, role=Role.ASSISTANT)
    partial = parts_text(stored.parts)
    assert partial and len(partial) < len("".join(f"chunk {i} " for i in range(400)))
    assert answer_text(client.live) == partial  # what the client saw is what was kept
    assert parts_text(_assistant(client.live)[0]["parts"]) == partial
    assert [e["status"] for e in client.live if e["type"] == "status"][-1] == "waiting"
