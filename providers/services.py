"""Writes for providers and model configs (shared by the API and Django admin)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from providers.models import ModelConfig, Provider


def provider_save(*, provider: Provider, api_key: str | None = None, **fields: Any) -> Provider:
    """Create or update a provider; `api_key` None keeps the stored key, "" clears it."""
    for name, value in fields.items():
        setattr(provider, name, value)
    if api_key is not None:
        provider.set_api_key(api_key)
    provider.save()
    return provider


def model_config_save(*, config: ModelConfig, **fields: Any) -> ModelConfig:
    """Create or update a model config; making it the default demotes the previous default."""
    for name, value in fields.items():
        setattr(config, name, value)
    with transaction.atomic():
        if config.is_default:
            ModelConfig.objects.filter(is_default=True).exclude(pk=config.pk).update(is_default=False)
        config.save()
    return config
