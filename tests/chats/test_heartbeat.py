"""A worker's heartbeat (reference §7) keeps its live runs, stops the ones it lost, and never
waits for the connection pool that the runs themselves use."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from psycopg_pool import PoolTimeout

from chats import worker
from chats.agent.control import CancelReason, RunControl
from chats.enums import ChatStatus
from chats.models import Chat

# "heartbeat": the worker's own connection to the same database (a test mirror of "default").
pytestmark = [pytest.mark.core, pytest.mark.django_db(transaction=True, databases=["default", "heartbeat"])]

LONG_AGO = timezone.now() - timedelta(hours=1)


def _running(owner: Any, run_id: str) -> Chat:
    return Chat.objects.create(owner=owner, status=ChatStatus.RUNNING, worker_id=run_id, heartbeat_at=LONG_AGO)


def _beat_on_the_heartbeat_thread(beating: dict[str, tuple[uuid.UUID, RunControl]]) -> None:
    """One heartbeat on a thread of its own, as the worker's heartbeat thread does it."""
    thread = threading.Thread(target=worker.heartbeat, args=(beating,))
    thread.start()
    thread.join()


def _heartbeat_at(chat: Chat) -> Any:
    return Chat.objects.values_list("heartbeat_at", flat=True).get(pk=chat.pk)


def test_a_heartbeat_keeps_its_live_runs_and_stops_the_ones_taken_from_it(alice: Any) -> None:
    live = _running(alice, "host:1:proc:live")
    interrupted = _running(alice, "host:1:proc:interrupted")
    taken = _running(alice, "host:1:proc:taken")
    Chat.objects.filter(pk=interrupted.pk).update(status=ChatStatus.WAITING, worker_id=None)
    Chat.objects.filter(pk=taken.pk).update(worker_id="other:2:proc:run")
    controls = {chat.worker_id: RunControl() for chat in (live, interrupted, taken)}

    _beat_on_the_heartbeat_thread(
        {chat.worker_id: (chat.pk, controls[chat.worker_id]) for chat in (live, interrupted, taken)}
    )

    assert _heartbeat_at(live) > LONG_AGO and not controls[live.worker_id].cancelled
    assert controls[interrupted.worker_id].reason == CancelReason.INTERRUPT
    assert controls[taken.worker_id].reason == CancelReason.SUPERSEDED
    assert _heartbeat_at(taken) == LONG_AGO  # another worker's run is not ours to keep alive


@contextlib.contextmanager
def _pool_exhausted() -> Iterator[None]:
    """Every connection of this process's pool checked out, as during a burst of claims."""
    connection.close()  # give the test's own connection back first
    pool = connection.pool
    held: list[Any] = []
    try:
        # Take what is free; threads of earlier tests may still hold some, which counts too.
        while len(held) < pool.max_size:
            try:
                held.append(pool.getconn(timeout=1))
            except PoolTimeout:
                break
        yield
    finally:
        for conn in held:
            pool.putconn(conn)


@pytest.mark.skipif("pool" not in settings.DATABASES["default"].get("OPTIONS", {}), reason="no connection pool")
def test_a_heartbeat_does_not_wait_for_a_pooled_connection(alice: Any) -> None:
    chat = _running(alice, "host:1:proc:run")
    control = RunControl()
    with _pool_exhausted():
        # A heartbeat that borrowed from the pool would time out here and leave the chat stale.
        _beat_on_the_heartbeat_thread({chat.worker_id: (chat.pk, control)})
    assert _heartbeat_at(chat) > LONG_AGO and not control.cancelled
