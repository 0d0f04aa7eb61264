"""Writes: the ledger entry of each model step, turn admission against the usage limit, and the
limit configuration (reference §12.3)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import DatabaseError, transaction
from django.db.models import F, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from costs import metrics
from costs.errors import UsageLimitExceeded
from costs.models import (
    GroupUsageLimit,
    UsageCounter,
    UsageEntry,
    UsageLimitConfig,
    UsageReservation,
    UserUsageLimit,
)
from costs.periods import period_bounds
from costs.pricing import cost_micros, prices_snapshot
from costs.selectors import Limit, effective_limit
from providers.models import ModelConfig

logger = logging.getLogger(__name__)

# A turn that dies before its last step is recorded stops holding budget after this long.
RESERVATION_TTL = timedelta(minutes=15)
TOKEN_FIELDS = ("input_tokens", "output_tokens", "reasoning_tokens", "cache_read_tokens", "cache_write_tokens")


def usage_record(
    *,
    user_id: int,
    chat_id: uuid.UUID,
    root_chat_id: uuid.UUID,
    message_id: int | None,
    model_config: ModelConfig | None,
    tokens: Mapping[str, int | None],
    cost_micros: int | None,
    pricing: dict[str, Any] | None,
    usage_raw: dict[str, Any] | None,
    ends_turn: bool,
) -> UsageEntry:
    """Add a step to the ledger and settle the turn's reservation. Call inside the transaction
    that stores the step, so the ledger and the history never disagree.

    The step's cost comes out of the oldest reservation of the chat tree; `ends_turn` (the root
    chat's last step of a turn) drops that reservation, leftover included.
    """
    entry = UsageEntry.objects.create(
        user_id=user_id,
        chat_id=chat_id,
        root_chat_id=root_chat_id,
        message_id=message_id,
        model_config=model_config,
        provider_name=model_config.provider.name if model_config else "",
        model=model_config.model if model_config else "",
        **{field: tokens.get(field) or 0 for field in TOKEN_FIELDS},
        cost_micros=cost_micros,
        pricing=pricing,
        usage_raw=usage_raw,
    )
    oldest = UsageReservation.objects.filter(user_id=user_id, root_chat_id=root_chat_id).order_by("id").values("id")
    if ends_turn:
        UsageReservation.objects.filter(pk__in=Subquery(oldest[:1])).delete()
    elif cost_micros:
        UsageReservation.objects.filter(pk=Subquery(oldest[:1])).update(
            amount_micros=Greatest(F("amount_micros") - cost_micros, 0)
        )
    transaction.on_commit(lambda: metrics.record_step(entry))
    return entry


def usage_admit(*, user_id: int, root_chat_id: uuid.UUID) -> None:
    """Admit a new turn of `user_id` or raise UsageLimitExceeded (HTTP 409).

    Blocks when spend plus the budget held for turns still running reaches the limit, and
    otherwise holds `reservation_micros` for this turn. Call inside the caller's transaction,
    after any chat row lock: the per-user counter row lock taken here is always the last lock,
    so it cannot deadlock with the chat locks, and a rolled-back send takes its reservation with
    it. Fails open (logged) when the limit cannot be read.
    """
    try:
        with transaction.atomic():  # a savepoint: a failed read must not poison the caller's transaction
            limit = effective_limit(user_id=user_id)
    except DatabaseError:
        logger.exception("usage limit of user %s could not be read; admitting the turn", user_id)
        return
    if limit is None:
        return
    _admit_limited(user_id=user_id, root_chat_id=root_chat_id, limit=limit)


def _admit_limited(*, user_id: int, root_chat_id: uuid.UUID, limit: Limit) -> None:
    now = timezone.now()
    start, end = period_bounds(limit.period, now)
    UsageCounter.objects.select_for_update().get_or_create(user_id=user_id)
    # Read after the lock, both sums in one statement (one snapshot), so a step being settled
    # meanwhile is seen either entirely or not at all.
    held = (
        UsageCounter.objects.filter(pk=user_id)
        .annotate(
            spent=Coalesce(_spend(user_id, start, end), 0),
            reserved=Coalesce(_holds(user_id, now), 0),
        )
        .values("spent", "reserved")
        .get()
    )
    if held["spent"] + held["reserved"] >= limit.limit_micros:
        raise UsageLimitExceeded(
            spent_micros=held["spent"], limit_micros=limit.limit_micros, resets_at=end, reserved_micros=held["reserved"]
        )
    UsageReservation.objects.filter(Q(expires_at__lte=now) | Q(amount_micros=0), user_id=user_id).delete()
    UsageReservation.objects.create(
        user_id=user_id, root_chat_id=root_chat_id, amount_micros=limit.reservation_micros,
        expires_at=now + RESERVATION_TTL, created_at=now,
    )  # fmt: skip
    UsageCounter.objects.filter(pk=user_id).update(admitted_turns=F("admitted_turns") + 1)


def _spend(user_id: int, start: datetime, end: datetime) -> Subquery:
    rows = UsageEntry.objects.filter(user_id=user_id, created_at__gte=start, created_at__lt=end)
    return Subquery(rows.values("user_id").annotate(total=Sum("cost_micros")).values("total"))


def _holds(user_id: int, now: datetime) -> Subquery:
    rows = UsageReservation.objects.filter(user_id=user_id, expires_at__gt=now)
    return Subquery(rows.values("user_id").annotate(total=Sum("amount_micros")).values("total"))


@dataclass
class RepriceChange:
    """Ledger rows of one model whose cost changed: how many, and their totals before and after."""

    model: str
    count: int = 0
    old_total_micros: int = 0
    new_total_micros: int = 0


def usage_reprice(
    *,
    start: datetime,
    end: datetime,
    model_config_id: int | None = None,
    dry_run: bool = False,
    on_changed: Callable[[list[UsageEntry]], None] | None = None,
) -> list[RepriceChange]:
    """Recompute the cost of ledger rows in [start, end) at their model config's current prices.

    Past costs never change by themselves (each row keeps the prices it was charged); this is
    the deliberate correction. Rows whose config was deleted are skipped. Changed rows are
    written in batches, each also handed to `on_changed` (the chats command updates its
    messages there), all in one transaction; `dry_run` only reports.
    """
    rows = UsageEntry.objects.filter(created_at__gte=start, created_at__lt=end, model_config__isnull=False)
    if model_config_id is not None:
        rows = rows.filter(model_config_id=model_config_id)
    changes: dict[str, RepriceChange] = {}
    with transaction.atomic():
        for batch in _batches(rows.select_related("model_config").order_by("id")):
            changed = [entry for entry in batch if _reprice(entry, changes)]
            if changed and not dry_run:
                UsageEntry.objects.bulk_update(changed, ["cost_micros", "pricing"])
                if on_changed is not None:
                    on_changed(changed)
    return sorted(changes.values(), key=lambda change: change.model)


def _batches(rows: QuerySet[UsageEntry], size: int = 1000) -> Iterator[list[UsageEntry]]:
    batch: list[UsageEntry] = []
    for entry in rows.iterator(chunk_size=size):
        batch.append(entry)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _reprice(entry: UsageEntry, changes: dict[str, RepriceChange]) -> bool:
    """Set `entry`'s cost at current prices; True (and counted) when it changed."""
    assert entry.model_config is not None
    prices = entry.model_config.prices()
    new_cost = cost_micros({field: getattr(entry, field) for field in TOKEN_FIELDS}, prices)
    new_pricing = prices_snapshot(prices)
    if new_cost == entry.cost_micros and _as_decimals(new_pricing) == _as_decimals(entry.pricing):
        return False
    change = changes.setdefault(entry.model, RepriceChange(model=entry.model))
    change.count += 1
    change.old_total_micros += entry.cost_micros or 0
    change.new_total_micros += new_cost or 0
    entry.cost_micros, entry.pricing = new_cost, new_pricing
    return True


