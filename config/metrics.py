"""`GET /metrics` in Prometheus text format (API.md §9).

Counters and histograms that code increments live in `costs.metrics`; what the database
already knows (chats by status, queue depth) is read at scrape time, so every replica reports
the same, correct figures whichever process changed them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.db import DatabaseError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

import costs.metrics  # noqa: F401  (registers the code-incremented metrics)
from chats.enums import ChatStatus
from chats.models import Chat, QueuedMessage

logger = logging.getLogger(__name__)


class ChatStateCollector(Collector):
    """Chats by status, user messages queued behind busy chats, and chats waiting for a worker."""

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """Names only: lets the registry check for clashes without querying the database."""
        yield GaugeMetricFamily("chatd_chats", "Chats by status.", labels=["status"])
        yield GaugeMetricFamily("chatd_queued_messages", "Messages queued behind busy chats.")
        yield GaugeMetricFamily("chatd_pending_chats", "Chats waiting for a worker (the run queue).")

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            by_status = dict(Chat.objects.order_by().values_list("status").annotate(n=Count("id")))
            queued = QueuedMessage.objects.count()
        except DatabaseError:
            logger.warning("metrics: database unreachable; chat gauges skipped")
            return
        chats = GaugeMetricFamily("chatd_chats", "Chats by status.", labels=["status"])
        for status in ChatStatus.values:
            chats.add_metric([status], by_status.get(status, 0))
        yield chats
        yield GaugeMetricFamily("chatd_queued_messages", "Messages queued behind busy chats.", value=queued)
        yield GaugeMetricFamily(
            "chatd_pending_chats", "Chats waiting for a worker (the run queue).", value=by_status.get("pending", 0)
        )


REGISTRY.register(ChatStateCollector())


def metrics_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
