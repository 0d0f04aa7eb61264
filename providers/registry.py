"""Picks the adapter for a provider kind, and keeps one per provider settings.

Building an SDK client costs ~20 ms of CPU and most of a MiB (a fresh SSL context loads the
certificate bundle), and its HTTP connection pool is only useful if it lives on: adapters are
stateless between streams and their clients are thread-safe, so every turn of a process shares
one per (kind, key, base URL).
"""

from __future__ import annotations

import threading
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


CACHE_SIZE = 64  # distinct provider settings kept per process; a key rotation adds one
_cache: dict[ProviderSettings, Adapter] = {}
_cache_lock = threading.Lock()


def get_adapter(settings: ProviderSettings) -> Adapter:
    """The adapter for `settings.kind`; ProviderError(kind="config") when it cannot be built."""
    with _cache_lock:
        if (adapter := _cache.get(settings)) is not None:
            return adapter
    factory = ADAPTERS.get(settings.kind)
    if factory is None:
        raise ProviderError(f"unknown provider kind {settings.kind!r}", kind="config")
    try:
        adapter = factory(settings)
    except ValueError as exc:
        raise ProviderError(str(exc), kind="config") from exc
    with _cache_lock:
        if len(_cache) >= CACHE_SIZE:
            _cache.pop(next(iter(_cache)))  # the oldest
        return _cache.setdefault(settings, adapter)
