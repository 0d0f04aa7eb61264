"""OpenAI-compatible servers (vLLM, Ollama, OpenRouter, …): the OpenAI adapter with a base URL."""

from providers.adapters.openai import OpenAIAdapter


class OpenAICompatibleAdapter(OpenAIAdapter):
    def __init__(self, api_key: str, base_url: str) -> None:
        if not base_url:
            raise ValueError("an openai_compatible provider needs a base_url")
        super().__init__(api_key, base_url, compatible=True)
