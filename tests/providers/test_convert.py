"""History repairs (reference §5) and each vendor's message shape."""

from __future__ import annotations

from typing import Any

from providers.adapters.anthropic import anthropic_messages
from providers.adapters.anthropic import params as anthropic_params
from providers.adapters.convert import INTERRUPTED_RESULT, repair_history, result_text, sanitize_tool_call_id
from providers.adapters.google import gemini_contents
from providers.adapters.openai import chat_messages
from providers.adapters.openai_responses import input_items
from providers.interface import LLMRequest, PromptMessage


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def call(call_id: str, args: Any = None, name: str = "read_file", **extra: Any) -> dict[str, Any]:
    return {"type": "tool_call", "tool_call_id": call_id, "tool_name": name, "args": args or {}, **extra}


def result(call_id: str, value: Any = "ok", name: str = "read_file", **extra: Any) -> dict[str, Any]:
    return {
        "type": "tool_result",
        "tool_call_id": call_id,
        "tool_name": name,
        "result": value,
        "is_error": False,
        **extra,
    }


def user(*parts: dict[str, Any]) -> PromptMessage:
    return PromptMessage("user", list(parts))


def assistant(*parts: dict[str, Any]) -> PromptMessage:
    return PromptMessage("assistant", list(parts))


def tool(*parts: dict[str, Any]) -> PromptMessage:
    return PromptMessage("tool", list(parts))


def roles(messages: list[PromptMessage]) -> list[str]:
    return [m.role for m in messages]


def test_empty_and_whitespace_text_and_reasoning_are_skipped() -> None:
    history = repair_history([user(text("  "), text("hi")), assistant({"type": "reasoning", "text": "\n"}, text("yo"))])
    assert history == [user(text("hi")), assistant(text("yo"))]


def test_a_message_left_empty_is_dropped() -> None:
    assert roles(repair_history([user(text("hi")), assistant(text(" ")), user(text("again"))])) == ["user", "user"]


def test_source_parts_are_never_sent() -> None:
    history = repair_history([assistant(text("see"), {"type": "source", "url": "https://x", "title": "X"})])
    assert history == [assistant(text("see"))]


def test_file_parts_without_bytes_are_skipped() -> None:
    with_data = {"type": "file", "file_id": "f1", "media_type": "image/png", "name": "a.png", "data": b"\x89PNG"}
    without = {"type": "file", "file_id": "f2", "media_type": "image/png", "name": "b.png"}
    assert repair_history([user(text("look"), with_data, without)])[0].parts == [text("look"), with_data]


def test_tool_call_ids_are_sanitised() -> None:
    assert sanitize_tool_call_id("toolu:01/ab.c d") == "toolu_01_ab_c_d"
    history = repair_history([assistant(call("call.1")), tool(result("call.1"))])
    assert [p["tool_call_id"] for m in history for p in m.parts] == ["call_1", "call_1"]


def test_non_object_tool_args_become_an_empty_object() -> None:
    for bad in (["a"], "text", 3, None):
        history = repair_history([assistant({**call("c1"), "args": bad}), tool(result("c1"))])
        assert history[0].parts[0]["args"] == {}


def test_a_tool_call_without_result_gets_a_synthetic_error_result() -> None:
    history = repair_history(
        [user(text("go")), assistant(call("c1"), call("c2")), tool(result("c1")), user(text("next"))]
    )
    assert roles(history) == ["user", "assistant", "tool", "tool", "user"]
    synthetic = history[3].parts[0]
    assert synthetic["tool_call_id"] == "c2" and synthetic["is_error"] is True
    assert result_text(synthetic) == INTERRUPTED_RESULT


def test_a_trailing_tool_call_without_result_is_answered_too() -> None:
    history = repair_history([user(text("go")), assistant(call("c1"))])
    assert roles(history) == ["user", "assistant", "tool"]


def test_an_orphan_result_gets_a_synthetic_call_in_the_assistant_message_before_it() -> None:
    history = repair_history(
        [user(text("go")), assistant(text("ok"), call("c1")), tool(result("c1")), tool(result("c9"))]
    )
    assert [p.get("tool_call_id") for p in history[1].parts] == [None, "c1", "c9"]


def test_an_orphan_result_with_no_assistant_message_gets_one() -> None:
    history = repair_history([user(text("go")), tool(result("c9", name="execute"))])
    assert roles(history) == ["user", "assistant", "tool"]
    assert history[1].parts == [call("c9", name="execute", provider_executed=False)]


def test_provider_executed_results_stay_in_the_assistant_message() -> None:
    search = [
        call("ws1", {"query": "q"}, name="web_search", provider_executed=True),
        result("ws1", [{"url": "u"}], name="web_search", provider_executed=True),
    ]
    history = repair_history([user(text("find")), assistant(*search, text("found"))])
    assert roles(history) == ["user", "assistant"]  # no synthetic tool message
    assert [p["type"] for p in history[1].parts] == ["tool_call", "tool_result", "text"]


