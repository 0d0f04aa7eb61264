"""Wire shapes of chats, messages and queued messages (API.md §4); also used for events."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from chats.models import Chat, ChatFile, Message, PushSubscription, QueuedMessage
from config import vapid


class ChatSerializer(serializers.ModelSerializer[Chat]):
    model_config_id = serializers.IntegerField(allow_null=True, read_only=True)
    workspace_id = serializers.UUIDField(allow_null=True, read_only=True)
    parent_chat_id = serializers.UUIDField(source="parent_id", allow_null=True, read_only=True)
    root_chat_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = Chat
        fields = [
            "id", "title", "status", "last_error", "model_config_id", "workspace_id",
            "parent_chat_id", "root_chat_id", "archived", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class UsageSerializer(serializers.Serializer[Any]):
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    reasoning_tokens = serializers.IntegerField()
    cache_read_tokens = serializers.IntegerField()
    cache_write_tokens = serializers.IntegerField()


@extend_schema_field({"type": "array", "items": {"type": "object", "additionalProperties": True}})
class PartsField(serializers.JSONField):
    pass


class MessageSerializer(serializers.ModelSerializer[Message]):
    chat_id = serializers.UUIDField(read_only=True)
    model_config_id = serializers.IntegerField(allow_null=True, read_only=True)
    created_by = serializers.IntegerField(source="created_by_id", allow_null=True, read_only=True)
    usage = UsageSerializer(allow_null=True, read_only=True)
    parts = PartsField(read_only=True)

    class Meta:
        model = Message
        fields = [
            "id", "chat_id", "role", "parts", "model_config_id", "usage", "cost_micros",
            "created_by", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class QueuedMessageSerializer(serializers.ModelSerializer[QueuedMessage]):
    chat_id = serializers.UUIDField(read_only=True)
    model_config_id = serializers.IntegerField(allow_null=True, read_only=True)
    parts = PartsField(read_only=True)

    class Meta:
        model = QueuedMessage
        fields = ["id", "chat_id", "parts", "model_config_id", "created_at"]
        read_only_fields = fields


class ChatFileSerializer(serializers.ModelSerializer[ChatFile]):
    class Meta:
        model = ChatFile
        fields = ["id", "name", "media_type", "size"]
        read_only_fields = fields


# --- request bodies -----------------------------------------------------------------------


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string"},
            {"type": "array", "items": {"type": "object", "additionalProperties": True}},
        ]
    }
)
class ContentField(serializers.JSONField):
    """A string, or a list of input parts: {"type": "text", "text"} / {"type": "file", "file_id"}."""


class ChatCreateSerializer(serializers.Serializer[Any]):
    content = ContentField()
    model_config_id = serializers.IntegerField(required=False, allow_null=True)
    workspace_id = serializers.UUIDField(required=False, allow_null=True)


class FileUploadSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(help_text="At most 10 MiB; the type is sniffed from the bytes.")


class ChatUpdateSerializer(serializers.Serializer[Any]):
    title = serializers.CharField(required=False, max_length=200, allow_blank=False)
    archived = serializers.BooleanField(required=False)
    model_config_id = serializers.IntegerField(required=False)


class MessageSendSerializer(serializers.Serializer[Any]):
    content = ContentField()
    busy_behavior = serializers.ChoiceField(choices=["queue", "interrupt"], default="queue")
    model_config_id = serializers.IntegerField(required=False, allow_null=True)


class ChangedFileSerializer(serializers.Serializer[Any]):
    path = serializers.CharField()
    change = serializers.CharField()
    additions = serializers.IntegerField()
    deletions = serializers.IntegerField()


class DiffStatusSerializer(serializers.Serializer[Any]):
    branch = serializers.CharField()
    changed_files = ChangedFileSerializer(many=True)
    diff = serializers.CharField()


class MessageEditSerializer(serializers.Serializer[Any]):
    content = ContentField()


class CustomPromptSerializer(serializers.Serializer[Any]):
    custom_prompt = serializers.CharField(allow_blank=True, max_length=128 * 1024, trim_whitespace=False)


class MessageListQuerySerializer(serializers.Serializer[Any]):
    after_id = serializers.IntegerField(required=False, min_value=0)
    before_id = serializers.IntegerField(required=False, min_value=1)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)


class MessagePageSerializer(serializers.Serializer[Any]):
    messages = MessageSerializer(many=True)
    queued_messages = QueuedMessageSerializer(many=True)
    has_more = serializers.BooleanField()


class SendResultSerializer(serializers.Serializer[Any]):
    queued = serializers.BooleanField()
    message = MessageSerializer(required=False)
    queued_message = QueuedMessageSerializer(required=False)


class PushSubscriptionSerializer(serializers.ModelSerializer[PushSubscription]):
    class Meta:
        model = PushSubscription
        fields = ["id", "endpoint", "created_at"]
        read_only_fields = fields


def _b64url_length(value: str) -> int:
    try:
        return len(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (binascii.Error, ValueError):
        return -1


class PushKeysSerializer(serializers.Serializer[Any]):
    p256dh = serializers.CharField(max_length=200, help_text="The browser's P-256 public key, base64url.")
    auth = serializers.CharField(max_length=100, help_text="The browser's 16-byte auth secret, base64url.")

    def validate_p256dh(self, value: str) -> str:
        if _b64url_length(value) != 65:
            raise serializers.ValidationError("Must be an uncompressed P-256 public key (65 bytes), base64url.")
        return value

    def validate_auth(self, value: str) -> str:
        if _b64url_length(value) != 16:
            raise serializers.ValidationError("Must be a 16-byte secret, base64url.")
        return value


class PushSubscriptionCreateSerializer(serializers.Serializer[Any]):
    """A browser's `PushSubscription.toJSON()`, as it is."""

    endpoint = serializers.URLField(max_length=1000)
    keys = PushKeysSerializer()
    expirationTime = serializers.IntegerField(required=False, allow_null=True)  # the browser's own name

    def validate_endpoint(self, value: str) -> str:
        if urlsplit(value).scheme != "https" and not vapid.allow_http():
            raise serializers.ValidationError("Push service endpoints must be https URLs.")
        return value


