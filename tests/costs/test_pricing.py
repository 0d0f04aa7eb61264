from __future__ import annotations

from decimal import Decimal

import pytest

from costs.pricing import cost_micros

pytestmark = pytest.mark.core

PRICES = {"input": Decimal("3"), "output": Decimal("15"), "cache_read": Decimal("0.30"), "cache_write": Decimal("3.75")}


def usage(i: int = 0, o: int = 0, r: int = 0, cr: int = 0, cw: int = 0) -> dict[str, int]:
    return {"input_tokens": i, "output_tokens": o, "reasoning_tokens": r, "cache_read_tokens": cr,
            "cache_write_tokens": cw}  # fmt: skip


@pytest.mark.parametrize(
    ("tokens", "prices", "expected"),
    [
        (usage(1000, 500), PRICES, 3000 + 7500),
        (usage(1, 1), PRICES, 18),
        (usage(1, 0), {"input": Decimal("0.15")}, 1),  # 0.15 micro-dollars rounds up once, to 1
        (usage(3, 0), {"input": Decimal("0.15")}, 1),  # 0.45 → 1: summed first, then rounded
        (usage(0, 100, r=80), PRICES, 1500),  # reasoning is inside output: not charged twice
        (usage(0, 0, cr=10_000, cw=1000), PRICES, 3000 + 3750),  # cache-only step
        (usage(10, 10), {"input": Decimal(0), "output": Decimal(0)}, 0),  # free
        (usage(10, 10), {"input": None, "output": None}, None),  # unpriced
        (usage(), PRICES, None),  # no tokens reported
        (usage(0, 0, cr=50), {"input": Decimal(1)}, None),  # only unpriced categories used
    ],
)
def test_cost_micros(tokens: dict[str, int], prices: dict[str, Decimal | None], expected: int | None) -> None:
    assert cost_micros(tokens, prices) == expected
