"""Whole turns through the real worker code, `mockllm` and the database."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chats import services, worker
from chats.enums import BusyBehavior, ChatStatus, Role
from chats.models import Chat, Message, QueuedMessage
from providers.mockllm import MockLLMServer
from providers.models import ModelConfig, Provider
from providers.services import model_config_save, provider_save
from tests.chats.conftest import Echo, Recorder, wait_for, wait_status
from tests.llm import recorded, script

pytestmark = [pytest.mark.core, pytest.mark.django_db(transaction=True)]


def texts(chat: Chat, role: str) -> list[str]:
    rows = Message.objects.user_visible().filter(chat=chat, role=role).order_by("id")
    return ["".join(p.get("text", "") for p in row.parts) for row in rows]


def chat_requests(llm: MockLLMServer) -> list[dict[str, Any]]:
    """Streaming model calls (titles and summaries are not streamed)."""
    return [r for r in recorded(llm) if r["body"].get("stream")]


def test_a_multi_step_tool_run_is_persisted_step_by_step(
    alice: Any, mock_model: Any, llm: MockLLMServer, echo_tool: Echo, events: Recorder
) -> None:
    script(llm, {"tool_calls": [{"name": "echo", "arguments": {"text": "ping"}}],
                 "usage": {"input_tokens": 1000, "output_tokens": 500}}, stream=True)  # fmt: skip
    chat = services.chat_create(owner=alice, content="Use the echo tool")
    worker.run_chat(chat.pk)

    chat.refresh_from_db()
    assert chat.status == ChatStatus.WAITING and chat.last_error is None
    rows = list(Message.objects.user_visible().filter(chat=chat).order_by("id"))
    assert [row.role for row in rows] == ["user", "assistant", "tool", "assistant"]
    call, result = rows[1].parts[0], rows[2].parts[0]
    assert (call["type"], call["tool_name"], call["args"]) == ("tool_call", "echo", {"text": "ping"})
    assert (result["tool_call_id"], result["result"], result["is_error"]) == (
        call["tool_call_id"],
        {"echo": "ping"},
        False,
    )
    assert "ping" in texts(chat, "assistant")[-1]  # the second model call saw the tool result
    # 1000 input tokens at $1/M + 500 output tokens at $2/M = 2000 micro-dollars, with the prices kept.
    assert (rows[1].input_tokens, rows[1].output_tokens, rows[1].cost_micros) == (1000, 500, 2000)
    assert rows[1].pricing == {
        "input": "1.000000",
        "output": "2.000000",
        "cache_read": "0.100000",
        "cache_write": "1.250000",
    }
    tool_seen = json.dumps(chat_requests(llm)[1]["body"]["messages"])
    assert '"echo": "ping"' in tool_seen.replace('\\"', '"')
    statuses = [e["status"] for e in events.of(chat.pk, "status")]
    assert statuses == ["pending", "running", "waiting"]
    assert len(events.of(chat.pk, "message")) == 4  # every persisted row was published


def test_interrupt_mid_stream_keeps_the_partial_text_and_ends_waiting(
    alice: Any, mock_model: Any, llm: MockLLMServer, events: Recorder, inline_runner: None
) -> None:
    chat = services.chat_create(owner=alice, content="mock: slow 200 20ms")
    wait_for(lambda: len(events.of(chat.pk, "message_part")) >= 5, what="streaming to start")
    services.chat_interrupt(chat=chat)
    wait_for(lambda: texts(chat, "assistant"), what="the partial answer to be stored")
    chat = wait_status(chat, "waiting")
    partial = texts(chat, "assistant")[0]
    streamed = "".join(e["part"]["text"] for e in events.of(chat.pk, "message_part"))
    assert partial and streamed.startswith(partial) and len(partial) < 200 * 3
    assert chat.last_error is None and chat.worker_id is None


def test_send_while_busy_queues_and_auto_promotes_in_fifo_order(
    alice: Any, mock_model: Any, llm: MockLLMServer, inline_runner: None
) -> None:
    chat = services.chat_create(owner=alice, content="mock: slow 40 20ms")
    wait_status(chat, "running")
    for text in ("second", "third"):
        assert services.message_send(chat=chat, user=alice, content=text).queued
    wait_for(lambda: len(texts(chat, "assistant")) == 3, what="three answers")
    wait_status(chat, "waiting")
    assert texts(chat, "user") == ["mock: slow 40 20ms", "second", "third"]
    assert [m.role for m in Message.objects.user_visible().filter(chat=chat)] == ["user", "assistant"] * 3
    assert not QueuedMessage.objects.filter(chat=chat).exists()


def test_interrupt_via_queue_puts_the_partial_answer_before_the_new_message(
    alice: Any, mock_model: Any, llm: MockLLMServer, events: Recorder, inline_runner: None
) -> None:
    chat = services.chat_create(owner=alice, content="mock: slow 200 20ms")
    wait_for(lambda: len(events.of(chat.pk, "message_part")) >= 5, what="streaming to start")
    result = services.message_send(chat=chat, user=alice, content="stop, do this", busy_behavior=BusyBehavior.INTERRUPT)
    assert result.queued
    wait_for(lambda: len(texts(chat, "assistant")) == 2, what="the partial answer and the next answer")
    wait_status(chat, "waiting")
    rows = list(Message.objects.user_visible().filter(chat=chat).order_by("id"))
    assert [r.role for r in rows] == ["user", "assistant", "user", "assistant"]
    assert texts(chat, "user")[1] == "stop, do this"
    assert "stop, do this" in texts(chat, "assistant")[1]


def test_edit_mid_run_restarts_from_the_edited_message(
    alice: Any, mock_model: Any, llm: MockLLMServer, events: Recorder, inline_runner: None
) -> None:
    chat = services.chat_create(owner=alice, content="mock: slow 200 20ms")
    first = Message.objects.get(chat=chat, role=Role.USER)
    services.message_send(chat=chat, user=alice, content="queued, to be cleared")
    wait_for(lambda: len(events.of(chat.pk, "message_part")) >= 5, what="streaming to start")
    edited = services.message_edit(chat=chat, user=alice, message_id=first.pk, content="mock: text edited answer")
    wait_for(lambda: texts(chat, "assistant") == ["edited answer"], what="the edited run's answer")
    chat = wait_status(chat, "waiting")
    assert texts(chat, "user") == ["mock: text edited answer"]
    assert Message.objects.get(pk=first.pk).deleted and edited.pk > first.pk
    assert not QueuedMessage.objects.filter(chat=chat).exists()
    assert not Message.objects.filter(chat=chat, role=Role.ASSISTANT, deleted=False).exclude(
        parts__0__text="edited answer").exists()  # fmt: skip  # the superseded run wrote nothing


def test_queued_messages_can_be_deleted_or_promoted(
    alice: Any, alice_api: Any, mock_model: Any, llm: MockLLMServer
) -> None:
    chat = services.chat_create(owner=alice, content="first")  # pending: later sends queue
    ids = [services.message_send(chat=chat, user=alice, content=t).queued_message.pk for t in ("a", "b")]  # type: ignore[union-attr]
    assert alice_api.delete(f"/api/chats/{chat.pk}/queue/{ids[0]}/").status_code == 204
    assert alice_api.delete(f"/api/chats/{chat.pk}/queue/{ids[0]}/").status_code == 404
    promoted = alice_api.post(f"/api/chats/{chat.pk}/queue/{ids[1]}/promote/")
    assert promoted.status_code == 200 and promoted.json()["parts"] == [{"type": "text", "text": "b"}]
    assert texts(chat, "user") == ["first", "b"] and not QueuedMessage.objects.filter(chat=chat).exists()


def test_a_provider_error_ends_in_error_with_the_reason(
    alice: Any, mock_model: Any, llm: MockLLMServer, events: Recorder
) -> None:
    chat = services.chat_create(owner=alice, content="mock: error 401")
    worker.run_chat(chat.pk)
    chat.refresh_from_db()
    assert chat.status == ChatStatus.ERROR and chat.last_error
    [error] = events.of(chat.pk, "error")
    assert error["error"]["status_code"] == 401 and error["error"]["retryable"] is False
    # a new message takes it out of `error`
    assert services.message_send(chat=chat, user=alice, content="try again").queued is False


def test_a_tool_output_with_nul_and_invalid_utf8_round_trips_to_the_model_and_the_api(
    alice: Any, alice_api: Any, mock_model: Any, llm: MockLLMServer, echo_tool: Echo
) -> None:
    weird = "a\x00b" + b"\xff\xfe".decode("utf-8", errors="replace") + "\ue000c"
    script(llm, {"tool_calls": [{"name": "echo", "arguments": {"text": weird}}]}, stream=True)
    chat = services.chat_create(owner=alice, content="echo something odd")
    worker.run_chat(chat.pk)
    body = alice_api.get(f"/api/chats/{chat.pk}/messages/").json()
    [result] = [m["parts"][0] for m in body["messages"] if m["role"] == "tool"]
    assert result["result"] == {"echo": weird}
    [sent] = [m for m in chat_requests(llm)[1]["body"]["messages"] if m["role"] == "tool"]
    assert json.loads(sent["content"]) == {"echo": weird}  # what the model got, byte for byte


def test_the_title_is_generated_once(alice: Any, mock_model: Any, llm: MockLLMServer) -> None:
    script(llm, {"text": "Fix the flaky login test."}, stream=False)
    chat = services.chat_create(owner=alice, content="please fix the flaky login test in CI")
    assert chat.title == "please fix the flaky login test…"
    worker.run_chat(chat.pk)
    chat = wait_for(lambda: Chat.objects.filter(pk=chat.pk, title="Fix the flaky login test").first(), what="title")
    services.message_send(chat=chat, user=alice, content="and another thing")
    worker.run_chat(chat.pk)
    title_calls = [r for r in recorded(llm) if not r["body"].get("stream")]
    assert len(title_calls) == 1


def test_a_title_call_that_meets_a_passing_provider_error_is_tried_again(
    alice: Any, mock_model: Any, llm: MockLLMServer
) -> None:
    script(llm, {"error": {"status": 503, "retry_after": "0"}}, {"text": "Fix the login test"}, stream=False)
    chat = services.chat_create(owner=alice, content="please fix the flaky login test in CI")
    worker.run_chat(chat.pk)
    wait_for(lambda: Chat.objects.filter(pk=chat.pk, title="Fix the login test").exists(), what="title")
    assert len([r for r in recorded(llm) if not r["body"].get("stream")]) == 2


def test_the_prompt_is_system_prompt_then_workspace_note_then_user_instructions(
    alice: Any, alice_api: Any, mock_model: Any, llm: MockLLMServer
) -> None:
    response = alice_api.put("/api/me/prompt/", {"custom_prompt": "Always answer in French."}, format="json")
    assert response.status_code == 200 and alice_api.get("/api/me/prompt/").json() == {
        "custom_prompt": "Always answer in French."
    }
    chat = services.chat_create(owner=alice, content="hello")
    worker.run_chat(chat.pk)
    sent = chat_requests(llm)[0]["body"]["messages"]
    assert [m["role"] for m in sent] == ["system", "system", "system", "user"]
    assert "coding agent" in sent[0]["content"] and "No workspace exists" in sent[1]["content"]
    assert sent[2]["content"] == "<user-instructions>\nAlways answer in French.\n</user-instructions>"
    assert alice_api.get(f"/api/chats/{chat.pk}/messages/").json()["messages"][0]["role"] == "user"  # hidden


def test_regenerating_a_title_asks_the_model_with_the_first_and_latest_turns(
    alice: Any, alice_api: Any, mock_model: Any, llm: MockLLMServer
) -> None:
    chat = services.chat_create(owner=alice, content="first question")
    worker.run_chat(chat.pk)
    wait_for(lambda: Chat.objects.get(pk=chat.pk).title != "first question", what="the automatic title")
    script(llm, {"text": "A better title!"}, stream=False)
    response = alice_api.post(f"/api/chats/{chat.pk}/title/regenerate/")
    assert response.status_code == 200 and response.json()["title"] == "A better title"
    asked = [r for r in recorded(llm) if not r["body"].get("stream")][-1]["body"]["messages"]
    assert "first question" in json.dumps(asked)


def test_a_provider_web_search_is_stored_with_its_sources_and_replayed_to_anthropic(
    alice: Any, mock_model: Any, llm: MockLLMServer
) -> None:
    provider = provider_save(provider=Provider(), api_key="mock-key", name="claude", kind="anthropic", base_url=llm.url)
    claude = model_config_save(
        config=ModelConfig(), provider=provider, model="claude-mock", options={"web_search_enabled": True}
    )
    chat = services.chat_create(owner=alice, content="mock: websearch django 5.2", model_config_id=claude.pk)
    worker.run_chat(chat.pk)
    [answer] = Message.objects.user_visible().filter(chat=chat, role=Role.ASSISTANT)
    call, result = answer.parts[0], answer.parts[1]
    assert (call["type"], call["tool_name"], call["args"], call["provider_executed"]) == (
        "tool_call", "web_search", {"query": "django 5.2"}, True)  # fmt: skip
    assert (result["type"], result["tool_call_id"], result["provider_executed"], result["is_error"]) == (
        "tool_result", call["tool_call_id"], True, False)  # fmt: skip
    assert [r["url"] for r in result["result"]] == ["https://example.com/first", "https://example.org/second"]
    sources = [(p["url"], p["title"]) for p in answer.parts if p["type"] == "source"]
    assert sources == [("https://example.com/first", "First result"), ("https://example.org/second", "Second result")]
    assert "Second result says so." in texts(chat, "assistant")[0]

    services.message_send(chat=chat, user=alice, content="and the next release?")
    worker.run_chat(chat.pk)
    replayed = chat_requests(llm)[1]["body"]["messages"][1]
    assert replayed["role"] == "assistant"
    use, searched = replayed["content"][0], replayed["content"][1]
    assert (use["type"], use["id"], use["name"], use["input"]) == (
        "server_tool_use", call["tool_call_id"], "web_search", {"query": "django 5.2"})  # fmt: skip
    assert (searched["type"], searched["tool_use_id"]) == ("web_search_tool_result", call["tool_call_id"])
    assert [r["encrypted_content"] for r in searched["content"]] == ["enc-0", "enc-1"]  # replayable as received
