"""Read-only views of chats and usage for operators; state changes go through the API."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html

from chats.agent.prompt import DEFAULT_SYSTEM_PROMPT
from chats.enums import Role
from chats.models import Chat, DeploymentSettings, Message, UsageRecord, UserPreferences


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


MESSAGE_FIELDS = ("id", "role", "visibility", "rendered_parts", "cost_micros", "deleted", "created_at")
USAGE_COLUMNS = (
    "id", "chat", "model_config", "input_tokens", "output_tokens", "reasoning_tokens",
    "cache_read_tokens", "cache_write_tokens", "cost", "created_at",
)  # fmt: skip


class MessageInline(admin.TabularInline):
    model = Message
    fields = MESSAGE_FIELDS
    readonly_fields = MESSAGE_FIELDS
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="parts")
    def rendered_parts(self, obj: Message) -> str:
        return format_html(
            "<pre style='white-space:pre-wrap;max-width:60rem'>{}</pre>", json.dumps(obj.parts, indent=1)[:4000]
        )


def _heartbeat_age(chat: Chat) -> str:
    if chat.heartbeat_at is None:
        return "—"
    return f"{(timezone.now() - chat.heartbeat_at).total_seconds():.0f} s ago"


@admin.register(Chat)
class ChatAdmin(ReadOnlyAdmin):
    list_display = ["title", "owner", "status", "worker_id", "heartbeat_age", "archived", "updated_at"]
    list_filter = ["status", "archived"]
    search_fields = ["title", "owner__username", "id"]
    readonly_fields = [
        "id", "owner", "title", "status", "last_error", "worker_id", "started_at", "heartbeat_at",
        "heartbeat_age", "model_config", "workspace", "parent", "root", "mode", "archived",
        "created_at", "updated_at",
    ]  # fmt: skip
    inlines = [MessageInline]

    @admin.display(description="heartbeat")
    def heartbeat_age(self, obj: Chat) -> str:
        return _heartbeat_age(obj)


@admin.register(UsageRecord)
class UsageRecordAdmin(ReadOnlyAdmin):
    list_display = USAGE_COLUMNS
    list_filter = ["model_config", "created_at"]
    date_hierarchy = "created_at"
    fields = (*USAGE_COLUMNS, "pricing", "usage_raw")
    readonly_fields = (*USAGE_COLUMNS, "pricing", "usage_raw")

    def get_queryset(self, request: HttpRequest) -> QuerySet[UsageRecord]:
        return super().get_queryset(request).filter(role=Role.ASSISTANT).select_related("chat", "model_config")

    @admin.display(description="cost (USD)")
    def cost(self, obj: UsageRecord) -> str:
        return "unpriced" if obj.cost_micros is None else f"${obj.cost_micros / 1_000_000:.6f}"


@admin.register(DeploymentSettings)
class DeploymentSettingsAdmin(admin.ModelAdmin):
    fields = ["system_prompt", "default_prompt"]
    readonly_fields = ["default_prompt"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not DeploymentSettings.objects.exists()

    @admin.display(description="built-in default (used while the prompt above is empty)")
    def default_prompt(self, obj: DeploymentSettings) -> str:
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", DEFAULT_SYSTEM_PROMPT)


@admin.register(UserPreferences)
class UserPreferencesAdmin(admin.ModelAdmin):
    list_display = ["user", "updated_at"]
    search_fields = ["user__username"]
