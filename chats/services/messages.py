from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.http import Http404

from chats import streaming
from chats.enums import BUSY_STATUSES, BusyBehavior, ChatStatus, Role, Visibility
from chats.errors import InvalidInput, QueueFull
from chats.models import MAX_QUEUED_MESSAGES, Chat, Message, QueuedMessage
from chats.parts import input_to_parts
from chats.serializers import message_event, queue_event
from chats.services.common import file_resolver, lock_chat, promote_queued, resolve_model_config, set_status
from chats.services.files import files_attach
from costs import services as costs


@dataclass(frozen=True)
class SendResult:
    queued: bool
    message: Message | None = None
    queued_message: QueuedMessage | None = None


def message_send(
    *,
    chat: Chat,
    user: User,
    content: Any,
    busy_behavior: BusyBehavior = BusyBehavior.QUEUE,
    model_config_id: int | None = None,
) -> SendResult:
    """Add a user message; queue it instead when the chat is busy (reference §6 SendMessage).

    A non-empty queue also counts as busy so FIFO order holds. With ``interrupt`` the message is
    queued and the chat set `waiting`: the worker stops, keeps its partial answer and then
    promotes the queue, so the partial answer sorts before the new message.
    """
    parts = input_to_parts(content, resolve_file=file_resolver(chat.owner_id))
    model_config = resolve_model_config(model_config_id) if model_config_id is not None else None
    with transaction.atomic():
        chat = lock_chat(chat.pk)
        costs.usage_admit(user_id=chat.owner_id, root_chat_id=chat.root_chat_id)
        files_attach(chat=chat, parts=parts)
        queue = list(QueuedMessage.objects.filter(chat=chat))
        if chat.status in BUSY_STATUSES or queue:
            if len(queue) >= MAX_QUEUED_MESSAGES:
                raise QueueFull(MAX_QUEUED_MESSAGES)
            queued = QueuedMessage.objects.create(chat=chat, parts=parts, model_config=model_config, created_by=user)
            event = queue_event(chat, [*queue, queued])
            transaction.on_commit(lambda: streaming.publish_chat_events(chat.id, [event]))
            if busy_behavior == BusyBehavior.INTERRUPT and chat.status == ChatStatus.RUNNING:
                set_status(chat, ChatStatus.WAITING)
            return SendResult(queued=True, queued_message=queued)
        if model_config is not None:
            Chat.objects.filter(pk=chat.pk).update(model_config=model_config)
        message = Message.objects.create(
            chat=chat,
            role=Role.USER,
            parts=parts,
            visibility=Visibility.BOTH,
            model_config_id=model_config.pk if model_config is not None else chat.model_config_id,
            created_by=user,
        )
        event = message_event(message)
        transaction.on_commit(lambda: streaming.publish_chat_events(chat.id, [event]))
        set_status(chat, ChatStatus.PENDING)
    return SendResult(queued=False, message=message)


def message_edit(*, chat: Chat, user: User, message_id: int, content: Any) -> Message:
    """Replace a user message: it and everything after it are soft-deleted, the queue is
    cleared and the chat runs again from the edited message (reference §6 EditMessage)."""
    parts = input_to_parts(content, resolve_file=file_resolver(chat.owner_id))
    with transaction.atomic():
        chat = lock_chat(chat.pk)
        costs.usage_admit(user_id=chat.owner_id, root_chat_id=chat.root_chat_id)
        target = Message.objects.alive().filter(chat=chat, pk=message_id).first()
        if target is None:
            raise Http404("No such message in this chat.")
        if target.role != Role.USER:
            raise InvalidInput("Only user messages can be edited.", code="not_a_user_message")
        Message.objects.filter(chat=chat, id__gte=target.id).update(deleted=True)
        QueuedMessage.objects.filter(chat=chat).delete()
        files_attach(chat=chat, parts=parts)
        message = Message.objects.create(
            chat=chat, role=Role.USER, parts=parts, visibility=target.visibility,
            model_config_id=target.model_config_id, created_by=user,
        )  # fmt: skip
        # Subscribers drop what they hold from the edited message on and take the new one.
        events = [{**message_event(message), "truncate_from_id": target.id}, queue_event(chat, [])]
        transaction.on_commit(lambda: streaming.publish_chat_events(chat.id, events))
        set_status(chat, ChatStatus.PENDING)
    return message


def queued_promote(*, chat: Chat, queued_id: int) -> Message:
    """Send a queued message now: into the history, and run (reference §6 PromoteQueued)."""
    with transaction.atomic():
        chat = lock_chat(chat.pk)
        queued = QueuedMessage.objects.filter(chat=chat, pk=queued_id).first()
        if queued is None:
            raise Http404("No such queued message.")
        return promote_queued(chat, queued)


def queued_delete(*, chat: Chat, queued_id: int) -> None:
    """Drop a queued message, under the lock so a worker cannot promote it meanwhile."""
    with transaction.atomic():
        chat = lock_chat(chat.pk)
        deleted, _ = QueuedMessage.objects.filter(chat=chat, pk=queued_id).delete()
        if not deleted:
            raise Http404("No such queued message.")
        event = queue_event(chat, list(QueuedMessage.objects.filter(chat=chat)))
        transaction.on_commit(lambda: streaming.publish_chat_events(chat.id, [event]))
