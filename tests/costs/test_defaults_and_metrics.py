"""The default price table for new model configs, and `/metrics`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from chats.models import Chat
from costs.models import UsageEntry
from providers.models import ModelConfig, Provider
from providers.pricing_defaults import default_prices, prices_as_of
from providers.services import model_config_save, provider_save
from tests.costs.conftest import entry

pytestmark = [pytest.mark.core, pytest.mark.django_db]


@pytest.mark.parametrize(
    ("kind", "model", "input_price"),
    [
        ("openai", "gpt-4o-mini", "0.15"),
        ("openai", "gpt-4o-mini-2024-07-18", "0.15"),  # the longest family wins over gpt-4o
        ("openai", "gpt-4o-2024-08-06", "2.50"),
        ("anthropic", "claude-sonnet-4-5-20250929", "3.00"),
        ("google", "gemini-2.5-flash-lite", "0.10"),
    ],
)
def test_known_models_have_default_prices(kind: str, model: str, input_price: str) -> None:
    prices = default_prices(kind, model)
    assert prices is not None and prices["input"] == Decimal(input_price)


def test_unknown_models_and_compatible_servers_have_none() -> None:
    assert default_prices("openai", "gpt-4o-mini-but-not-really") is not None  # a suffix of a known family
    assert default_prices("openai", "my-finetune") is None
    assert default_prices("openai_compatible", "gpt-4o") is None
    assert date.fromisoformat(prices_as_of())


def test_a_new_config_without_prices_gets_the_defaults_and_explicit_prices_win() -> None:
    provider = provider_save(provider=Provider(), api_key="k", name="anthropic", kind="anthropic")
    haiku = model_config_save(config=ModelConfig(), provider=provider, model="claude-haiku-4-5")
    assert haiku.prices() == {
        "input": Decimal("1.00"),
        "output": Decimal("5.00"),
        "cache_read": Decimal("0.10"),
        "cache_write": Decimal("1.25"),
    }
    free = model_config_save(config=ModelConfig(), provider=provider, model="claude-opus-4-5", input_price=Decimal(0))
    assert free.prices() == {"input": Decimal(0), "output": None, "cache_read": None, "cache_write": None}
    model_config_save(config=haiku, input_price=None, output_price=None, cache_read_price=None, cache_write_price=None)
    haiku.refresh_from_db()
    assert haiku.input_price is None  # clearing prices later is respected: defaults apply on creation only


def test_metrics_report_chats_by_status_in_prometheus_text(alice: Any) -> None:
    Chat.objects.create(owner=alice, status="pending")
    body = Client().get("/metrics").content.decode()
    assert 'chatd_chats{status="pending"} 1.0' in body
    assert "chatd_queued_messages 0.0" in body
    assert "# TYPE chatd_llm_step_seconds histogram" in body


def test_the_admin_cost_report_draws_bars_per_user_model_and_day(alice: Any, staff: Any) -> None:
    UsageEntry.objects.bulk_create([entry(alice, timezone.now(), cost=2_500_000, model="gpt-4o")])
    client = Client()
    client.force_login(staff)
    page = client.get("/admin/costs/usageentry/report/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "$2.5000" in html and "alice" in html and "gpt-4o" in html and 'style="width: 100%"' in html
    assert "Cost report" in client.get("/admin/costs/usageentry/").content.decode()
