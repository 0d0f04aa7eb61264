"""Where a pending chat runs: a Celery worker (distributed) or `serve`'s own threads (embedded).

Both call `worker.run_chat`; only the hand-off differs. A process with neither (a test, a
management command in embedded mode) dispatches nothing: the next sweep picks the chat up.
"""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings

logger = logging.getLogger(__name__)

_executor: ThreadPoolExecutor | None = None
_stop = threading.Event()


def dispatch(chat_id: uuid.UUID) -> None:
    if _stop.is_set():
        return  # shutting down: chats released to `pending` wait for the next start
    if _executor is not None:
        from chats import worker

        _executor.submit(worker.run_chat, chat_id)
    elif settings.DISTRIBUTED:
        from chats.tasks import run_chat

        run_chat.delay(str(chat_id))


def start_embedded() -> None:
    """Run chats on a thread pool in this process, with the periodic sweep."""
    global _executor
    _stop.clear()
    _executor = ThreadPoolExecutor(max_workers=settings.CHATD_EMBEDDED_WORKERS, thread_name_prefix="chat-run")
    threading.Thread(target=_sweep_loop, name="chatd-sweep", daemon=True).start()


def stop_embedded() -> None:
    """Release every running chat to `pending` and wait for the threads."""
    global _executor
    from chats import worker

    _stop.set()
    worker.shutdown_runs()
    if _executor is not None:
        _executor.shutdown(wait=True, cancel_futures=True)
        _executor = None


def _sweep_loop() -> None:
    from datetime import timedelta

    from django.db import close_old_connections

    from chats.sweep import sweep

    first = True
    while not _stop.is_set():
        try:
            sweep(stale_after=timedelta(0) if first else None)
            first = False
        except Exception:
            logger.exception("sweep failed")
        finally:
            close_old_connections()
        _stop.wait(settings.CHATD_SWEEP_SECONDS)
