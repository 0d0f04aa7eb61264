"""Adapter registry, options validation and the User-Agent."""

from __future__ import annotations

import pytest

from providers.adapters.anthropic import AnthropicAdapter
from providers.adapters.google import GoogleAdapter
from providers.adapters.openai import OpenAIAdapter
from providers.adapters.openai_compatible import OpenAICompatibleAdapter
from providers.interface import ProviderError, ProviderSettings
from providers.options import validate_options
from providers.registry import get_adapter
from providers.useragent import CHATD_VERSION, user_agent


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("openai", OpenAIAdapter), ("anthropic", AnthropicAdapter), ("google", GoogleAdapter)],
)
def test_get_adapter_picks_the_vendor_module(kind: str, expected: type) -> None:
    assert type(get_adapter(ProviderSettings(kind, "key"))) is expected


def test_openai_compatible_needs_a_base_url() -> None:
    assert isinstance(get_adapter(ProviderSettings("openai_compatible", "", "http://x/v1")), OpenAICompatibleAdapter)
    with pytest.raises(ProviderError) as caught:
        get_adapter(ProviderSettings("openai_compatible", "key"))
    assert caught.value.kind == "config"


def test_unknown_kind_is_a_config_error() -> None:
    with pytest.raises(ProviderError, match="unknown provider kind"):
        get_adapter(ProviderSettings("cohere", "key"))


def test_user_agent_names_chatd_version_os_and_arch() -> None:
    agent = user_agent()
    assert agent.startswith(f"chatd/{CHATD_VERSION} (")
    assert agent.endswith(")") and "/" in agent.split("(")[1]


def test_valid_options_pass_through() -> None:
    options = {"temperature": 0.7, "reasoning_effort": "high", "use_responses_api": True, "web_search_enabled": False}
    assert validate_options("openai", options) == options
    assert validate_options("anthropic", {"thinking_budget": 2048}) == {"thinking_budget": 2048}


@pytest.mark.parametrize(
    ("kind", "options", "key"),
    [
        ("openai", {"temperature": 3}, "temperature"),
        ("openai", {"reasoning_effort": "extreme"}, "reasoning_effort"),
        ("anthropic", {"thinking_budget": 100}, "thinking_budget"),
        ("anthropic", {"use_responses_api": True}, "use_responses_api"),
        ("google", {"web_search_enabled": "yes"}, "web_search_enabled"),
        ("openai", {"bogus": 1}, "bogus"),
    ],
)
def test_invalid_options_name_the_key(kind: str, options: dict, key: str) -> None:
    with pytest.raises(ValueError, match=key):
        validate_options(kind, options)


def test_one_adapter_is_shared_per_provider_settings() -> None:
    first = get_adapter(ProviderSettings("openai_compatible", "key-a", "http://x/v1"))
    assert get_adapter(ProviderSettings("openai_compatible", "key-a", "http://x/v1")) is first
    assert get_adapter(ProviderSettings("openai_compatible", "key-b", "http://x/v1")) is not first
    assert get_adapter(ProviderSettings("openai_compatible", "key-a", "http://y/v1")) is not first
