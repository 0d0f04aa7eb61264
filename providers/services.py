"""Writes for providers and model configs (shared by the API and Django admin)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from providers.models import ModelConfig, Provider
from providers.pricing_defaults import default_prices


def provider_save(*, provider: Provider, api_key: str | None = None, **fields: Any) -> Provider:
    """Create or update a provider; `api_key` None keeps the stored key, "" clears it."""
    for name, value in fields.items():
        setattr(provider, name, value)
    if api_key is not None:
        provider.set_api_key(api_key)
    provider.save()
    return provider


def model_config_save(*, config: ModelConfig, **fields: Any) -> ModelConfig:
    """Create or update a model config; making it the default demotes the previous default.

    A new config given no price at all takes the default price table's prices for its model.
    """
    creating = config.pk is None
    for name, value in fields.items():
        setattr(config, name, value)
    if creating and all(price is None for price in config.prices().values()):
        _apply_default_prices(config)
    with transaction.atomic():
        if config.is_default:
            ModelConfig.objects.filter(is_default=True).exclude(pk=config.pk).update(is_default=False)
        config.save()
    return config


def _apply_default_prices(config: ModelConfig) -> None:
    prices = default_prices(config.provider.kind, config.model)
    if prices is not None:
        config.input_price, config.output_price = prices["input"], prices["output"]
        config.cache_read_price, config.cache_write_price = prices["cache_read"], prices["cache_write"]
