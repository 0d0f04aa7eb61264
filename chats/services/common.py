"""Helpers shared by the chat services: row locks, status writes, model and file lookup."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from chats import runner, streaming
from chats.enums import ChatStatus, Role, Visibility
from chats.errors import InvalidInput
from chats.models import Chat, ChatFile, Message, QueuedMessage
from chats.serializers import chat_data, message_event, queue_event, status_event
from providers.models import ModelConfig


def lock_chat(chat_id: uuid.UUID) -> Chat:
    """Re-read the chat under a row lock; call inside ``transaction.atomic``."""
    return Chat.objects.select_for_update().get(pk=chat_id)


def set_status(
    chat: Chat,
    status: ChatStatus,
    *,
    error: str | None = None,
    sidebar_kind: str = "status_change",
    unless_queued: bool = False,
) -> bool:
    """The one place a chat's status is written (reference §3 rules).

    Leaving `running` clears the worker fields; `last_error` is kept only with `error`.
    Caller holds the row lock; events go out after commit (`sidebar_kind` "created" for a new chat).
    With `unless_queued`, nothing is written (False) when the chat has queued messages: the
    check is part of the UPDATE, and under the row lock no message can be queued meanwhile.
    """
    running = status == ChatStatus.RUNNING
    values = {
        "status": status,
        "last_error": error if status == ChatStatus.ERROR else None,
        "worker_id": chat.worker_id if running else None,
        "started_at": chat.started_at if running else None,
        "heartbeat_at": chat.heartbeat_at if running else None,
        "updated_at": timezone.now(),
    }
    rows = Chat.objects.filter(pk=chat.pk)
    if unless_queued:
        rows = rows.exclude(Exists(QueuedMessage.objects.filter(chat_id=OuterRef("pk"))))
    if not rows.update(**values) and unless_queued:
        return False
    for field, value in values.items():
        setattr(chat, field, value)
    event, sidebar = status_event(chat), sidebar_chat(chat)
    transaction.on_commit(lambda: streaming.publish_chat_events(chat.id, [event]))
    transaction.on_commit(lambda: streaming.publish_sidebar_event(chat.owner_id, sidebar_kind, sidebar))
    transaction.on_commit(lambda: streaming.publish_control(chat.id))
    if status == ChatStatus.PENDING:
        transaction.on_commit(lambda: streaming.call_after_publishing(runner.dispatch, chat.id))
    return True


def sidebar_chat(chat: Chat) -> dict[str, Any]:
    return chat_data(chat)


def resolve_model_config(model_config_id: int | None) -> ModelConfig:
    """The named enabled config, else the default one (reference §2.6)."""
    configs = ModelConfig.objects.select_related("provider").filter(enabled=True, provider__enabled=True)
    if model_config_id is not None:
        config = configs.filter(pk=model_config_id).first()
        if config is None:
            raise InvalidInput("Invalid model config ID.", code="invalid_model_config")
        return config
    config = configs.filter(is_default=True).first() or configs.order_by("id").first()
    if config is None:
        raise InvalidInput("No model is configured yet; ask an administrator to add one.", code="no_model")
    return config


def file_resolver(owner_id: int) -> Any:
    """For `parts.input_to_parts`: the owner's file → (media_type, name), else a 400."""

    def resolve(file_id: Any) -> tuple[str, str]:
        try:
            chat_file = ChatFile.objects.only("media_type", "name").get(pk=uuid.UUID(str(file_id)), owner_id=owner_id)
        except (ValueError, ChatFile.DoesNotExist):
            raise InvalidInput(f"Unknown file_id {file_id!r}.", code="invalid_file") from None
        return chat_file.media_type, chat_file.name

    return resolve


def promote_queued(chat: Chat, queued: QueuedMessage) -> Message:
    """Move a queued message into the history and make the chat pending. Caller holds the lock."""
    message = Message.objects.create(
        chat=chat, role=Role.USER, parts=queued.parts, visibility=Visibility.BOTH,
        model_config_id=queued.model_config_id or chat.model_config_id, created_by_id=queued.created_by_id,
    )  # fmt: skip
    queued.delete()
    if queued.model_config_id and queued.model_config_id != chat.model_config_id:
        Chat.objects.filter(pk=chat.pk).update(model_config_id=queued.model_config_id)
    events = [message_event(message), queue_event(chat, list(QueuedMessage.objects.filter(chat=chat)))]
    transaction.on_commit(lambda: streaming.publish_chat_events(chat.id, events))
    set_status(chat, ChatStatus.PENDING)
    return message
