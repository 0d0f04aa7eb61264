"""Message parts: one shape for storage, the API and the stream (API.md §4).

User input arrives as a string or a list of input parts and is turned into stored parts here.
"""

from __future__ import annotations

from typing import Any, TypedDict

from chats.errors import InvalidInput

TITLE_WORDS = 6
TITLE_MAX_CHARS = 80


class TextPart(TypedDict):
    type: str
    text: str


class FilePart(TypedDict):
    type: str
    file_id: str
    media_type: str
    name: str


def input_to_parts(content: Any, *, resolve_file: Any) -> list[dict[str, Any]]:
    """Validate client input (a string or a list of input parts) into stored parts.

    `resolve_file(file_id)` returns ``(media_type, name)`` of one of the user's files or raises
    InvalidInput. Raises InvalidInput with a sentence a client can show.
    """
    if isinstance(content, str):
        content = [{"type": "text", "text": content}]
    if not isinstance(content, list) or not content:
        raise InvalidInput("Content must be a non-empty string or a non-empty list of parts.")
    parts: list[dict[str, Any]] = []
    for index, item in enumerate(content):
        if not isinstance(item, dict):
            raise InvalidInput(f"Part {index} must be an object.")
        kind = item.get("type")
        if kind == "text":
            text = item.get("text")
            if not isinstance(text, str) or not text.strip():
                raise InvalidInput(f"Part {index}: text must not be blank.")
            parts.append(dict(TextPart(type="text", text=text)))
        elif kind == "file":
            media_type, name = resolve_file(item.get("file_id"))
            parts.append(dict(FilePart(type="file", file_id=str(item["file_id"]), media_type=media_type, name=name)))
        else:
            raise InvalidInput(f"Part {index}: unknown type {kind!r}; use 'text' or 'file'.")
    return parts


def parts_text(parts: list[dict[str, Any]]) -> str:
    return " ".join(p["text"] for p in parts if p.get("type") == "text" and p.get("text"))


def fallback_title(text: str) -> str:
    """First six words (… when cut), at most 80 characters; "New Chat" when empty."""
    words = text.split()
    if not words:
        return "New Chat"
    title = " ".join(words[:TITLE_WORDS])
    truncated = len(words) > TITLE_WORDS
    if len(title) > TITLE_MAX_CHARS:
        title, truncated = title[: TITLE_MAX_CHARS - 1].rstrip(), True
    return f"{title}…" if truncated else title
