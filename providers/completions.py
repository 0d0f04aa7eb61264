"""The adapter of a model config, and short one-shot completions (chat titles, push summaries)."""

from __future__ import annotations

from providers.interface import Adapter, LLMRequest, PromptMessage, ProviderSettings
from providers.models import ModelConfig
from providers.registry import get_adapter


def adapter_for(config: ModelConfig) -> Adapter:
    """Raises ProviderError(kind="config") when the provider's adapter cannot be built."""
    provider = config.provider
    return get_adapter(ProviderSettings(provider.kind, provider.effective_api_key(), provider.base_url))


def complete_text(config: ModelConfig, *, system: str, text: str, max_output_tokens: int) -> str:
    """One system and one user message in, the model's text out (no streaming, no tools)."""
    request = LLMRequest(
        model=config.model,
        messages=[PromptMessage("system", [{"type": "text", "text": system}]),
                  PromptMessage("user", [{"type": "text", "text": text}])],
        max_output_tokens=max_output_tokens,
    )  # fmt: skip
    return adapter_for(config).complete(request).text