def _as_decimals(pricing: Mapping[str, str | None] | None) -> dict[str, Decimal]:
    """Prices compared by value ("0.15" is "0.150000"); unset and absent are the same."""
    return {key: Decimal(value) for key, value in (pricing or {}).items() if value is not None}


def limit_config_update(*, enabled: bool, period: str, default_limit_micros: int) -> UsageLimitConfig:
    """The deployment-wide limit; 0 is stored as the default while limits are off."""
    config = UsageLimitConfig.load()
    config.enabled, config.period = enabled, period
    config.default_limit_micros = default_limit_micros if enabled else 0
    config.save()
    return config


def user_limit_set(*, user_id: int, limit_micros: int) -> UserUsageLimit:
    override, _ = UserUsageLimit.objects.update_or_create(user_id=user_id, defaults={"limit_micros": limit_micros})
    return override


def user_limit_delete(*, user_id: int) -> bool:
    return UserUsageLimit.objects.filter(user_id=user_id).delete()[0] > 0


def group_limit_set(*, group_id: int, limit_micros: int) -> GroupUsageLimit:
    override, _ = GroupUsageLimit.objects.update_or_create(group_id=group_id, defaults={"limit_micros": limit_micros})
    return override


def group_limit_delete(*, group_id: int) -> bool:
    return GroupUsageLimit.objects.filter(group_id=group_id).delete()[0] > 0
