"""Where a pending chat runs: a Celery worker (distributed) or `serve`'s own threads (embedded).

Both call `worker.run_chat`; only the hand-off differs. A process with neither (a test, a
management command in embedded mode) dispatches nothing: the next sweep picks the chat up.
"""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger(__name__)


class _EmbeddedRunner:
    def __init__(self, *, sweep: bool) -> None:
        self.stop = threading.Event()
        self.executor = ThreadPoolExecutor(max_workers=settings.CHATD_EMBEDDED_WORKERS, thread_name_prefix="chat-run")
        if sweep:
            threading.Thread(target=_sweep_loop, args=(self.stop,), name="chatd-sweep", daemon=True).start()


_embedded: _EmbeddedRunner | None = None


def dispatch(chat_id: uuid.UUID) -> None:
    embedded = _embedded
    if embedded is not None:
        if not embedded.stop.is_set():  # shutting down: released chats wait for the next start
            from chats import worker

            embedded.executor.submit(worker.run_chat, chat_id)
    elif settings.DISTRIBUTED:
        from chats.tasks import run_chat

        run_chat.delay(str(chat_id))


def start_embedded(*, sweep: bool = True) -> None:
    """Run chats on a thread pool in this process (with the periodic sweep unless told not to)."""
    global _embedded
    _embedded = _EmbeddedRunner(sweep=sweep)


def stop_embedded() -> None:
    """Release every running chat to `pending` and wait for the threads."""
    global _embedded
    from chats import worker

    embedded = _embedded
    if embedded is None:
        return
    embedded.stop.set()
    worker.shutdown_runs()
    embedded.executor.shutdown(wait=True, cancel_futures=True)
    _embedded = None


def _sweep_loop(stop: threading.Event) -> None:
    from chats.sweep import sweep

    stale_after: timedelta | None = timedelta(0)  # at start-up, running chats belong to a dead process
    while not stop.is_set():
        try:
            sweep(stale_after=stale_after)
            stale_after = None
        except Exception:
            logger.exception("sweep failed")
        finally:
            close_old_connections()
        stop.wait(settings.CHATD_SWEEP_SECONDS)
