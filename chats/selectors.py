"""Reads: what a user may see of chats and messages. Other users' rows simply do not exist."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db.models import Max, QuerySet
from django.http import Http404

from chats.models import Chat, ChatFile, Message, QueuedMessage, UserPreferences


def chat_list(*, user: User, archived: bool | None = None, q: str = "") -> QuerySet[Chat]:
    chats = Chat.objects.filter(owner=user)
    if archived is not None:
        chats = chats.filter(archived=archived)
    if q:
        chats = chats.filter(title__icontains=q)
    return chats


def chat_get(*, user: User, chat_id: uuid.UUID | str) -> Chat:
    """The user's own chat, else 404 (never 403: another user's chat does not exist for you)."""
    try:
        return Chat.objects.get(pk=uuid.UUID(str(chat_id)), owner=user)
    except (ValueError, Chat.DoesNotExist):
        raise Http404("No such chat.") from None


def file_get(*, user: User, file_id: uuid.UUID | str) -> ChatFile:
    """The user's own upload, else 404 (files are authorised by owner, not by chat)."""
    try:
        return ChatFile.objects.get(pk=uuid.UUID(str(file_id)), owner=user)
    except (ValueError, ChatFile.DoesNotExist):
        raise Http404("No such file.") from None


def message_page(
    *, chat: Chat, after_id: int | None = None, before_id: int | None = None, limit: int = 50
) -> tuple[list[Message], bool]:
    """Up to `limit` visible messages, oldest first, and whether more lie beyond them.

    With `after_id` the page starts right after it (catching up); otherwise it is the newest
    page before `before_id` (scrolling back).
    """
    messages = Message.objects.user_visible().filter(chat=chat)
    if before_id is not None:
        messages = messages.filter(id__lt=before_id)
    if after_id is not None:
        page = list(messages.filter(id__gt=after_id).order_by("id")[: limit + 1])
        return page[:limit], len(page) > limit
    page = list(messages.order_by("-id")[: limit + 1])
    return page[:limit][::-1], len(page) > limit


def queued_messages(*, chat: Chat) -> list[QueuedMessage]:
    return list(QueuedMessage.objects.filter(chat=chat))


def custom_prompt(*, user: User) -> str:
    return UserPreferences.objects.filter(user=user).values_list("custom_prompt", flat=True).first() or ""


def chat_titles(chat_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Titles by id, for the cost summary's chat trees (costs cannot read chats itself)."""
    return dict(Chat.objects.filter(pk__in=list(chat_ids)).values_list("id", "title"))


def last_message_id(*, chat: Chat) -> int:
    """The newest message of any kind (visible or not, even deleted): where the history ends."""
    return Message.objects.filter(chat=chat).aggregate(last=Max("id"))["last"] or 0
