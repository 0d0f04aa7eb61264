"""Celery tasks: interfaces only, ids in, one call out."""

from __future__ import annotations

import threading
from typing import Any

from celery import shared_task
from celery.signals import worker_shutting_down

from chats import sweep as sweeping
from chats import worker

# Set once this worker starts a warm shutdown: it still consumes for a moment after the signal,
# and must not pick up the very chats it has just released (nothing would stop those runs).
_stopping = threading.Event()


@shared_task(name="chats.run_chat", ignore_result=True)
def run_chat(chat_id: str) -> None:
    if _stopping.is_set():
        return  # the chat stays pending; the sweep hands it to a worker that is not stopping
    worker.run_chat(chat_id)


@shared_task(name="chats.sweep", ignore_result=True)
def sweep() -> None:
    sweeping.sweep()


@worker_shutting_down.connect
def _release_running_chats(**kwargs: Any) -> None:
    """Warm shutdown (SIGTERM): hand running chats back to `pending` so another worker resumes."""
    _stopping.set()
    worker.shutdown_runs()
