"""The history as the model sees it (reference §2.3 "prompt list").

System rows always; after a compaction, only the newest summary and what came after it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db.models import Q

from chats.enums import Role, Visibility
from chats.models import ChatFile, Message
from providers.interface import PromptMessage

# What the prompt, the title check and `newest_id` read of a row; the rest (usage and pricing
# JSON above all) would be decoded for every row of the history on every turn.
PROMPT_FIELDS = ("id", "chat_id", "role", "parts", "visibility", "compressed")


def prompt_rows(chat_id: uuid.UUID) -> list[Message]:
    """The rows the prompt is built from, oldest first, with only `PROMPT_FIELDS` loaded."""
    rows = (
        Message.objects.alive()
        .filter(chat_id=chat_id, visibility__in=[Visibility.MODEL, Visibility.BOTH])
        .only(*PROMPT_FIELDS)
    )
    summary_id = (
        rows.filter(compressed=True, visibility=Visibility.MODEL).order_by("-id").values_list("id", flat=True).first()
    )
    if summary_id is None:
        return list(rows.filter(compressed=False).order_by("id"))
    keep = Q(role=Role.SYSTEM, compressed=False) | Q(id=summary_id) | Q(id__gt=summary_id, compressed=False)
    return list(rows.filter(keep).order_by("id"))


def newest_id(rows: list[Message]) -> int | None:
    """The id of the chat's newest message of any kind (visible or not, even deleted), when its
    `prompt_rows` tell it; None when they cannot (a compacted history, or none).

    Without a summary in the prompt, every row left out of it is deleted: only a compaction
    writes model-hidden or compressed rows, with its summary, and an edit deletes a message and
    all after it, then stores a newer one. So the newest prompt row is the newest row.
    """
    if not rows or any(row.compressed for row in rows):
        return None
    return rows[-1].id


def to_prompt(rows: Iterable[Message]) -> list[PromptMessage]:
    """Stored rows as prompt messages; file parts and media tool results (screenshots) get
    their bytes (one query for all)."""
    rows = list(rows)
    file_ids = {file_id for row in rows for p in row.parts if (file_id := _file_id(p))}
    data = dict(ChatFile.objects.filter(pk__in=file_ids).values_list("pk", "data")) if file_ids else {}
    by_id = {str(pk): bytes(blob) for pk, blob in data.items()}
    return [PromptMessage(row.role, [_with_data(part, by_id) for part in row.parts]) for row in rows]


def _file_id(part: dict) -> str | None:
    if part.get("type") == "file":
        return part.get("file_id") or None
    if part.get("type") == "tool_result" and part.get("is_media") and isinstance(part.get("result"), dict):
        return part["result"].get("file_id") or None
    return None


def _with_data(part: dict, by_id: dict[str, bytes]) -> dict:
    file_id = _file_id(part)
    if file_id in by_id:
        return {**part, "data": by_id[str(file_id)]}
    return part


def load_prompt(chat_id: uuid.UUID) -> list[PromptMessage]:
    return to_prompt(prompt_rows(chat_id))