class PushSubscriptionDeleteSerializer(serializers.Serializer[Any]):
    endpoint = serializers.URLField(max_length=1000)


class VapidPublicKeySerializer(serializers.Serializer[Any]):
    public_key = serializers.CharField(help_text="`applicationServerKey` for `pushManager.subscribe`, base64url.")


# --- hot paths: the same JSON as the serializers above, without building a serializer -------
# Building a ModelSerializer costs 1-3 ms of CPU (field construction); these run on every
# status change and stored step. tests/chats/test_serializers.py holds them equal.


def _datetime(value: datetime | None) -> str | None:
    """As DRF's DateTimeField writes it: in the current time zone, ISO 8601, UTC as "Z"."""
    if not value:
        return None
    zone = timezone.get_current_timezone()
    local = value.astimezone(zone) if timezone.is_aware(value) else timezone.make_aware(value, zone)
    text = local.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _uuid(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def _int(value: int | None) -> int | None:
    return None if value is None else int(value)


def _str(value: str | None) -> str | None:
    return None if value is None else str(value)


def chat_data(chat: Chat) -> dict[str, Any]:
    """`ChatSerializer(chat).data`."""
    return {
        "id": str(chat.id),
        "title": str(chat.title),
        "status": _str(chat.status),
        "last_error": _str(chat.last_error),
        "model_config_id": _int(chat.model_config_id),
        "workspace_id": _uuid(chat.workspace_id),
        "parent_chat_id": _uuid(chat.parent_id),
        "root_chat_id": str(chat.root_chat_id),
        "archived": bool(chat.archived),
        "created_at": _datetime(chat.created_at),
        "updated_at": _datetime(chat.updated_at),
    }


def message_data(message: Message) -> dict[str, Any]:
    """`MessageSerializer(message).data`."""
    usage = message.usage
    return {
        "id": _int(message.id),
        "chat_id": _uuid(message.chat_id),
        "role": _str(message.role),
        "parts": message.parts,
        "model_config_id": _int(message.model_config_id),
        "usage": None if usage is None else {name: int(count) for name, count in usage.items()},
        "cost_micros": _int(message.cost_micros),
        "created_by": _int(message.created_by_id),
        "created_at": _datetime(message.created_at),
    }


def queued_message_data(queued: QueuedMessage) -> dict[str, Any]:
    """`QueuedMessageSerializer(queued).data`."""
    return {
        "id": _int(queued.id),
        "chat_id": _uuid(queued.chat_id),
        "parts": queued.parts,
        "model_config_id": _int(queued.model_config_id),
        "created_at": _datetime(queued.created_at),
    }


def message_event(message: Message) -> dict[str, Any]:
    return {"type": "message", "chat_id": str(message.chat_id), "message": message_data(message)}


def status_event(chat: Chat, *, recovered: bool = False) -> dict[str, Any]:
    return {
        "type": "status",
        "chat_id": str(chat.id),
        "status": chat.status,
        "last_error": chat.last_error,
        "recovered": recovered,
    }


def queue_event(chat: Chat, queued: list[QueuedMessage]) -> dict[str, Any]:
    return {
        "type": "queue_update",
        "chat_id": str(chat.id),
        "queued_messages": [queued_message_data(row) for row in queued],
    }
