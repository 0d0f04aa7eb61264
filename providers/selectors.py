from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from providers.models import ModelConfig, Provider


def model_catalog() -> dict[str, Any]:
    """What users can pick from (API.md §3): enabled providers, their enabled models, availability."""
    enabled_models = Prefetch("model_configs", queryset=ModelConfig.objects.filter(enabled=True))
    providers = Provider.objects.filter(enabled=True).prefetch_related(enabled_models)
    catalog = []
    for provider in providers:
        reason = provider.unavailable_reason()
        catalog.append(
            {
                "provider": provider.name,
                "kind": provider.kind,
                "available": reason is None,
                "unavailable_reason": reason,
                "models": [
                    {
                        "id": config.id,
                        "model": config.model,
                        "display_name": str(config),
                        "context_limit": config.context_limit,
                        "is_default": config.is_default,
                    }
                    for config in provider.model_configs.all()
                ],
            }
        )
    return {"providers": catalog}


def computer_use_model() -> ModelConfig | None:
    """The model computer-use sub-agents run on: an enabled Anthropic model whose options name
    a computer tool (`computer_use`) and whose provider has a key; the default one first."""
    candidates = (
        ModelConfig.objects.select_related("provider")
        .filter(enabled=True, provider__enabled=True, provider__kind="anthropic", options__has_key="computer_use")
        .order_by("-is_default", "id")
    )
    return next((config for config in candidates if config.provider.unavailable_reason() is None), None)
