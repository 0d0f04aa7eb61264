"""The `/costs/` page shows one's own spend, from the same selectors as the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def test_anonymous_visitors_are_sent_to_log_in(client: Client) -> None:
    response = client.get("/costs/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_page_shows_totals_of_the_period(client: Client, alice: Any) -> None:
    client.force_login(alice)
    for period in ("day", "week", "month", "bogus"):
        response = client.get(f"/costs/?period={period}")
        assert response.status_code == 200
        assert b'data-testid="total-cost">$0.0000<' in response.content
        assert b"No usage in this period." in response.content
