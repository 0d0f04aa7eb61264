"""Chats, their messages (the durable history) and the per-chat queue."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models

from chats.enums import ChatMode, ChatStatus, Role, Visibility
from chats.fields import SafeJSONField

DEFAULT_TITLE = "New Chat"
MAX_QUEUED_MESSAGES = 20


class Chat(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chats")
    title = models.CharField(max_length=200, default=DEFAULT_TITLE)
    status = models.CharField(max_length=16, choices=ChatStatus.choices, default=ChatStatus.WAITING)
    # Set while running: who owns the run and when it last proved to be alive.
    worker_id = models.CharField(max_length=100, null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(null=True, blank=True)
    model_config = models.ForeignKey(
        "providers.ModelConfig", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.SET_NULL, null=True, blank=True, related_name="chats"
    )
    parent = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children")
    root = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="descendants")
    mode = models.CharField(max_length=32, choices=ChatMode.choices, null=True, blank=True)
    archived = models.BooleanField(default=False)
    # Set by stale recovery; the next acquisition announces `"recovered": true` and clears it.
    recovered = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            # The worker's acquisition and sweep queries.
            models.Index(fields=["updated_at"], condition=models.Q(status="pending"), name="chat_pending_by_updated"),
            models.Index(
                fields=["heartbeat_at"], condition=models.Q(status="running"), name="chat_running_by_heartbeat"
            ),
            # The sidebar: own chats, newest first.
            models.Index(fields=["owner", "archived", "-updated_at"], name="chat_owner_list"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def root_chat_id(self) -> uuid.UUID:
        """Root chats report their own id (reference §2.2)."""
        return self.root_id or self.id


class MessageQuerySet(models.QuerySet["Message"]):
    def alive(self) -> MessageQuerySet:
        return self.filter(deleted=False)

    def user_visible(self) -> MessageQuerySet:
        return self.alive().filter(visibility__in=[Visibility.USER, Visibility.BOTH])


class Message(models.Model):
    id = models.BigAutoField(primary_key=True)
    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=16, choices=Role.choices)
    parts = SafeJSONField(default=list)
    visibility = models.CharField(max_length=8, choices=Visibility.choices, default=Visibility.BOTH)
    model_config = models.ForeignKey(
        "providers.ModelConfig", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Usage of the step that produced an assistant message; NULL on other roles.
    input_tokens = models.BigIntegerField(null=True, blank=True)
    output_tokens = models.BigIntegerField(null=True, blank=True)
    reasoning_tokens = models.BigIntegerField(null=True, blank=True)
    cache_read_tokens = models.BigIntegerField(null=True, blank=True)
    cache_write_tokens = models.BigIntegerField(null=True, blank=True)
    usage_raw = models.JSONField(null=True, blank=True, help_text="The provider's usage payload as received.")
    context_limit = models.BigIntegerField(null=True, blank=True)
    # Integer micro-dollars; NULL = unpriced. `pricing` keeps the prices charged, so history
    # stays right when an admin changes prices later.
    cost_micros = models.BigIntegerField(null=True, blank=True)
    pricing = models.JSONField(null=True, blank=True)
    runtime_ms = models.BigIntegerField(null=True, blank=True)
    provider_response_id = models.CharField(max_length=200, blank=True, default="")
    compressed = models.BooleanField(default=False)
    deleted = models.BooleanField(default=False)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["chat", "id"], name="message_chat_id"),
            models.Index(fields=["created_at"], condition=models.Q(role="assistant"), name="message_assistant_time"),
        ]

    def __str__(self) -> str:
        return f"{self.role} message {self.id}"

    @property
    def usage(self) -> dict[str, int] | None:
        if self.role != Role.ASSISTANT:
            return None
        return {
            "input_tokens": self.input_tokens or 0,
            "output_tokens": self.output_tokens or 0,
            "reasoning_tokens": self.reasoning_tokens or 0,
            "cache_read_tokens": self.cache_read_tokens or 0,
            "cache_write_tokens": self.cache_write_tokens or 0,
        }


class QueuedMessage(models.Model):
    """A user message sent while the chat was busy; promoted FIFO when the run ends."""

    id = models.BigAutoField(primary_key=True)
    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="queued_messages")
    parts = SafeJSONField(default=list)
    model_config = models.ForeignKey(
        "providers.ModelConfig", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class ChatFile(models.Model):
    """An uploaded attachment; messages refer to it by id and the bytes load at prompt time."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_files")
    chat = models.ForeignKey(Chat, on_delete=models.SET_NULL, null=True, blank=True, related_name="files")
    name = models.CharField(max_length=255, blank=True, default="")
    media_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    data = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]


class UsageRecord(Message):
    """Assistant messages seen as billing lines in Django admin."""

    class Meta:
        proxy = True
        verbose_name = "usage record"


class DeploymentSettings(models.Model):
    """Site-wide chat settings (a single row), editable in Django admin."""

    system_prompt = models.TextField(
        blank=True,
        default="",
        max_length=128 * 1024,
        help_text="Stored as the first system message of every new chat. Empty = the built-in default.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "deployment settings"

    def __str__(self) -> str:
        return "Deployment settings"

    @classmethod
    def load(cls) -> DeploymentSettings:
        return cls.objects.get_or_create(pk=1)[0]


class UserPreferences(models.Model):
    """A user's custom instructions and per-model compaction thresholds."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_preferences")
    custom_prompt = models.TextField(blank=True, default="", max_length=128 * 1024)
    # {"<model_config_id>": 0..100}; overrides the model config's threshold for this user.
    compaction_thresholds = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "user preferences"


class PushSubscription(models.Model):
    """A browser's Web Push subscription (its `PushSubscription.toJSON()`), for its user."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions")
    # The push service URL is the browser's identity: one row per browser, whoever signed in last.
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200, help_text="The browser's P-256 public key, base64url.")
    auth = models.CharField(max_length=100, help_text="The browser's 16-byte auth secret, base64url.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"push subscription {self.pk} of user {self.user_id}"

    def info(self) -> dict[str, Any]:
        """The shape Web Push libraries take."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}
