from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from providers import services
from providers.models import ModelConfig, Provider
from providers.options import validate_options


class ProviderForm(forms.ModelForm):
    base_url = forms.URLField(required=False, assume_scheme="https", help_text="Empty = the vendor's default endpoint.")
    api_key = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text="Write-only: leave empty to keep the stored key. Stored encrypted.",
    )
    clear_api_key = forms.BooleanField(required=False, help_text="Remove the stored key.")

    class Meta:
        model = Provider
        fields = ["name", "kind", "base_url", "enabled"]


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    form = ProviderForm
    list_display = ["name", "kind", "base_url", "enabled", "has_api_key"]
    list_filter = ["kind", "enabled"]
    readonly_fields = ["has_api_key", "created_at", "updated_at"]

    @admin.display(boolean=True)
    def has_api_key(self, obj: Provider) -> bool:
        return obj.has_api_key

    def save_model(self, request: HttpRequest, obj: Provider, form: Any, change: bool) -> None:
        key = "" if form.cleaned_data.get("clear_api_key") else (form.cleaned_data.get("api_key") or None)
        services.provider_save(provider=obj, api_key=key)


class ModelConfigForm(forms.ModelForm):
    class Meta:
        model = ModelConfig
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        provider = cleaned.get("provider")
        if provider is not None:
            try:
                cleaned["options"] = validate_options(provider.kind, cleaned.get("options") or {})
            except ValueError as exc:
                self.add_error("options", str(exc))
        return cleaned


def _per_million(value: Any) -> str:
    return "unpriced" if value is None else f"${value.normalize():f} / 1M"


@admin.register(ModelConfig)
class ModelConfigAdmin(admin.ModelAdmin):
    form = ModelConfigForm
    list_display = [
        "__str__",
        "provider",
        "model",
        "enabled",
        "is_default",
        "input",
        "output",
        "cache_read",
        "cache_write",
    ]
    list_filter = ["provider", "enabled", "is_default"]
    search_fields = ["model", "display_name"]
    fieldsets = [
        (None, {"fields": ["provider", "model", "display_name", "enabled", "is_default"]}),
        ("Limits", {"fields": ["context_limit", "max_output_tokens", "compaction_threshold_percent", "options"]}),
        (
            "Prices (USD per 1M tokens)",
            {"fields": ["input_price", "output_price", "cache_read_price", "cache_write_price"]},
        ),
    ]

    @admin.display(description="input")
    def input(self, obj: ModelConfig) -> str:
        return _per_million(obj.input_price)

    @admin.display(description="output")
    def output(self, obj: ModelConfig) -> str:
        return _per_million(obj.output_price)

    @admin.display(description="cache read")
    def cache_read(self, obj: ModelConfig) -> str:
        return _per_million(obj.cache_read_price)

    @admin.display(description="cache write")
    def cache_write(self, obj: ModelConfig) -> str:
        return _per_million(obj.cache_write_price)

    def save_model(self, request: HttpRequest, obj: ModelConfig, form: Any, change: bool) -> None:
        services.model_config_save(config=obj)
