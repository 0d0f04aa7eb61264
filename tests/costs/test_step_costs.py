"""Whole turns through mockllm and the real worker: each step's cost lands on the message and in
the ledger, equal to the hand-computed micro-dollars."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from chats import services, worker
from chats.enums import Role
from chats.models import Message
from costs.models import UsageEntry
from providers.mockllm import MockLLMServer
from providers.models import ModelConfig, Provider
from providers.services import model_config_save, provider_save
from tests.llm import script

pytestmark = [pytest.mark.core, pytest.mark.django_db(transaction=True)]

SONNET = ("3", "15", "0.30", "3.75")


def anthropic_model(llm: MockLLMServer, prices: tuple[str | None, ...]) -> ModelConfig:
    """A default model on the Anthropic wire format, which reports cache reads and writes."""
    provider = provider_save(
        provider=Provider(), api_key="k", name="mock-anthropic", kind="anthropic", base_url=llm.url
    )
    price = dict(zip(("input_price", "output_price", "cache_read_price", "cache_write_price"), prices, strict=True))
    return model_config_save(
        config=ModelConfig(),
        provider=provider,
        model="claude-mock",
        is_default=True,
        **{name: None if value is None else Decimal(value) for name, value in price.items()},
    )


@pytest.mark.parametrize(
    ("prices", "usage", "expected"),
    [
        # 1000 x 3 + 500 x 15 + 2000 x 0.30 + 400 x 3.75 = 3000 + 7500 + 600 + 1500
        (
            SONNET,
            {"input_tokens": 1000, "output_tokens": 500, "cache_read_tokens": 2000, "cache_write_tokens": 400},
            12_600,
        ),
        # 7 x 0.15 + 3 x 0.60 = 2.85, rounded up once
        (("0.15", "0.60", None, None), {"input_tokens": 7, "output_tokens": 3}, 3),
        # reasoning is part of the 300 output tokens: 300 x 15, not 500 x 15
        (SONNET, {"input_tokens": 0, "output_tokens": 300, "reasoning_tokens": 200}, 4_500),
        # cache only: 10 000 x 0.30 + 1000 x 3.75
        (
            SONNET,
            {"input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 10_000, "cache_write_tokens": 1000},
            6_750,
        ),
        (("0", "0", "0", "0"), {"input_tokens": 1000, "output_tokens": 1000}, 0),  # free
        ((None, None, None, None), {"input_tokens": 1000, "output_tokens": 1000}, None),  # unpriced
    ],
    ids=["all-categories", "round-up", "reasoning", "cache-only", "free", "unpriced"],
)
def test_a_step_costs_the_hand_computed_micros_on_the_message_and_in_the_ledger(
    alice: Any, llm: MockLLMServer, prices: tuple[str | None, ...], usage: dict[str, int], expected: int | None
) -> None:
    config = anthropic_model(llm, prices)
    script(llm, {"text": "Done.", "usage": usage}, stream=True)
    chat = services.chat_create(owner=alice, content="hello")
    worker.run_chat(chat.pk)

    message = Message.objects.get(chat=chat, role=Role.ASSISTANT)
    entry = UsageEntry.objects.get(chat_id=chat.pk)
    assert message.cost_micros == entry.cost_micros == expected
    assert (entry.user_id, entry.root_chat_id, entry.message_id) == (alice.pk, chat.pk, message.pk)
    assert (entry.model_config_id, entry.model, entry.provider_name) == (config.pk, "claude-mock", "mock-anthropic")
    assert entry.input_tokens == usage["input_tokens"] and entry.output_tokens == usage["output_tokens"]
    assert entry.pricing == message.pricing and entry.usage_raw == message.usage_raw


def test_every_step_of_a_tool_run_has_its_own_ledger_entry(
    alice: Any, mock_model: ModelConfig, llm: MockLLMServer
) -> None:
    script(
        llm,
        {
            "tool_calls": [{"name": "no_such_tool", "arguments": {}}],
            "usage": {"input_tokens": 1000, "output_tokens": 10},
        },
        {"text": "ok", "usage": {"input_tokens": 2000, "output_tokens": 20, "cache_read_tokens": 1000}},
        stream=True,
    )
    chat = services.chat_create(owner=alice, content="go")
    worker.run_chat(chat.pk)

    # mock_model: $1 in, $2 out, $0.10 cache read: 1000 + 20 = 1020, then 2000 + 40 + 100 = 2140
    costs = list(UsageEntry.objects.filter(chat_id=chat.pk).order_by("id").values_list("cost_micros", flat=True))
    assert costs == [1020, 2140]
    assert sorted(costs) == sorted(
        Message.objects.filter(chat=chat, role=Role.ASSISTANT).values_list("cost_micros", flat=True)
    )
