"""`{{ micros|usd }}`: micro-dollars as dollars, with enough digits for cheap steps to show."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def usd(micros: int | None) -> str:
    if micros is None:
        return "unpriced"
    return f"${micros / 1_000_000:,.4f}" if micros >= 100 or micros == 0 else f"${micros / 1_000_000:.6f}"
