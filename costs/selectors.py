"""Reads over the usage ledger: summaries, rollups, limits (reference §12.2, §12.3).

Every total is a database aggregate, so a summary costs the same few queries for ten rows or
ten million. Chat titles come from the caller (`chat_titles`), because costs does not import chats.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Count, F, Min, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, NullIf, TruncDate
from django.utils import timezone

from costs.models import GroupUsageLimit, UsageEntry, UsageLimitConfig, UserUsageLimit
from costs.periods import period_bounds
from providers.models import ModelConfig

ChatTitles = Callable[[Iterable[uuid.UUID]], Mapping[uuid.UUID, str]]

BY_CHAT_LIMIT = 100
# Rows that reported any tokens; only those count as messages (reference §12.2).
HAS_TOKENS = Q(input_tokens__gt=0) | Q(output_tokens__gt=0) | Q(cache_read_tokens__gt=0) | Q(cache_write_tokens__gt=0)


def _token_totals() -> dict[str, Any]:
    return {
        "total_cost_micros": Coalesce(Sum("cost_micros"), 0),
        "total_input_tokens": Coalesce(Sum("input_tokens"), 0),
        "total_output_tokens": Coalesce(Sum("output_tokens"), 0),
        "total_reasoning_tokens": Coalesce(Sum("reasoning_tokens"), 0),
        "total_cache_read_tokens": Coalesce(Sum("cache_read_tokens"), 0),
        "total_cache_write_tokens": Coalesce(Sum("cache_write_tokens"), 0),
    }


def _grouped_totals() -> dict[str, Any]:
    return {**_token_totals(), "message_count": Count("id", filter=HAS_TOKENS)}


def entries(*, start: datetime, end: datetime, user_id: int | None = None) -> QuerySet[UsageEntry]:
    """Ledger rows with `created_at` in [start, end), optionally of one user."""
    rows = UsageEntry.objects.filter(created_at__gte=start, created_at__lt=end)
    return rows if user_id is None else rows.filter(user_id=user_id)


def totals(rows: QuerySet[UsageEntry]) -> dict[str, int]:
    """Cost, priced/unpriced counts and token totals of `rows`, in one query."""
    return rows.aggregate(
        **_token_totals(),
        priced_message_count=Count("id", filter=Q(cost_micros__isnull=False)),
        unpriced_message_count=Count("id", filter=Q(cost_micros__isnull=True) & HAS_TOKENS),
    )


def by_model(rows: QuerySet[UsageEntry]) -> list[dict[str, Any]]:
    """Per model config, most expensive first; the display name falls back to the model id."""
    grouped = (
        rows.values("model_config_id", "provider_name", "model")
        .annotate(
            display_name=Coalesce(NullIf(F("model_config__display_name"), Value("")), F("model")),
            provider=F("provider_name"),
            **_grouped_totals(),
        )
        .order_by(F("total_cost_micros").desc(), "model", "model_config_id")
    )
    return [{k: v for k, v in row.items() if k != "provider_name"} for row in grouped]


def by_chat(rows: QuerySet[UsageEntry], *, chat_titles: ChatTitles, limit: int = BY_CHAT_LIMIT) -> list[dict[str, Any]]:
    """Per chat tree (sub-agents roll up to their root), most expensive first, at most `limit`."""
    grouped = list(
        rows.values("root_chat_id")
        .annotate(**_grouped_totals())
        .order_by(F("total_cost_micros").desc(), "root_chat_id")[:limit]
    )
    titles = chat_titles([row["root_chat_id"] for row in grouped]) if grouped else {}
    return [{**row, "chat_title": titles.get(row["root_chat_id"])} for row in grouped]


def cost_summary(*, user_id: int, start: datetime, end: datetime, chat_titles: ChatTitles) -> dict[str, Any]:
    """One user's spend in [start, end): totals, by model, by chat tree, and their limit status."""
    rows = entries(start=start, end=end, user_id=user_id)
    return {
        "start": start,
        "end": end,
        **totals(rows),
        "by_model": by_model(rows),
        "by_chat": by_chat(rows, chat_titles=chat_titles),
        "usage_limit": usage_status(user_id=user_id),
    }


def chat_cost(*, root_chat_id: uuid.UUID) -> dict[str, Any]:
    """All-time spend of one chat tree (the root and its sub-agents)."""
    rows = UsageEntry.objects.filter(root_chat_id=root_chat_id)
    return {"root_chat_id": root_chat_id, **totals(rows), "by_model": by_model(rows)}


