from __future__ import annotations

import uuid
from functools import partial
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from chats import streaming
from chats.enums import ChatStatus, Role, Visibility
from chats.errors import InvalidInput
from chats.models import Chat, Message
from chats.parts import fallback_title, input_to_parts, parts_text
from chats.serializers import message_event
from chats.services.common import file_resolver, lock_chat, resolve_model_config, set_status, sidebar_chat
from workspaces.models import Workspace


def chat_create(
    *,
    owner: User,
    content: Any,
    model_config_id: int | None = None,
    workspace_id: uuid.UUID | None = None,
) -> Chat:
    """Create a chat with its first user message, `pending` so a worker picks it up."""
    parts = input_to_parts(content, resolve_file=file_resolver(owner.pk))
    model_config = resolve_model_config(model_config_id)
    workspace = None
    if workspace_id is not None:
        workspace = Workspace.objects.filter(pk=workspace_id, owner=owner).first()
        if workspace is None:
            raise InvalidInput("Invalid workspace ID.", code="invalid_workspace")
    with transaction.atomic():
        chat = Chat.objects.create(
            owner=owner,
            title=fallback_title(parts_text(parts)),
            model_config=model_config,
            workspace=workspace,
            status=ChatStatus.WAITING,
        )
        message = Message.objects.create(
            chat=chat,
            role=Role.USER,
            parts=parts,
            visibility=Visibility.BOTH,
            model_config=model_config,
            created_by=owner,
        )
        set_status(chat, ChatStatus.PENDING)
        created = sidebar_chat(chat)
        event = message_event(message)
        transaction.on_commit(lambda: streaming.publish_sidebar_event(owner.pk, "created", created))
        transaction.on_commit(lambda: streaming.publish_chat_events(chat.id, [event]))
    return chat


def chat_update(
    *,
    chat: Chat,
    title: str | None = None,
    archived: bool | None = None,
    model_config_id: int | None = None,
) -> Chat:
    """Rename, (un)archive (the whole tree with the same root) or switch the model of a chat."""
    model_config = resolve_model_config(model_config_id) if model_config_id is not None else None
    with transaction.atomic():
        chat = lock_chat(chat.pk)
        kinds: list[str] = []
        if title is not None and title != chat.title:
            chat.title = title
            kinds.append("title_change")
        if model_config is not None:
            chat.model_config = model_config
        if archived is not None and archived != chat.archived:
            tree = Chat.objects.filter(pk=chat.root_chat_id) | Chat.objects.filter(root_id=chat.root_chat_id)
            tree.update(archived=archived)
            chat.archived = archived
            kinds.append("deleted" if archived else "created")
        chat.save(update_fields=["title", "model_config", "archived", "updated_at"])
        payload = sidebar_chat(chat)
        for kind in kinds:
            transaction.on_commit(partial(streaming.publish_sidebar_event, chat.owner_id, kind, payload))
    return chat
