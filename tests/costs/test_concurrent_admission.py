"""A burst of sends at the limit admits only what fits: admission takes a row lock on the user's
counter, reads spend plus what in-flight turns hold, and reserves, all in one transaction."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection

from chats import services as chat_services
from costs import services
from costs.errors import UsageLimitExceeded
from costs.models import UsageCounter, UsageLimitConfig, UsageReservation

pytestmark = [pytest.mark.core, pytest.mark.django_db(transaction=True)]


def test_twenty_concurrent_sends_admit_only_what_fits_under_the_limit(alice: Any, model_config: Any) -> None:
    chats = [chat_services.chat_create(owner=alice, content=f"chat {i}") for i in range(20)]
    services.limit_config_update(enabled=True, period="day", default_limit_micros=10_000)
    UsageLimitConfig.objects.filter(pk=1).update(reservation_micros=1000)
    start = threading.Barrier(20)

    def send(chat: Any) -> bool:
        try:
            start.wait()
            chat_services.message_send(chat=chat, user=alice, content="again")
            return True
        except UsageLimitExceeded:
            return False
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=20) as pool:
        admitted = list(pool.map(send, chats))

    assert admitted.count(True) == 10  # 10 x 1000 held reaches the 10 000 limit
    assert UsageReservation.objects.filter(user=alice).count() == 10
    assert UsageCounter.objects.get(user=alice).admitted_turns == 10
