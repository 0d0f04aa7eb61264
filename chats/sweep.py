"""The periodic sweep: no chat is lost to a lost task message or a dead worker."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings

from chats import runner
from chats.services import runs

logger = logging.getLogger(__name__)


def sweep(*, stale_after: timedelta | None = None) -> None:
    """Recover stale running chats, re-dispatch unclaimed pending ones, promote orphaned queues.

    `stale_after` overrides the stale limit for other processes' chats: embedded `serve` passes
    0 at start-up, since any chat running then on another worker id belonged to a dead process.
    """
    if stale_after is None:
        stale = runs.chats_recover_stale(stale_after=timedelta(seconds=settings.CHATD_STALE_AFTER_SECONDS))
    else:
        stale = runs.chats_recover_stale(stale_after=stale_after, spare_worker=runs.WORKER_ID)
    if stale:
        logger.warning("recovered %d chats from dead workers: %s", len(stale), stale)
    for chat_id in runs.chats_unclaimed(older_than=timedelta(seconds=settings.CHATD_SWEEP_SECONDS)):
        runner.dispatch(chat_id)
    runs.chats_promote_orphaned_queues(older_than=timedelta(seconds=settings.CHATD_STALE_AFTER_SECONDS))
