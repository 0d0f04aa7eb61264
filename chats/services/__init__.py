"""Writes: every state change of a chat, each in one transaction, publishing after commit."""

from chats.services.chats import chat_create, chat_update
from chats.services.messages import SendResult, message_send

__all__ = ["SendResult", "chat_create", "chat_update", "message_send"]
