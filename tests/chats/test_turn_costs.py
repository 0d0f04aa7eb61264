"""A step costs a constant number of queries, whatever the history length; compaction."""

from __future__ import annotations

from typing import Any

import pytest

from chats import services, worker
from chats.agent.history import prompt_rows
from chats.enums import Role, Visibility
from chats.models import Chat, Message
from providers.mockllm import MockLLMServer
from tests.chats.conftest import Echo, Recorder
from tests.llm import recorded, script

pytestmark = [pytest.mark.core, pytest.mark.django_db(transaction=True)]

# acquire 4 (begin, lock with the model config, claim, commit), preferences 1, prompt 2, 6 per
# step (begin, ownership-checking touch, insert, ledger entry, reservation, commit), release 4
# (begin, lock with the owner's push subscriptions, status unless queued, commit): 23, plus 1 row
# check when a control ping (here: the one of chat_create) arrives while the run claims the chat.
# What matters is that it does not grow with the history.
QUERIES_PER_TWO_STEP_TURN = 24


def _chat_with_history(owner: Any, length: int) -> Chat:
    chat = services.chat_create(owner=owner, content="start")
    Message.objects.bulk_create(
        Message(chat=chat, role=Role.USER if i % 2 == 0 else Role.ASSISTANT, parts=[{"type": "text", "text": f"m{i}"}])
        for i in range(length)
    )
    return chat


@pytest.mark.parametrize("history", [2, 400])
def test_a_turn_costs_the_same_queries_for_any_history_length(
    alice: Any, mock_model: Any, llm: MockLLMServer, echo_tool: Echo, history: int, django_assert_max_num_queries: Any
) -> None:
    chat = _chat_with_history(alice, history)
    script(llm, {"tool_calls": [{"name": "echo", "arguments": {"text": "x"}}]}, stream=True)
    with django_assert_max_num_queries(QUERIES_PER_TWO_STEP_TURN):
        worker.run_chat(chat.pk)
    assert Message.objects.filter(chat=chat, role=Role.ASSISTANT).count() == history // 2 + 2


def test_compaction_at_the_threshold_summarises_and_the_next_prompt_starts_from_the_summary(
    alice: Any, mock_model: Any, llm: MockLLMServer, events: Recorder
) -> None:
    mock_model.context_limit, mock_model.compaction_threshold_percent = 1000, 50
    mock_model.save()
    script(llm, {"text": "long answer", "usage": {"input_tokens": 600, "output_tokens": 10}}, stream=True)
    script(llm, {"text": "SUMMARY: the user wants X; done A; next B."}, stream=False, match="Summarise")
    chat = services.chat_create(owner=alice, content="mock: text hello")
    Chat.objects.filter(pk=chat.pk).update(title="Renamed")  # no title call in the way
    worker.run_chat(chat.pk)

    compressed = list(Message.objects.filter(chat=chat, compressed=True).order_by("id"))
    assert [(m.role, m.visibility) for m in compressed] == [
        (Role.USER, Visibility.MODEL), (Role.ASSISTANT, Visibility.USER), (Role.TOOL, Visibility.BOTH)
    ]  # fmt: skip
    assert "SUMMARY: the user wants X" in compressed[0].parts[0]["text"]
    result = compressed[2].parts[0]["result"]
    assert (result["threshold_percent"], result["usage_percent"], result["context_tokens"]) == (50, 60.0, 600)
    # Compacted on the final step: the loop resumed once with the fresh context.
    resumed = [r for r in recorded(llm) if r["body"].get("stream")][-1]["body"]["messages"]
    assert [m["role"] for m in resumed[:2]] == ["system", "system"]
    assert "SUMMARY: the user wants X" in str(resumed[2]["content"])
    assert "hello" not in str(resumed)  # the original exchange is no longer sent
    rows = prompt_rows(chat.pk)
    assert rows[2].pk == compressed[0].pk
    tool_parts = [
        e["part"] for e in events.of(chat.pk, "message_part") if e["part"].get("tool_name") == "chat_summarized"
    ]
    assert [p["type"] for p in tool_parts] == ["tool_call", "tool_result"]


def test_an_empty_summary_reports_an_error_and_the_turn_goes_on(
    alice: Any, mock_model: Any, llm: MockLLMServer, events: Recorder
) -> None:
    mock_model.context_limit, mock_model.compaction_threshold_percent = 1000, 50
    mock_model.save()
    script(llm, {"text": "answer", "usage": {"input_tokens": 900, "output_tokens": 10}}, stream=True)
    script(llm, {"text": ""}, stream=False, match="Summarise")
    chat = services.chat_create(owner=alice, content="mock: text hello")
    Chat.objects.filter(pk=chat.pk).update(title="Renamed")
    worker.run_chat(chat.pk)
    chat.refresh_from_db()
    assert chat.status == "waiting" and not Message.objects.filter(chat=chat, compressed=True).exists()
    [failure] = [e["part"] for e in events.of(chat.pk, "message_part") if e["part"].get("type") == "tool_result"]
    assert failure["is_error"] and failure["tool_name"] == "chat_summarized"


def test_a_threshold_of_100_disables_compaction(alice: Any, mock_model: Any, llm: MockLLMServer) -> None:
    mock_model.context_limit, mock_model.compaction_threshold_percent = 1000, 100
    mock_model.save()
    script(llm, {"text": "answer", "usage": {"input_tokens": 999, "output_tokens": 10}}, stream=True)
    chat = services.chat_create(owner=alice, content="hello")
    worker.run_chat(chat.pk)
    assert not Message.objects.filter(chat=chat, compressed=True).exists()
