"""What the openai adapters put on the wire: messages and tools go in `extra_body`, around the
SDK's TypedDict transforms (providers.adapters.common.untransformed), and must arrive whole."""

from __future__ import annotations

import pytest

from providers.mockllm import MockLLMServer
from tests.providers.conftest import READ_FILE, make_adapter, make_request, recorded

pytestmark = [pytest.mark.core, pytest.mark.parametrize("flavour", ["openai", "openai_compatible", "openai_responses"])]


def test_the_history_and_the_tools_reach_the_server_whole(mockllm: MockLLMServer, flavour: str) -> None:
    list(make_adapter(mockllm, flavour).stream(make_request(flavour, text="the question")))
    body = recorded(mockllm)[0]["body"]
    history = body["input"] if flavour == "openai_responses" else body["messages"]
    assert [item["role"] for item in history] == ["system", "user"]
    assert "the question" in str(history[-1]["content"])
    tool = body["tools"][0]
    assert (tool["name"] if flavour == "openai_responses" else tool["function"]["name"]) == READ_FILE.name


def test_a_completion_sends_the_history_too(mockllm: MockLLMServer, flavour: str) -> None:
    make_adapter(mockllm, flavour).complete(make_request(flavour, text="title this"))
    body = recorded(mockllm)[0]["body"]
    history = body["input"] if flavour == "openai_responses" else body["messages"]
    assert "title this" in str(history[-1]["content"])
