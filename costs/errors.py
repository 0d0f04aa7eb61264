"""The one error `costs` raises at a request: the user's usage limit is spent (API.md §2)."""

from __future__ import annotations

from datetime import datetime

from config.api_errors import APIError


class UsageLimitExceeded(APIError):
    """HTTP 409 with the spend, the limit and when the period resets; `reserved_micros` is
    what turns still running hold against the limit."""

    def __init__(self, *, spent_micros: int, limit_micros: int, resets_at: datetime, reserved_micros: int = 0) -> None:
        super().__init__(
            "Chat usage limit exceeded.",
            code="usage_limit",
            status_code=409,
            spent_micros=spent_micros,
            limit_micros=limit_micros,
            resets_at=resets_at.isoformat().replace("+00:00", "Z"),
            reserved_micros=reserved_micros,
        )
