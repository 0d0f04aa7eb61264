"""Cost of one model step in integer micro-dollars (reference §12.1): pure Decimal arithmetic.

Prices are USD per 1M tokens, so tokens times price is micro-dollars directly. Sum exactly, then
round up once. ``None`` means unpriced (no price applies); ``0`` means free.
Reasoning tokens are part of output tokens and are never charged twice.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal

# usage field → price key
CHARGED = {
    "input_tokens": "input",
    "output_tokens": "output",
    "cache_read_tokens": "cache_read",
    "cache_write_tokens": "cache_write",
}


def cost_micros(usage: Mapping[str, int | None], prices: Mapping[str, Decimal | None]) -> int | None:
    """micro-dollars for `usage` at `prices`, or None when unpriced.

    Unpriced when no price is set at all, when the usage reports no tokens, or when no category
    that has tokens has a price. Otherwise missing prices count as 0.
    """
    if all(price is None for price in prices.values()):
        return None
    tokens = {field: usage.get(field) or 0 for field in CHARGED}
    if not any(tokens.values()):
        return None
    if not any(tokens[field] and prices.get(key) is not None for field, key in CHARGED.items()):
        return None
    total = sum(
        (Decimal(tokens[field]) * (prices.get(key) or Decimal(0)) for field, key in CHARGED.items()), Decimal(0)
    )
    return math.ceil(total)


def prices_snapshot(prices: Mapping[str, Decimal | None]) -> dict[str, str | None]:
    """The prices charged, as stored beside the message (decimal strings, None = unset)."""
    return {key: None if value is None else str(value) for key, value in prices.items()}
