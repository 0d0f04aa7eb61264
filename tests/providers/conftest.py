"""A mockllm server per test module, and adapters pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from providers.interface import Adapter, LLMRequest, PromptMessage, ProviderSettings, StreamEvent, ToolDefinition
from providers.mockllm import MockLLMServer, start_in_thread
from providers.registry import get_adapter
from tests.llm import recorded, reset, script

__all__ = ["recorded", "script"]

# name -> (provider kind, base URL suffix, extra request options)
FLAVOURS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "openai": ("openai", "/v1", {}),
    "openai_responses": ("openai", "/v1", {"use_responses_api": True}),
    "openai_compatible": ("openai_compatible", "/v1", {}),
    "anthropic": ("anthropic", "", {}),
    "google": ("google", "", {}),
}
READ_FILE = ToolDefinition(
    "read_file", "Read a file", {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}
)


@pytest.fixture(scope="module")
def mock_server() -> Iterator[MockLLMServer]:
    server = start_in_thread()
    yield server
    server.stop()


@pytest.fixture()
def mockllm(mock_server: MockLLMServer) -> Iterator[MockLLMServer]:
    reset(mock_server)
    yield mock_server


def make_adapter(server: MockLLMServer, flavour: str, api_key: str = "test-key") -> Adapter:
    kind, suffix, _ = FLAVOURS[flavour]
    return get_adapter(ProviderSettings(kind, api_key, server.url + suffix))


def make_request(flavour: str, text: str = "hello", **kwargs: Any) -> LLMRequest:
    options = {**FLAVOURS[flavour][2], **kwargs.pop("options", {})}
    messages = [
        PromptMessage("system", [{"type": "text", "text": "You are a test."}]),
        PromptMessage("user", [{"type": "text", "text": text}]),
    ]
    return LLMRequest(model="mock-model", messages=messages, tools=[READ_FILE], options=options, **kwargs)


def of_type(events: list[StreamEvent], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]
