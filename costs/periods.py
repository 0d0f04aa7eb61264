"""Usage-limit periods in UTC (reference §12.3): day from midnight, ISO week from Monday
00:00, month from the 1st. Pure functions so the boundaries are easy to test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from costs.models import Period


def period_bounds(period: str, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the period containing `now`, as aware UTC datetimes."""
    now = now.astimezone(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == Period.DAY:
        return midnight, midnight + timedelta(days=1)
    if period == Period.WEEK:
        start = midnight - timedelta(days=midnight.weekday())
        return start, start + timedelta(days=7)
    if period == Period.MONTH:
        start = midnight.replace(day=1)
        end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
        return start, end
    raise ValueError(f"unknown usage period {period!r}")
