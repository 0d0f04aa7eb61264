"""LLM providers (endpoints + encrypted keys) and the model configs users pick from."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from providers import crypto

DEFAULT_MAX_OUTPUT_TOKENS = 32_000
DEFAULT_COMPACTION_THRESHOLD_PERCENT = 70


class ProviderKind(models.TextChoices):
    OPENAI = "openai", "OpenAI"
    ANTHROPIC = "anthropic", "Anthropic"
    GOOGLE = "google", "Google"
    OPENAI_COMPATIBLE = "openai_compatible", "OpenAI-compatible"


class Provider(models.Model):
    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=32, choices=ProviderKind.choices)
    base_url = models.URLField(blank=True, default="", help_text="Empty = the vendor's default endpoint.")
    # Fernet token; the plaintext key never touches the database, a response or a log line.
    api_key_encrypted = models.TextField(blank=True, default="", editable=False)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    def __repr__(self) -> str:  # never include the key, even encrypted
        return f"<Provider {self.pk} {self.name!r} {self.kind}>"

    @property
    def has_api_key(self) -> bool:
        return bool(self.api_key_encrypted)

    def set_api_key(self, plaintext: str) -> None:
        """Store `plaintext` encrypted; an empty string clears the key."""
        self.api_key_encrypted = crypto.encrypt(plaintext) if plaintext else ""

    def effective_api_key(self) -> str:
        """The stored key, else the deployment's env preset for this kind (e.g. OPENAI_API_KEY)."""
        if self.api_key_encrypted:
            return crypto.decrypt(self.api_key_encrypted)
        return settings.CHATD_PROVIDER_ENV_KEYS.get(self.kind, "")

    def unavailable_reason(self) -> str | None:
        """Why models of this provider cannot be used right now (None when they can)."""
        if not self.enabled:
            return "disabled"
        try:
            key = self.effective_api_key()
        except ValueError:
            return "key_undecryptable"
        # Local OpenAI-compatible servers (vLLM, Ollama…) often need no key at all.
        if not key and not (self.kind == ProviderKind.OPENAI_COMPATIBLE and self.base_url):
            return "missing_api_key"
        return None


def _price_field(label: str) -> models.DecimalField:
    return models.DecimalField(
        label,
        max_digits=14,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
        help_text="USD per 1M tokens. Empty = unpriced, 0 = free.",
    )


class ModelConfig(models.Model):
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="model_configs")
    model = models.CharField(max_length=200, help_text="The vendor's model id, e.g. gpt-4o-mini.")
    display_name = models.CharField(max_length=200, blank=True, default="")
    enabled = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False)
    context_limit = models.PositiveIntegerField(default=200_000, validators=[MinValueValidator(1)])
    max_output_tokens = models.PositiveIntegerField(
        null=True, blank=True, help_text=f"Empty = {DEFAULT_MAX_OUTPUT_TOKENS}."
    )
    compaction_threshold_percent = models.PositiveSmallIntegerField(
        default=DEFAULT_COMPACTION_THRESHOLD_PERCENT,
        validators=[MaxValueValidator(100)],
        help_text="Summarise the history when context use reaches this percentage; 100 disables.",
    )
    options = models.JSONField(default=dict, blank=True)
    input_price = _price_field("input price ($/1M tokens)")
    output_price = _price_field("output price ($/1M tokens)")
    cache_read_price = _price_field("cache read price ($/1M tokens)")
    cache_write_price = _price_field("cache write price ($/1M tokens)")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider__name", "model"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="one_default_model_config"
            ),
            models.CheckConstraint(
                condition=models.Q(compaction_threshold_percent__lte=100), name="compaction_threshold_0_100"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.model

    @property
    def effective_max_output_tokens(self) -> int:
        return self.max_output_tokens or DEFAULT_MAX_OUTPUT_TOKENS

    def prices(self) -> dict[str, Decimal | None]:
        return {
            "input": self.input_price,
            "output": self.output_price,
            "cache_read": self.cache_read_price,
            "cache_write": self.cache_write_price,
        }
