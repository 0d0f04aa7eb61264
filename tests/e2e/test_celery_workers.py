"""The agent loop on real Celery workers: a dead or stopping worker loses no chat and
duplicates no message, and racing workers run each pending chat exactly once (reference §7).

The `distributed` tests start real `celery worker` and `celery beat` processes on the test
database and Redis (see tests/e2e/workers.py); the `core` tests check the ownership rules
those rely on directly against the database, in both modes.
"""

from __future__ import annotations

import json
import signal
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from chats import sweep
from chats.agent.title import SYSTEM_PROMPT as TITLE_PROMPT
from chats.enums import ChatStatus, Role
from chats.models import Chat, Message
from chats.parts import parts_text
from chats.services import chat_create, runs
from chats.tasks import run_chat
from providers.mockllm import MockLLMServer
from tests.e2e.workers import CeleryProcess, Cluster, EventRecorder, cluster, recording, wait_for
from tests.llm import recorded

__all__ = ["cluster"]  # the fixture, imported so pytest finds it

pytestmark = [pytest.mark.django_db(transaction=True)]

CHUNKS = 60
FULL_REPLY = "".join(f"chunk {i} " for i in range(CHUNKS))
SLOW = f"mock: slow {CHUNKS} 50ms"


def _turn_requests(llm: MockLLMServer, marker: str) -> list[dict[str, Any]]:
    """Turn requests mockllm received whose prompt mentions `marker` (title requests left out)."""
    bodies = [json.dumps(request["body"]) for request in recorded(llm)]
    return [json.loads(body) for body in bodies if marker in body and TITLE_PROMPT not in body]


def _messages(chat: Chat, role: Role) -> list[Message]:
    return list(Message.objects.filter(chat=chat, role=role).order_by("id"))


def _start_two_workers_and_beat(cluster: Cluster) -> list[CeleryProcess]:
    workers = cluster.workers(2)
    cluster.wait_ready(cluster.beat())
    return workers


def _streaming_owner(
    cluster: Cluster, workers: list[CeleryProcess], chat: Chat, events: EventRecorder
) -> CeleryProcess:
    """The worker running `chat`, once the model's reply has started to stream to clients."""
    wait_for(lambda: any(e["type"] == "message_part" for e in events.events), "the reply to stream", cluster)
    chat.refresh_from_db()
    owners = [worker for worker in workers if worker.owns(chat)]
    assert chat.status == ChatStatus.RUNNING and len(owners) == 1, (chat.status, chat.worker_id, cluster.logs())
    return owners[0]


def _runs_on(cluster: Cluster, worker: CeleryProcess, chat: Chat) -> None:
    def running_there() -> bool:
        chat.refresh_from_db()
        return chat.status == ChatStatus.RUNNING and worker.owns(chat)

    wait_for(running_there, f"the chat to run on {worker.name}", cluster)


def _settled(cluster: Cluster, chat: Chat) -> Chat:
    """The chat once its run has ended (waiting or error)."""

    def settled() -> bool:
        chat.refresh_from_db()
        return chat.status in (ChatStatus.WAITING, ChatStatus.ERROR)

    wait_for(settled, "the chat to finish", cluster)
    return chat


def _recoveries(cluster: Cluster) -> str:
    """The stale recoveries the sweep logged, which should only ever follow a dead worker."""
    lines = [line for p in cluster.processes for line in p.log_text().splitlines() if "from dead workers" in line]
    return "\n".join(lines)


def _assert_answered_once(cluster: Cluster, chat: Chat) -> None:
    """One user message, one complete assistant answer, no error: nothing lost or doubled."""
    assert chat.status == ChatStatus.WAITING, (chat.status, chat.last_error, cluster.logs())
    assert chat.last_error is None
    assert len(_messages(chat, Role.USER)) == 1
    answers = _messages(chat, Role.ASSISTANT)
    assert [parts_text(a.parts) for a in answers] == [FULL_REPLY], cluster.logs()
    assert _messages(chat, Role.TOOL) == []


@pytest.mark.distributed
def test_kill_9_mid_stream_recovers_on_another_worker_without_duplicates(
    cluster: Cluster, alice: Any, mock_model: Any, llm: MockLLMServer
) -> None:
    workers = _start_two_workers_and_beat(cluster)
    chat = chat_create(owner=alice, content=SLOW)
    with recording(chat.id) as events:
        owner = _streaming_owner(cluster, workers, chat, events)
        survivor = next(worker for worker in workers if worker is not owner)
        owner.signal(signal.SIGKILL)
        assert owner.process.wait(timeout=10) == -signal.SIGKILL

        _runs_on(cluster, survivor, chat)
        _settled(cluster, chat)
        # The status event goes out after the commit: the row can settle before it arrives.
        wait_for(lambda: events.statuses()[-1:] == [("waiting", False)], "the final status event", cluster)

    _assert_answered_once(cluster, chat)
    # The sweep found the dead worker's chat stale, made it pending, and the next acquisition
    # announced the recovery; no second run overlapped the first.
    assert events.statuses()[-3:] == [("pending", False), ("running", True), ("waiting", False)], cluster.logs()
    assert events.statuses().count(("running", True)) == 1
    assert "recovered 1 chats from dead workers" in survivor.log_text()
    assert len(_turn_requests(llm, SLOW)) == 2  # the killed run's and the recovered run's
    assert not chat.recovered


