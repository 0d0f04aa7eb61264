"""Default prices for well-known models (data/prices.json), applied when an admin creates a
model config without any price, so a fresh deployment does not silently run unpriced.

Only the vendors' own provider kinds get defaults: an OpenAI-compatible server may serve a
familiar model id at a price of its own.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

PRICES_FILE = Path(__file__).parent / "data" / "prices.json"
PRICE_KEYS = ("input", "output", "cache_read", "cache_write")


@cache
def _table() -> dict[str, Any]:
    return dict(json.loads(PRICES_FILE.read_text()))


def prices_as_of() -> str:
    return str(_table()["as_of"])


def default_prices(kind: str, model: str) -> dict[str, Decimal | None] | None:
    """Prices for `model` of provider `kind`, or None when the table does not know it.

    Dated or suffixed ids match their family (`claude-sonnet-4-5-20250929` → `claude-sonnet-4-5`);
    the longest matching family wins, so `gpt-4o-mini-…` is not priced as `gpt-4o`.
    """
    families: dict[str, dict[str, str | None]] = _table().get(kind, {})
    matches = [name for name in families if model == name or model.startswith(name + "-")]
    if not matches:
        return None
    prices = families[max(matches, key=len)]
    return {key: _decimal(prices[key]) for key in PRICE_KEYS}


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)
