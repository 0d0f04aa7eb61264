"""The usage ledger and the usage-limit configuration.

`costs` never imports `chats` (imports point chats → costs → providers), so it keeps its own
ledger: one `UsageEntry` per stored assistant step, written in the same transaction as the
message. Chats are referred to by plain UUIDs, not foreign keys.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone


class Period(models.TextChoices):
    DAY = "day", "Day"
    WEEK = "week", "Week (from Monday)"
    MONTH = "month", "Month"


class UsageEntry(models.Model):
    """One model step: who, which chat tree, which model, its tokens and what it cost."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    chat_id = models.UUIDField()
    # Sub-agent steps roll up to the chat the user started; a root chat is its own root.
    root_chat_id = models.UUIDField()
    message_id = models.BigIntegerField(null=True, blank=True, help_text="The chats Message this step stored.")
    model_config = models.ForeignKey(
        "providers.ModelConfig", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Copied at the time, so the ledger still reads right after a config is renamed or deleted.
    provider_name = models.CharField(max_length=100, blank=True, default="")
    model = models.CharField(max_length=200, blank=True, default="")
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    reasoning_tokens = models.BigIntegerField(default=0)
    cache_read_tokens = models.BigIntegerField(default=0)
    cache_write_tokens = models.BigIntegerField(default=0)
    cost_micros = models.BigIntegerField(null=True, blank=True, help_text="Integer micro-dollars; empty = unpriced.")
    pricing = models.JSONField(null=True, blank=True, help_text="The prices charged (USD per 1M tokens).")
    usage_raw = models.JSONField(null=True, blank=True, help_text="The provider's usage payload as received.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "usage entries"
        indexes = [
            models.Index(fields=["user", "created_at"], name="usage_user_time"),
            models.Index(fields=["created_at"], name="usage_time"),
            models.Index(fields=["root_chat_id", "created_at"], name="usage_root_chat_time"),
            models.Index(fields=["model_config", "created_at"], name="usage_model_time"),
        ]

    def __str__(self) -> str:
        return f"usage {self.id} ({self.model})"


class UsageLimitConfig(models.Model):
    """Deployment-wide limit (a single row, pk 1); off by default."""

    enabled = models.BooleanField(default=False)
    period = models.CharField(max_length=8, choices=Period.choices, default=Period.MONTH)
    default_limit_micros = models.BigIntegerField(default=0, help_text="Spend allowed per period, micro-dollars.")
    reservation_micros = models.BigIntegerField(
        default=20_000,
        help_text="Estimated cost of one turn, held from admission until its steps are recorded, so "
        "concurrent sends cannot all slip under the limit.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "usage limit settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(default_limit_micros__gte=0), name="usage_default_limit_gte_0"),
            models.CheckConstraint(condition=models.Q(reservation_micros__gte=0), name="usage_reservation_gte_0"),
        ]

    def __str__(self) -> str:
        return "Usage limit settings"

    @classmethod
    def load(cls) -> UsageLimitConfig:
        return cls.objects.get_or_create(pk=1)[0]


class UserUsageLimit(models.Model):
    """Overrides every group and the default for one user."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="usage_limit")
    limit_micros = models.BigIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(limit_micros__gt=0), name="user_limit_gt_0")]

    def __str__(self) -> str:
        return f"{self.user}: {self.limit_micros} micros"


class GroupUsageLimit(models.Model):
    """Applies to members without a user override; the lowest of a user's groups wins."""

    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="usage_limit")
    limit_micros = models.BigIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(limit_micros__gt=0), name="group_limit_gt_0")]

    def __str__(self) -> str:
        return f"{self.group}: {self.limit_micros} micros"


class UsageCounter(models.Model):
    """One row per user, counting admitted turns; admission holds its row lock
    (SELECT ... FOR UPDATE) from reading the spend to writing the reservation, so one user's
    concurrent sends are admitted one at a time and cannot all slip under the limit."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+")
    admitted_turns = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)


class UsageReservation(models.Model):
    """Cost held for an admitted turn that has not finished recording its steps.

    Each recorded step of the chat tree takes its cost out of the oldest reservation; the root
    chat's last step of the turn removes it. A turn that dies early leaves it to `expires_at`.
    """

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    root_chat_id = models.UUIDField()
    amount_micros = models.BigIntegerField()
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "root_chat_id"], name="reservation_user_root")]
