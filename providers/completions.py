"""The adapter of a model config, and short one-shot completions (chat titles, push summaries)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from providers.interface import Adapter, LLMRequest, PromptMessage, ProviderError, ProviderSettings
from providers.models import ModelConfig
from providers.registry import get_adapter
from providers.retry import retry_delay

ONE_SHOT_ATTEMPTS = 3


def adapter_for(config: ModelConfig) -> Adapter:
    """Raises ProviderError(kind="config") when the provider's adapter cannot be built."""
    provider = config.provider
    return get_adapter(ProviderSettings(provider.kind, provider.effective_api_key(), provider.base_url))


# One-shot calls run here so the caller can stop waiting after its timeout (a blocked socket
# read cannot be interrupted); an abandoned call finishes in the background.
_calls = ThreadPoolExecutor(max_workers=8, thread_name_prefix="llm-one-shot")


def complete_text(
    config: ModelConfig, *, system: str, text: str, max_output_tokens: int, timeout_seconds: float
) -> str:
    """One system and one user message in, the model's text out (no streaming, no tools).

    Raises ProviderError (kind "timeout" when no answer came within `timeout_seconds`).
    """
    request = LLMRequest(
        model=config.model,
        messages=[PromptMessage("system", [{"type": "text", "text": system}]),
                  PromptMessage("user", [{"type": "text", "text": text}])],
        max_output_tokens=max_output_tokens,
    )  # fmt: skip
    deadline = time.monotonic() + timeout_seconds
    future = _calls.submit(_complete_retrying, config, request, deadline)
    try:
        return future.result(timeout=timeout_seconds)
    except FutureTimeout:
        raise ProviderError(f"no answer within {timeout_seconds:g} s", kind="timeout") from None


def _complete_retrying(config: ModelConfig, request: LLMRequest, deadline: float) -> str:
    """The SDKs' own retries are off (streams have ours), so a one-shot call gets a few here:
    a pooled connection the server closed meanwhile, a 429 or a 5xx should not cost a title."""
    for attempt in range(ONE_SHOT_ATTEMPTS):
        try:
            return adapter_for(config).complete(request).text
        except ProviderError as exc:
            delay = retry_delay(exc, attempt)
            if not exc.retryable or attempt + 1 == ONE_SHOT_ATTEMPTS or time.monotonic() + delay >= deadline:
                raise
            time.sleep(delay)
    raise AssertionError("unreachable")
