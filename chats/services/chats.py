from __future__ import annotations

import uuid
from functools import partial
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q

from chats import streaming
from chats.agent import prompt
from chats.enums import ChatStatus, Role, Visibility
from chats.errors import InvalidInput
from chats.models import Chat, DeploymentSettings, Message, UserPreferences
from chats.parts import TITLE_MAX_CHARS, fallback_title, input_to_parts, parts_text
from chats.serializers import message_event
from chats.services.common import file_resolver, lock_chat, resolve_model_config, set_status, sidebar_chat
from chats.services.files import files_attach
from config.api_errors import APIError
from costs import services as costs
from workspaces import git
from workspaces.models import Workspace
from workspaces.services import processes_kill_for_chat


def chat_create(
    *,
    owner: User,
    content: Any,
    model_config_id: int | None = None,
    workspace_id: uuid.UUID | None = None,
    parent: Chat | None = None,
    title: str | None = None,
    mode: str | None = None,
) -> Chat:
    """Create a chat with its first user message, `pending` so a worker picks it up.

    The deployment system prompt and the workspace awareness note are stored first (model-only),
    so changing the deployment prompt later affects new chats only. A `parent` makes a sub-agent
    chat in the parent's tree; `mode` (computer_use) is fixed at creation.
    """
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
            title=(title or "").strip()[:TITLE_MAX_CHARS] or fallback_title(parts_text(parts)),
            model_config=model_config,
            workspace=workspace,
            parent=parent,
            root_id=parent.root_chat_id if parent else None,
            mode=mode,
            status=ChatStatus.WAITING,
        )
        costs.usage_admit(user_id=owner.pk, root_chat_id=chat.root_chat_id)
        files_attach(chat=chat, parts=parts)
        system_prompt = DeploymentSettings.load().system_prompt.strip() or prompt.DEFAULT_SYSTEM_PROMPT
        Message.objects.bulk_create(
            [
                Message(chat=chat, role=Role.SYSTEM, parts=[prompt.text_part(text)], visibility=Visibility.MODEL)
                for text in (system_prompt, prompt.workspace_awareness(workspace is not None))
            ]
        )
        message = Message.objects.create(
            chat=chat,
            role=Role.USER,
            parts=parts,
            visibility=Visibility.BOTH,
            model_config=model_config,
            created_by=owner,
        )
        event = message_event(message)
        transaction.on_commit(lambda: streaming.publish_chat_events(chat.id, [event]))
        set_status(chat, ChatStatus.PENDING, sidebar_kind="created")
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
            tree = Chat.objects.filter(Q(pk=chat.root_chat_id) | Q(root_id=chat.root_chat_id))
            tree.update(archived=archived)
            chat.archived = archived
            kinds.append("deleted" if archived else "created")
            if archived:
                _stop_tree(list(tree.values_list("pk", flat=True)))
        chat.save(update_fields=["title", "model_config", "archived", "updated_at"])
        payload = sidebar_chat(chat)
        for kind in kinds:
            transaction.on_commit(partial(streaming.publish_sidebar_event, chat.owner_id, kind, payload))
    return chat


def _stop_tree(chat_ids: list[uuid.UUID]) -> None:
    """Archiving stops the tree's running turns and kills its background processes."""
    for running in Chat.objects.select_for_update().filter(pk__in=chat_ids, status=ChatStatus.RUNNING):
        set_status(running, ChatStatus.WAITING)

    def kill_processes() -> None:
        for chat_id in chat_ids:
            processes_kill_for_chat(chat_id)

    transaction.on_commit(kill_processes)


def chat_interrupt(*, chat: Chat) -> Chat:
    """Stop the running turn; the worker keeps the partial answer (reference §3 setChatWaiting).

    A pending chat stays pending: a message waiting to run wins over a stop.
    """
    with transaction.atomic():
        chat = lock_chat(chat.pk)
        if chat.status in (ChatStatus.RUNNING, ChatStatus.ERROR):
            set_status(chat, ChatStatus.WAITING)
        # Stopping a parent stops the sub-agents it is running.
        for child in Chat.objects.select_for_update().filter(parent=chat, status=ChatStatus.RUNNING):
            set_status(child, ChatStatus.WAITING)
    return chat


def chat_set_generated_title(*, chat_id: uuid.UUID, title: str, expected_title: str) -> bool:
    """Store a generated title unless someone renamed the chat meanwhile; publishes title_change."""
    with transaction.atomic():
        chat = lock_chat(chat_id)
        if chat.title != expected_title:
            return False
        chat.title = title
        chat.save(update_fields=["title", "updated_at"])
        payload = sidebar_chat(chat)
        transaction.on_commit(lambda: streaming.publish_sidebar_event(chat.owner_id, "title_change", payload))
    return True


def chat_regenerate_title(*, chat: Chat) -> Chat:
    """A fresh title from the model, from the first and latest turns (synchronous)."""
    from chats.agent import title as titles

    model_config = chat.model_config or resolve_model_config(None)
    new_title = titles.regenerate(chat, model_config)
    if new_title is None:
        raise APIError("The model could not produce a title; try again.", code="title_failed", status_code=502)
    chat_set_generated_title(chat_id=chat.pk, title=new_title, expected_title=chat.title)
    chat.refresh_from_db()
    return chat


def custom_prompt_set(*, user: User, custom_prompt: str) -> str:
    """The user's custom instructions, added to every turn of their chats."""
    UserPreferences.objects.update_or_create(user=user, defaults={"custom_prompt": custom_prompt})
    return custom_prompt


def chat_bind_workspace(*, chat_id: uuid.UUID, workspace_id: uuid.UUID) -> None:
    """Attach a workspace the agent created to its chat (late binding by create_workspace)."""
    with transaction.atomic():
        chat = lock_chat(chat_id)
        chat.workspace_id = workspace_id
        chat.save(update_fields=["workspace", "updated_at"])
        payload = sidebar_chat(chat)
        transaction.on_commit(lambda: streaming.publish_sidebar_event(chat.owner_id, "status_change", payload))


def chat_publish_diff_status(*, chat: Chat) -> None:
    """Tell the sidebar what the chat's workspace changed (after a step that ran tools)."""
    if chat.workspace is None:
        return
    status = git.diff_status(chat.workspace)
    summary = {
        "branch": status["branch"],
        "changed_files": len(status["changed_files"]),
        "additions": sum(f["additions"] for f in status["changed_files"]),
        "deletions": sum(f["deletions"] for f in status["changed_files"]),
    }
    streaming.publish_sidebar_event(chat.owner_id, "diff_status_change", {**sidebar_chat(chat), "diff_status": summary})
