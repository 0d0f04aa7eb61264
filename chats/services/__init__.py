"""Writes: every state change of a chat, each in one transaction, publishing after commit."""

from chats.services.chats import (
    chat_bind_workspace,
    chat_create,
    chat_interrupt,
    chat_publish_diff_status,
    chat_regenerate_title,
    chat_update,
    custom_prompt_set,
)
from chats.services.files import file_create
from chats.services.messages import SendResult, message_edit, message_send, queued_delete, queued_promote
from chats.services.push import push_subscription_delete, push_subscription_save

__all__ = [
    "SendResult",
    "chat_bind_workspace",
    "chat_create",
    "chat_interrupt",
    "chat_publish_diff_status",
    "chat_regenerate_title",
    "chat_update",
    "custom_prompt_set",
    "file_create",
    "message_edit",
    "message_send",
    "push_subscription_delete",
    "push_subscription_save",
    "queued_delete",
    "queued_promote",
]
