"""Celery tasks: interfaces only, ids in, one call out."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from celery.signals import worker_shutting_down

from chats import sweep as sweeping
from chats import worker


@shared_task(name="chats.run_chat", ignore_result=True)
def run_chat(chat_id: str) -> None:
    worker.run_chat(chat_id)


@shared_task(name="chats.sweep", ignore_result=True)
def sweep() -> None:
    sweeping.sweep()


@worker_shutting_down.connect
def _release_running_chats(**kwargs: Any) -> None:
    """Warm shutdown (SIGTERM): hand running chats back to `pending` so another worker resumes."""
    worker.shutdown_runs()