def test_a_provider_executed_call_without_its_result_is_dropped() -> None:
    history = repair_history([assistant(call("ws1", name="web_search", provider_executed=True), text("hm"))])
    assert history == [assistant(text("hm"))]


def test_empty_or_null_tool_results_become_an_empty_object() -> None:
    for empty in (None, ""):
        history = repair_history([assistant(call("c1")), tool(result("c1", empty))])
        assert history[1].parts[0]["result"] == {}
        assert result_text(history[1].parts[0]) == "{}"


def test_error_results_send_their_error_string() -> None:
    part = {**result("c1", {"error": "file not found", "code": 2}), "is_error": True}
    assert result_text(part) == "file not found"
    assert result_text(result("c1", {"error": "not an error result"})) == '{"error": "not an error result"}'
    assert result_text(result("c1", "plain")) == "plain"


HISTORY = [
    PromptMessage("system", [text("Be brief.")]),
    user(text("read a.txt")),
    assistant(
        {"type": "reasoning", "text": "think", "signature": "sig"}, text("Reading."), call("c1", {"path": "a.txt"})
    ),
    tool(result("c1", "contents")),
    user(text("thanks")),
]


def test_openai_chat_messages_shape() -> None:
    messages = chat_messages(HISTORY)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool", "user"]
    assert messages[2]["content"] == "Reading."
    assert messages[2]["tool_calls"][0]["function"] == {"name": "read_file", "arguments": '{"path": "a.txt"}'}
    assert messages[3] == {"role": "tool", "tool_call_id": "c1", "content": "contents"}


def test_openai_responses_input_shape() -> None:
    items = input_items(HISTORY)
    kinds = [item.get("type") or item["role"] for item in items]
    assert kinds == ["system", "user", "assistant", "function_call", "function_call_output", "user"]


def test_anthropic_puts_cache_marks_on_last_system_block_and_last_two_messages() -> None:
    system, messages = anthropic_messages(HISTORY)
    assert system == [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}]
    marked = [i for i, m in enumerate(messages) for b in m["content"] if "cache_control" in b]
    assert marked == [len(messages) - 2, len(messages) - 1]


def test_anthropic_replays_signed_thinking_and_merges_tool_results_into_the_user_turn() -> None:
    _, messages = anthropic_messages(HISTORY)
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"][0] == {"type": "thinking", "thinking": "think", "signature": "sig"}
    assert [b["type"] for b in messages[2]["content"]] == ["tool_result", "text"]


def test_anthropic_drops_unsigned_thinking() -> None:
    _, messages = anthropic_messages([user(text("q")), assistant({"type": "reasoning", "text": "t"}, text("a"))])
    assert [b["type"] for b in messages[1]["content"]] == ["text"]


def test_anthropic_replays_web_search_inside_the_assistant_message() -> None:
    search = [
        call("srvtoolu_1", {"query": "q"}, name="web_search", provider_executed=True),
        result("srvtoolu_1", [{"type": "web_search_result", "url": "u"}], name="web_search", provider_executed=True),
    ]
    _, messages = anthropic_messages([user(text("find")), assistant(*search, text("found"))])
    assert [b["type"] for b in messages[1]["content"]] == ["server_tool_use", "web_search_tool_result", "text"]


def test_anthropic_leaves_out_another_vendors_web_search() -> None:
    """A chat that searched with an OpenAI model, then switched to Claude: Anthropic accepts
    only its own server tool blocks, so the OpenAI search stays out and its answer stays in."""
    search = [
        call("ws_1", {"type": "search", "query": "q"}, name="web_search", provider_executed=True),
        result("ws_1", {"status": "completed", "sources": []}, name="web_search", provider_executed=True),
    ]
    _, messages = anthropic_messages([user(text("find")), assistant(*search, text("found")), user(text("more"))])
    assert [(block["type"], block.get("text")) for block in messages[1]["content"]] == [("text", "found")]


def test_anthropic_thinking_budget_and_web_search_options() -> None:
    request = LLMRequest(
        "claude", HISTORY, options={"thinking_budget": 2048, "web_search_enabled": True, "temperature": 1}
    )
    sent = anthropic_params(request)
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert "temperature" not in sent
    assert sent["tools"][-1]["type"] == "web_search_20250305"


def test_gemini_contents_shape() -> None:
    contents = gemini_contents(HISTORY)
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    assert contents[1]["parts"][-1] == {"function_call": {"id": "c1", "name": "read_file", "args": {"path": "a.txt"}}}
    assert contents[2]["parts"][0]["function_response"]["response"] == {"result": "contents"}
