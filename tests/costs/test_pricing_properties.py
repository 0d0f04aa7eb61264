"""Properties of the per-step pricing rules (reference §12.1) over generated usage and prices."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from costs.pricing import CHARGED, cost_micros

pytestmark = pytest.mark.core

tokens = st.integers(min_value=0, max_value=10_000_000)
price = st.none() | st.decimals(min_value=0, max_value=1000, places=6, allow_nan=False, allow_infinity=False)
usages = st.fixed_dictionaries({field: tokens for field in (*CHARGED, "reasoning_tokens")})
price_sets = st.fixed_dictionaries({key: price for key in CHARGED.values()})


def exact(usage: dict[str, int], prices: dict[str, Decimal | None]) -> Decimal:
    return sum((Decimal(usage[field]) * (prices[key] or 0) for field, key in CHARGED.items()), Decimal(0))


@given(usages, price_sets)
def test_a_priced_step_costs_the_exact_sum_rounded_up_once(usage: dict[str, int], prices: dict) -> None:
    cost = cost_micros(usage, prices)
    if cost is not None:
        total = exact(usage, prices)
        assert cost == math.ceil(total)
        assert total <= cost < total + 1


@given(usages, price_sets)
def test_unpriced_exactly_when_no_category_with_tokens_has_a_price(usage: dict[str, int], prices: dict) -> None:
    priced = any(usage[field] and prices[key] is not None for field, key in CHARGED.items())
    assert (cost_micros(usage, prices) is None) == (not priced)


@given(usages, price_sets, st.integers(min_value=0, max_value=10_000_000))
def test_reasoning_tokens_are_never_charged_on_top_of_output(usage: dict[str, int], prices: dict, extra: int) -> None:
    assert cost_micros({**usage, "reasoning_tokens": extra}, prices) == cost_micros(usage, prices)


@given(usages, price_sets, st.sampled_from(list(CHARGED)), tokens)
def test_more_tokens_never_cost_less(usage: dict[str, int], prices: dict, field: str, more: int) -> None:
    before = cost_micros(usage, prices)
    after = cost_micros({**usage, field: usage[field] + more}, prices)
    if before is not None:
        assert after is not None and after >= before


@given(usages)
def test_free_prices_cost_zero_whenever_tokens_were_reported(usage: dict[str, int]) -> None:
    free = {key: Decimal(0) for key in CHARGED.values()}
    reported = any(usage[field] for field in CHARGED)
    assert cost_micros(usage, free) == (0 if reported else None)


@given(usages, price_sets)
def test_a_step_split_in_two_never_costs_less_than_the_whole(usage: dict[str, int], prices: dict) -> None:
    half = {field: count // 2 for field, count in usage.items()}
    rest = {field: count - half[field] for field, count in usage.items()}
    whole = cost_micros(usage, prices)
    parts = [cost for cost in (cost_micros(half, prices), cost_micros(rest, prices)) if cost is not None]
    if whole is not None:
        assert sum(parts) >= whole  # rounding up per step only ever adds, and by less than 1 per step
        assert sum(parts) <= whole + len(parts)
