"""Uploads and the chats that use them (API.md §5, reference §14)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from chats.attachments import MAX_FILE_BYTES, MAX_FILES_PER_CHAT, clean_name, media_type_of
from chats.enums import Role
from chats.errors import FileTooLarge, InvalidInput
from chats.models import Chat, ChatFile, Message, QueuedMessage


def file_create(*, owner: User, data: bytes, name: str, declared_type: str) -> ChatFile:
    """Store an upload under the type its bytes show (never the client's word alone).

    Raises FileTooLarge (413) beyond 10 MiB, InvalidInput (400) for a refused or lying type.
    """
    if len(data) > MAX_FILE_BYTES:
        raise FileTooLarge(MAX_FILE_BYTES)
    name = clean_name(name)
    media_type = media_type_of(data, declared=declared_type, name=name)
    return ChatFile.objects.create(owner=owner, name=name, media_type=media_type, size=len(data), data=data)


def files_attach(*, chat: Chat, parts: list[dict[str, Any]]) -> None:
    """Link the files a new user message refers to with its chat, at most 50 per chat.

    The count is of distinct files in the chat's live user messages and queue, so files that
    tools store (screenshots) do not use up the user's allowance. A file already linked to
    another chat stays linked there. Caller holds the chat's lock.
    """
    new = {part["file_id"] for part in parts if part.get("type") == "file"}
    if not new:
        return
    if len(_referenced_file_ids(chat) | new) > MAX_FILES_PER_CHAT:
        raise InvalidInput(f"A chat can have at most {MAX_FILES_PER_CHAT} files.", code="too_many_files")
    ChatFile.objects.filter(pk__in=new, chat__isnull=True).update(chat=chat)


def _referenced_file_ids(chat: Chat) -> set[str]:
    rows = [
        *Message.objects.alive().filter(chat=chat, role=Role.USER).values_list("parts", flat=True),
        *QueuedMessage.objects.filter(chat=chat).values_list("parts", flat=True),
    ]
    return {part["file_id"] for parts in rows for part in parts if part.get("type") == "file"}


def tool_file_create(*, chat: Chat, data: bytes, name: str, media_type: str) -> ChatFile:
    """Store a file a tool made (a screenshot, a recording) in the chat, as its owner's.

    Our own output, so no sniffing and no 10 MiB upload cap (recordings have their own cap).
    """
    return ChatFile.objects.create(
        owner_id=chat.owner_id, chat=chat, name=name, media_type=media_type, size=len(data), data=data
    )
