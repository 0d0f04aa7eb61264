"""Provider-executed web search and citations, read over the wire through the official SDKs:
mockllm streams them in Anthropic's and OpenAI Responses' real event shapes."""

from __future__ import annotations

import pytest

from providers.interface import (
    PAUSED,
    Finish,
    ProviderToolResult,
    Source,
    StreamEvent,
    TextDelta,
    ToolCallComplete,
    ToolCallStart,
)
from providers.mockllm import MockLLMServer
from providers.mockllm.script import SEARCH_RESULTS
from tests.providers.conftest import make_adapter, make_request, of_type, recorded, script

pytestmark = pytest.mark.core

SEARCH_FLAVOURS = ["anthropic", "openai_responses"]
ANSWER = "Here is what I found about django 5.2. First result says so. Second result says so."


def search_turn(server: MockLLMServer, flavour: str, text: str = "mock: websearch django 5.2") -> list[StreamEvent]:
    request = make_request(flavour, text, options={"web_search_enabled": True})
    return list(make_adapter(server, flavour).stream(request))


@pytest.mark.parametrize("flavour", SEARCH_FLAVOURS)
def test_a_provider_search_is_a_provider_executed_call_with_its_query(mockllm: MockLLMServer, flavour: str) -> None:
    events = search_turn(mockllm, flavour)
    (call,) = of_type(events, ToolCallComplete)
    assert (call.name, call.provider_executed, call.args["query"]) == ("web_search", True, "django 5.2")
    assert call.id.startswith("srvtoolu_" if flavour == "anthropic" else "ws_")
    assert events[-1] == Finish("stop")  # the provider ran the tool: nothing for chatd to run


@pytest.mark.parametrize("flavour", SEARCH_FLAVOURS)
def test_the_search_result_follows_its_call_and_precedes_the_answer(mockllm: MockLLMServer, flavour: str) -> None:
    events = search_turn(mockllm, flavour)
    (call,) = of_type(events, ToolCallComplete)
    (result,) = of_type(events, ProviderToolResult)
    assert (result.id, result.name, result.is_error) == (call.id, "web_search", False)
    assert events.index(call) < events.index(result) < events.index(of_type(events, TextDelta)[0])


def test_anthropic_search_results_keep_what_a_replay_needs(mockllm: MockLLMServer) -> None:
    (result,) = of_type(search_turn(mockllm, "anthropic"), ProviderToolResult)
    assert [(r["type"], r["url"], r["title"]) for r in result.result] == [
        ("web_search_result", url, title) for url, title in SEARCH_RESULTS
    ]
    assert all(r["encrypted_content"] and r["page_age"] for r in result.result)


def test_responses_search_result_lists_the_sources_it_asked_for(mockllm: MockLLMServer) -> None:
    (result,) = of_type(search_turn(mockllm, "openai_responses"), ProviderToolResult)
    sources = [{"type": "url", "url": url} for url, _ in SEARCH_RESULTS]
    assert result.result == {"status": "completed", "sources": sources}
    (sent,) = recorded(mockllm)
    assert sent["body"]["include"] == ["web_search_call.action.sources"]
    assert {"type": "web_search", "search_context_size": "medium"} in sent["body"]["tools"]


@pytest.mark.parametrize("flavour", SEARCH_FLAVOURS)
def test_citations_become_sources_and_the_cited_text_arrives_whole(mockllm: MockLLMServer, flavour: str) -> None:
    events = search_turn(mockllm, flavour)
    assert of_type(events, Source) == [Source(url, title) for url, title in SEARCH_RESULTS]
    assert "".join(d.text for d in of_type(events, TextDelta)) == ANSWER


def test_anthropic_search_error_is_a_provider_result_marked_as_an_error(mockllm: MockLLMServer) -> None:
    script(mockllm, {"web_search": {"query": "django 5.2", "error": "max_uses_exceeded"}})
    events = search_turn(mockllm, "anthropic", "search please")
    (result,) = of_type(events, ProviderToolResult)
    assert result.is_error
    assert result.result == {"type": "web_search_tool_result_error", "error_code": "max_uses_exceeded"}
    assert of_type(events, Source) == []
    assert "".join(d.text for d in of_type(events, TextDelta)) == "The web search failed."


@pytest.mark.parametrize("flavour", ["openai", "openai_compatible", "google"])
def test_formats_without_provider_search_give_the_answer_as_plain_text(mockllm: MockLLMServer, flavour: str) -> None:
    events = list(make_adapter(mockllm, flavour).stream(make_request(flavour, "mock: websearch django 5.2")))
    assert "".join(d.text for d in of_type(events, TextDelta)) == ANSWER
    assert of_type(events, ToolCallStart) == of_type(events, ProviderToolResult) == []
    assert events[-1] == Finish("stop")


def test_anthropic_pause_turn_is_a_paused_finish(mockllm: MockLLMServer) -> None:
    """A long server-side tool loop that Anthropic paused: the loop must continue the turn."""
    script(mockllm, {"text": "Still searching", "finish_reason": "pause"})
    events = list(make_adapter(mockllm, "anthropic").stream(make_request("anthropic")))
    assert events[-1] == Finish(PAUSED)