def user_rollup(*, start: datetime, end: datetime, q: str = "", limit: int = 10, offset: int = 0) -> dict[str, Any]:
    """Per-user spend, cost desc then username; `q` matches username or name (case-insensitive)."""
    rows = entries(start=start, end=end)
    if q:
        rows = rows.filter(
            Q(user__username__icontains=q) | Q(user__first_name__icontains=q) | Q(user__last_name__icontains=q)
        )
    grouped = (
        rows.values("user_id", username=F("user__username"), first_name=F("user__first_name"),
                    last_name=F("user__last_name"))
        .annotate(**_grouped_totals(), chat_count=Count("root_chat_id", distinct=True))
        .order_by(F("total_cost_micros").desc(), "username", "user_id")
    )  # fmt: skip
    users = [_with_name(dict(row)) for row in grouped[offset : offset + limit]]
    return {"start": start, "end": end, "count": grouped.count(), "users": users}


def _with_name(row: dict[str, Any]) -> dict[str, Any]:
    row["name"] = f"{row.pop('first_name')} {row.pop('last_name')}".strip()
    return row


@dataclass(frozen=True)
class Limit:
    limit_micros: int
    period: str
    reservation_micros: int


def effective_limit(*, user_id: int) -> Limit | None:
    """The user's limit, or None when limits are off: their own override, else the lowest of
    their groups' overrides, else the default."""
    config = UsageLimitConfig.objects.filter(pk=1).first()
    if config is None or not config.enabled:
        return None
    own = UserUsageLimit.objects.filter(user_id=user_id).values_list("limit_micros", flat=True).first()
    if own is None:
        own = GroupUsageLimit.objects.filter(group__user__id=user_id).aggregate(lowest=Min("limit_micros"))["lowest"]
    limit = config.default_limit_micros if own is None else own
    return Limit(limit_micros=limit, period=config.period, reservation_micros=config.reservation_micros)


def spent_micros(*, user_id: int, start: datetime, end: datetime) -> int:
    return int(entries(start=start, end=end, user_id=user_id).aggregate(spent=Coalesce(Sum("cost_micros"), 0))["spent"])


def usage_status(*, user_id: int, now: datetime | None = None) -> dict[str, Any]:
    """`GET /api/usage/`: whether a limit applies, and the spend against it this period."""
    limit = effective_limit(user_id=user_id)
    if limit is None:
        return {"is_limited": False, "period": None, "limit_micros": None, "spent_micros": None,
                "period_start": None, "period_end": None}  # fmt: skip
    start, end = period_bounds(limit.period, now or timezone.now())
    return {
        "is_limited": True,
        "period": limit.period,
        "limit_micros": limit.limit_micros,
        "spent_micros": spent_micros(user_id=user_id, start=start, end=end),
        "period_start": start,
        "period_end": end,
    }


def unpriced_model_count() -> int:
    """Enabled model configs with neither an input nor an output price (shown to admins)."""
    return ModelConfig.objects.filter(enabled=True, input_price__isnull=True, output_price__isnull=True).count()


def limit_settings() -> dict[str, Any]:
    """The admin view of limits: the config, every override, and how many models are unpriced."""
    config = UsageLimitConfig.objects.filter(pk=1).first() or UsageLimitConfig()
    users = UserUsageLimit.objects.order_by("user__username").values(
        "user_id", "limit_micros", username=F("user__username")
    )
    groups = (
        GroupUsageLimit.objects.order_by("group__name")
        .annotate(member_count=Count("group__user"))
        .values("group_id", "limit_micros", "member_count", name=F("group__name"))
    )
    return {
        "enabled": config.enabled,
        "period": config.period,
        "default_limit_micros": config.default_limit_micros,
        "unpriced_model_count": unpriced_model_count(),
        "user_overrides": list(users),
        "group_overrides": list(groups),
    }


def by_day(rows: QuerySet[UsageEntry]) -> list[dict[str, Any]]:
    """Spend per UTC day, oldest first (the admin report's daily chart)."""
    days = (
        rows.annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day")
        .annotate(total_cost_micros=Coalesce(Sum("cost_micros"), 0), message_count=Count("id", filter=HAS_TOKENS))
        .order_by("day")
    )
    return [dict(day) for day in days]