@pytest.mark.distributed
def test_sigterm_releases_the_chat_and_another_worker_finishes_it(
    cluster: Cluster, alice: Any, mock_model: Any, llm: MockLLMServer
) -> None:
    workers = _start_two_workers_and_beat(cluster)
    chat = chat_create(owner=alice, content=SLOW)
    with recording(chat.id) as events:
        owner = _streaming_owner(cluster, workers, chat, events)
        survivor = next(worker for worker in workers if worker is not owner)
        owner.signal(signal.SIGTERM)

        _runs_on(cluster, survivor, chat)
        assert owner.process.wait(timeout=60) == 0, owner.log_text()
        _settled(cluster, chat)
        # The status event goes out after the commit: the row can settle before it arrives.
        wait_for(lambda: events.statuses()[-1:] == [("waiting", False)], "the final status event", cluster)

    _assert_answered_once(cluster, chat)
    # Released by the stopping worker, not recovered as stale: pending with no error, and the
    # next acquisition is an ordinary one.
    statuses = events.statuses()
    assert statuses[-3:] == [("pending", False), ("running", False), ("waiting", False)], cluster.logs()
    assert ("running", True) not in statuses
    assert not [e for e in events.events if e["type"] == "error"]
    assert len(_turn_requests(llm, SLOW)) == 2  # the released run's and the resumed run's


@pytest.mark.distributed
def test_two_workers_racing_for_fifty_pending_chats_run_each_exactly_once(
    cluster: Cluster, alice: Any, mock_model: Any, llm: MockLLMServer
) -> None:
    workers = _start_two_workers_and_beat(cluster)
    markers = [f"race-{i}-{uuid.uuid4().hex[:8]}" for i in range(50)]
    chats = [chat_create(owner=alice, content=f"{marker}\nmock: text done {marker}") for marker in markers]
    for chat in chats:  # a second task per chat, as a redelivery would: both workers go for it
        run_chat.delay(str(chat.id))

    def all_settled() -> bool:
        return not Chat.objects.filter(pk__in=[c.pk for c in chats]).exclude(status=ChatStatus.WAITING).exists()

    wait_for(all_settled, "all 50 chats to be answered", cluster)

    for marker, chat in zip(markers, chats, strict=True):
        answers = [parts_text(m.parts) for m in _messages(chat, Role.ASSISTANT)]
        assert answers == [f"done {marker}"], (marker, answers, cluster.logs())
    # A chat taken from a live worker (a late heartbeat read as a dead worker) shows up here.
    requests = {marker: len(_turn_requests(llm, marker)) for marker in markers}
    rerun = {marker: count for marker, count in requests.items() if count != 1}
    assert rerun == {}, _recoveries(cluster)
    received = [worker.log_text().count("Task chats.run_chat[") for worker in workers]
    assert all(received), f"both workers should have taken tasks: {received}"


@pytest.fixture
def dispatched(monkeypatch: pytest.MonkeyPatch) -> list[uuid.UUID]:
    """Chats handed to a runner, recorded instead of sent to a broker."""
    calls: list[uuid.UUID] = []
    monkeypatch.setattr("chats.runner.dispatch", calls.append)
    return calls


def _row(chat: Chat) -> dict[str, Any]:
    return Chat.objects.filter(pk=chat.pk).values(
        "status", "worker_id", "started_at", "heartbeat_at", "updated_at", "recovered", "last_error"
    )[0]


@pytest.mark.core
def test_heartbeat_from_a_worker_that_no_longer_owns_the_chat_changes_nothing(
    alice: Any, dispatched: list[uuid.UUID]
) -> None:
    chat = Chat.objects.create(owner=alice, status=ChatStatus.PENDING)
    assert runs.run_acquire(chat_id=chat.pk, worker_id="old:1:a") is not None
    Chat.objects.filter(pk=chat.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert runs.chats_recover_stale(stale_after=timedelta(minutes=5)) == [chat.pk]

    # Released but not yet taken: the old worker cannot claim it back with a heartbeat.
    before = _row(chat)
    assert runs.run_heartbeat(chat_id=chat.pk, worker_id="old:1:a") is False
    assert _row(chat) == before

    # Taken over by another worker: the old one's heartbeat neither refreshes nor steals it.
    assert runs.run_acquire(chat_id=chat.pk, worker_id="new:2:b") is not None
    Chat.objects.filter(pk=chat.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=1))
    before = _row(chat)
    assert runs.run_heartbeat(chat_id=chat.pk, worker_id="old:1:a") is False
    assert _row(chat) == before

    assert runs.run_heartbeat(chat_id=chat.pk, worker_id="new:2:b") is True  # the owner's still counts
    assert _row(chat)["heartbeat_at"] > before["heartbeat_at"]


@pytest.mark.core
def test_waiting_chats_are_never_recovered_as_stale(alice: Any, dispatched: list[uuid.UUID]) -> None:
    long_ago = timezone.now() - timedelta(hours=1)
    waiting = Chat.objects.create(owner=alice, status=ChatStatus.WAITING)
    # Even a waiting row that still carries an old worker's fields, as if a release had been cut short.
    Chat.objects.filter(pk=waiting.pk).update(worker_id="dead:1:a", heartbeat_at=long_ago, updated_at=long_ago)
    running = Chat.objects.create(owner=alice, status=ChatStatus.PENDING)
    runs.run_acquire(chat_id=running.pk, worker_id="dead:1:a")
    Chat.objects.filter(pk=running.pk).update(heartbeat_at=long_ago)
    before = _row(waiting)

    sweep.sweep(stale_after=timedelta(0))

    assert _row(waiting) == before
    assert _row(running)["status"] == ChatStatus.PENDING and _row(running)["recovered"]  # the sweep did run
    # Dispatch waits for the publisher (so `pending` goes out before the worker's `running`).
    wait_for(lambda: dispatched, "the recovered chat's dispatch")
    assert dispatched == [running.pk]
