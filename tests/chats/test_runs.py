"""The worker's state transitions on the chat row (reference §3, §7)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from chats import services, sweep, worker
from chats.agent import history
from chats.agent.loop import Outcome
from chats.enums import ChatStatus
from chats.models import Chat
from chats.services import runs
from tests.chats.conftest import Recorder
from tests.chats.streams import published

pytestmark = [pytest.mark.core, pytest.mark.django_db(transaction=True)]


def test_a_chat_taken_from_a_dead_worker_says_recovered_on_its_next_status(
    alice: Any, mock_model: Any, events: Recorder
) -> None:
    chat = services.chat_create(owner=alice, content="hello")
    old = timezone.now() - timedelta(hours=1)
    Chat.objects.filter(pk=chat.pk).update(status=ChatStatus.RUNNING, worker_id="dead:1:x", heartbeat_at=old)
    sweep.sweep()
    chat.refresh_from_db()
    assert chat.status == ChatStatus.PENDING and chat.recovered and chat.worker_id is None
    assert runs.run_acquire(chat_id=chat.pk) is not None
    last = events.of(chat.pk, "status")[-1]
    assert (last["status"], last["recovered"]) == ("running", True)
    assert not Chat.objects.get(pk=chat.pk).recovered  # said once


def test_a_crash_inside_a_run_ends_in_error_with_the_reason(
    alice: Any, mock_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = services.chat_create(owner=alice, content="hello")

    def broken(chat_id: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(history, "prompt_rows", broken)
    worker.run_chat(chat.pk)
    chat.refresh_from_db()
    assert chat.status == ChatStatus.ERROR
    assert chat.last_error == "chat processing failed: RuntimeError: disk on fire"


def test_only_one_of_two_acquisitions_wins(alice: Any, mock_model: Any) -> None:
    chat = services.chat_create(owner=alice, content="hello")
    assert runs.run_acquire(chat_id=chat.pk, worker_id="a") is not None
    assert runs.run_acquire(chat_id=chat.pk, worker_id="b") is None
    assert Chat.objects.get(pk=chat.pk).worker_id == "a"


def test_a_release_by_a_worker_that_lost_the_chat_changes_nothing(alice: Any, mock_model: Any) -> None:
    chat = services.chat_create(owner=alice, content="hello")
    runs.run_acquire(chat_id=chat.pk, worker_id="new-owner")
    runs.run_release(chat_id=chat.pk, outcome=Outcome.COMPLETED, error="stale", worker_id="old-owner")
    chat.refresh_from_db()
    assert (chat.status, chat.worker_id, chat.last_error) == (ChatStatus.RUNNING, "new-owner", None)


def test_archived_pending_chats_are_not_acquired(alice: Any, mock_model: Any) -> None:
    chat = services.chat_create(owner=alice, content="hello")
    services.chat_update(chat=chat, archived=True)
    assert runs.run_acquire(chat_id=chat.pk) is None


def test_two_runs_of_one_chat_in_one_process_do_not_share_an_identity(alice: Any, mock_model: Any) -> None:
    """An edit's new run may land in the process where the superseded run still winds down."""
    chat = services.chat_create(owner=alice, content="hello")
    old_run = runs.run_acquire(chat_id=chat.pk)
    assert old_run is not None
    services.message_edit(
        chat=chat, user=alice, message_id=chat.messages.filter(role="user").get().pk, content="edited"
    )
    new_run = runs.run_acquire(chat_id=chat.pk)
    assert new_run is not None and new_run.worker_id != old_run.worker_id
    assert runs.run_check(chat_id=chat.pk, worker_id=str(old_run.worker_id)) is not None  # the old run must stop
    assert runs.run_check(chat_id=chat.pk, worker_id=str(new_run.worker_id)) is None


def test_a_ping_while_claiming_is_checked_once_the_claim_is_in(alice: Any, mock_model: Any) -> None:
    """A run watches its chat before claiming it: a ping then cannot be judged yet (the chat
    is not ours), so it is remembered and the row checked right after the claim."""
    chat = services.chat_create(owner=alice, content="hello")
    published()  # chat_create's own ping is out before the run watches
    run_id, control = runs.new_run_id(), worker.RunControl()
    worker._register(run_id, chat.pk, control)
    try:
        worker._on_run_ping(run_id)  # before the claim: no verdict on someone else's chat
        assert not control.cancelled
        assert runs.run_acquire(chat_id=chat.pk, worker_id=run_id) is not None
        Chat.objects.filter(pk=chat.pk).update(status=ChatStatus.WAITING)  # what that ping was about
        worker._claimed(run_id, chat.pk, control)
        assert control.cancelled
    finally:
        worker._unregister(run_id)


def test_a_claim_nobody_pinged_spends_no_check(alice: Any, mock_model: Any) -> None:
    chat = services.chat_create(owner=alice, content="hello")
    published()  # chat_create's own ping is out before the run watches
    run_id, control = runs.new_run_id(), worker.RunControl()
    worker._register(run_id, chat.pk, control)
    try:
        assert runs.run_acquire(chat_id=chat.pk, worker_id=run_id) is not None
        Chat.objects.filter(pk=chat.pk).update(status=ChatStatus.WAITING)  # unannounced: not seen
        worker._claimed(run_id, chat.pk, control)
        assert not control.cancelled
        worker._on_run_ping(run_id)  # once claimed, a ping checks the row at once
        assert control.cancelled
    finally:
        worker._unregister(run_id)


def test_a_release_promotes_what_was_queued_during_the_run_and_otherwise_waits(
    alice: Any, mock_model: Any, events: Recorder
) -> None:
    busy, idle = (services.chat_create(owner=alice, content=text) for text in ("busy", "idle"))
    busy_run, idle_run = runs.run_acquire(chat_id=busy.pk), runs.run_acquire(chat_id=idle.pk)
    assert busy_run is not None and idle_run is not None
    assert services.message_send(chat=busy, user=alice, content="next").queued
    runs.run_release(chat_id=busy.pk, outcome=Outcome.COMPLETED, worker_id=str(busy_run.worker_id))
    runs.run_release(chat_id=idle.pk, outcome=Outcome.COMPLETED, worker_id=str(idle_run.worker_id))
    busy.refresh_from_db()
    idle.refresh_from_db()
    assert busy.status == ChatStatus.PENDING and not busy.queued_messages.exists()
    assert busy.messages.filter(role="user").count() == 2
    assert idle.status == ChatStatus.WAITING
    assert [e["status"] for e in events.of(busy.pk, "status")][-1:] == ["pending"]  # never waiting
    assert "waiting" not in [e["status"] for e in events.of(busy.pk, "status")]
