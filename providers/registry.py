"""Picks the adapter for a provider kind."""

from __future__ import annotations

from collections.abc import Callable

from providers.interface import Adapter, ProviderError, ProviderSettings


def _openai(settings: ProviderSettings) -> Adapter:
    from providers.adapters.openai import OpenAIAdapter

    return OpenAIAdapter(settings.api_key, settings.base_url)


def _openai_compatible(settings: ProviderSettings) -> Adapter:
    from providers.adapters.openai_compatible import OpenAICompatibleAdapter

    return OpenAICompatibleAdapter(settings.api_key, settings.base_url)


def _anthropic(settings: ProviderSettings) -> Adapter:
    from providers.adapters.anthropic import AnthropicAdapter

    return AnthropicAdapter(settings.api_key, settings.base_url)


def _google(settings: ProviderSettings) -> Adapter:
    from providers.adapters.google import GoogleAdapter

    return GoogleAdapter(settings.api_key, settings.base_url)


# Imported lazily: each SDK is slow to import and most processes use one or two.
ADAPTERS: dict[str, Callable[[ProviderSettings], Adapter]] = {
    "openai": _openai,
    "openai_compatible": _openai_compatible,
    "anthropic": _anthropic,
    "google": _google,
}


def get_adapter(settings: ProviderSettings) -> Adapter:
    """The adapter for `settings.kind`; ProviderError(kind="config") when it cannot be built."""
    factory = ADAPTERS.get(settings.kind)
    if factory is None:
        raise ProviderError(f"unknown provider kind {settings.kind!r}", kind="config")
    try:
        return factory(settings)
    except ValueError as exc:
        raise ProviderError(str(exc), kind="config") from exc
