"""Past costs keep the prices they were charged; `manage.py reprice` is the deliberate correction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from chats.enums import Role
from chats.models import Chat, Message
from costs.models import UsageEntry
from providers.services import model_config_save
from tests.costs.conftest import entry

pytestmark = [pytest.mark.core, pytest.mark.django_db]

DAY = datetime(2025, 5, 10, tzinfo=UTC)


@pytest.fixture
def priced_step(alice: Any, model_config: Any) -> UsageEntry:
    """A step of 1000 input + 1000 output tokens charged at $0.15 / $0.60: 750 micro-dollars."""
    chat = Chat.objects.create(owner=alice)
    message = Message.objects.create(chat=chat, role=Role.ASSISTANT, cost_micros=750)
    row = entry(
        alice,
        DAY,
        cost=750,
        root=chat.pk,
        input_tokens=1000,
        output_tokens=1000,
        model_config=model_config,
        model=model_config.model,
        message_id=message.pk,
        pricing={"input": "0.15", "output": "0.60"},
    )
    row.save()
    return row


def test_a_price_change_leaves_past_costs_alone(
    alice: Any, alice_api: Any, model_config: Any, priced_step: Any
) -> None:
    model_config_save(config=model_config, input_price=Decimal("10"), output_price=Decimal("20"))
    day = {"start": DAY.isoformat(), "end": (DAY + timedelta(days=1)).isoformat()}
    assert alice_api.get("/api/costs/summary/", day).json()["total_cost_micros"] == 750


def test_reprice_dry_run_reports_and_writes_nothing(model_config: Any, priced_step: Any) -> None:
    model_config_save(config=model_config, input_price=Decimal("1"), output_price=Decimal("2"))
    out = StringIO()
    call_command("reprice", "--start", "2025-05-01", "--end", "2025-06-01", "--dry-run", stdout=out)
    assert out.getvalue().strip() == "gpt-4o-mini: 1 steps would change, total 750 -> 3000 micro-dollars"
    priced_step.refresh_from_db()
    assert priced_step.cost_micros == 750


def test_reprice_updates_the_ledger_and_the_message(model_config: Any, priced_step: Any) -> None:
    model_config_save(config=model_config, input_price=Decimal("1"), output_price=Decimal("2"))
    out = StringIO()
    call_command(
        "reprice", "--start", "2025-05-10", "--end", "2025-05-11", "--model-config", str(model_config.pk), stdout=out
    )
    priced_step.refresh_from_db()
    assert priced_step.cost_micros == 3000
    assert priced_step.pricing == {"input": "1.000000", "output": "2.000000", "cache_read": None, "cache_write": None}
    assert Message.objects.get(pk=priced_step.message_id).cost_micros == 3000
    out = StringIO()
    call_command("reprice", "--start", "2025-05-10", "--end", "2025-05-11", stdout=out)
    assert out.getvalue().strip() == "No costs changed."


def test_reprice_leaves_rows_outside_the_range(model_config: Any, priced_step: Any) -> None:
    model_config_save(config=model_config, input_price=Decimal("1"), output_price=Decimal("2"))
    call_command("reprice", "--start", "2025-05-11", "--end", "2025-05-12", stdout=StringIO())
    priced_step.refresh_from_db()
    assert priced_step.cost_micros == 750
