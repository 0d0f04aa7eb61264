"""Ledger rows for summary tests, written directly (the ledger is what the summaries read)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from costs.models import UsageEntry


def entry(
    user: Any, when: datetime, *, cost: int | None = 0, root: uuid.UUID | None = None, **fields: Any
) -> UsageEntry:
    """An unsaved ledger row; `fields` override tokens, model and chat ids."""
    root = root or uuid.uuid4()
    values: dict[str, Any] = {"input_tokens": 10, "output_tokens": 5, "model": "m", "provider_name": "p"}
    values.update(fields)
    return UsageEntry(
        user=user, chat_id=values.pop("chat_id", root), root_chat_id=root, cost_micros=cost, created_at=when, **values
    )
