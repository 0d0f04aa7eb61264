"""Sub-agents: spawn, wait, message and close delegated chats, on the inline runner + mockllm."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from chats import services
from chats.models import Chat, Message
from chats.tools.subagents import CloseAgent, MessageAgent, SpawnAgent, WaitAgent
from providers.mockllm import MockLLMServer
from tests.chats.conftest import Recorder, wait_for, wait_status
from tests.llm import recorded, script
from workspaces.tools.base import ToolContext, ToolResult

pytestmark = [pytest.mark.core, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def root(alice: Any, mock_model: Any) -> Chat:
    chat = services.chat_create(owner=alice, content="the parent's task")
    Chat.objects.filter(pk=chat.pk).update(status="running", worker_id="test")  # as if mid-turn
    return chat


def ctx_for(chat: Chat) -> ToolContext:
    return ToolContext(chat.pk, chat.owner_id, chat.workspace_id, chat.parent_id is None)


def spawn(root: Chat, prompt: str, **extra: Any) -> dict[str, Any]:
    result = SpawnAgent().run({"prompt": prompt, **extra}, ctx_for(root))
    assert not result.is_error, result.result
    return dict(result.result)


def test_two_children_run_at_once_and_their_reports_come_back(
    root: Chat, llm: MockLLMServer, inline_runner: None
) -> None:
    first = spawn(root, "mock: slow 20 30ms", title="Child A")
    second = spawn(root, "mock: slow 20 30ms")
    children = Chat.objects.filter(parent=root)
    assert {c.title for c in children} >= {"Child A"} and {c.root_id for c in children} == {root.pk}
    assert {c.model_config_id for c in children} == {root.model_config_id}
    wait_for(lambda: Chat.objects.filter(parent=root, status="running").count() == 2, what="both children running")

    reports = [WaitAgent().run({"chat_id": c["chat_id"]}, ctx_for(root)) for c in (first, second)]
    for report in reports:
        assert not report.is_error and report.result["status"] == "waiting"
        assert report.result["report"].startswith("chunk 0 chunk 1")


def test_a_child_in_error_returns_an_error_result(root: Chat, llm: MockLLMServer, inline_runner: None) -> None:
    child = spawn(root, "mock: error 401")
    result = WaitAgent().run({"chat_id": child["chat_id"]}, ctx_for(root))
    assert result.is_error and result.result["status"] == "error" and result.result["error"]


def test_waiting_times_out(root: Chat, llm: MockLLMServer, inline_runner: None) -> None:
    child = spawn(root, "mock: slow 200 50ms")
    result = WaitAgent().run({"chat_id": child["chat_id"], "timeout_seconds": 0.5}, ctx_for(root))
    assert result.is_error and "timed out" in result.result["error"]
    CloseAgent().run({"chat_id": child["chat_id"]}, ctx_for(root))


def test_an_interrupt_of_the_parent_ends_a_wait_at_once(root: Chat, llm: MockLLMServer, inline_runner: None) -> None:
    child = spawn(root, "mock: slow 200 50ms")
    ctx = ctx_for(root)
    threading.Timer(0.3, ctx.cancelled.set).start()
    result = WaitAgent().run({"chat_id": child["chat_id"], "timeout_seconds": 60}, ctx)
    assert result.is_error and "interrupted" in result.result["error"]
    CloseAgent().run({"chat_id": child["chat_id"]}, ctx_for(root))


def test_message_agent_with_interrupt_redirects_the_child(
    root: Chat, llm: MockLLMServer, inline_runner: None, events: Recorder
) -> None:
    child = spawn(root, "mock: slow 200 30ms")
    child_chat = Chat.objects.get(pk=child["chat_id"])
    wait_for(lambda: len(events.of(child_chat.pk, "message_part")) >= 3, what="the child to stream")
    sent = MessageAgent().run(
        {"chat_id": child["chat_id"], "message": "mock: text new plan", "interrupt": True}, ctx_for(root)
    )
    assert not sent.is_error and sent.result["interrupted"] is True
    report = WaitAgent().run({"chat_id": child["chat_id"]}, ctx_for(root))
    assert report.result["report"] == "new plan"
    roles = [m.role for m in Message.objects.user_visible().filter(chat=child_chat)]
    assert roles == ["user", "assistant", "user", "assistant"]  # the partial answer kept, then the new plan


def test_close_agent_stops_the_child(root: Chat, llm: MockLLMServer, inline_runner: None) -> None:
    child = spawn(root, "mock: slow 200 30ms")
    wait_status(Chat.objects.get(pk=child["chat_id"]), "running")
    closed = CloseAgent().run({"chat_id": child["chat_id"]}, ctx_for(root))
    assert closed.result == {**closed.result, "terminated": True, "status": "waiting"}
    wait_status(Chat.objects.get(pk=child["chat_id"]), "waiting")


def test_a_child_cannot_spawn_and_only_its_own_children_are_reachable(
    root: Chat, alice: Any, llm: MockLLMServer
) -> None:
    child = Chat.objects.get(pk=spawn(root, "hello")["chat_id"])
    assert SpawnAgent().run({"prompt": "grandchild"}, ctx_for(child)).result == {
        "error": "delegated chats cannot create child subagents"
    }
    stranger = services.chat_create(owner=alice, content="unrelated")
    for tool in (WaitAgent(), CloseAgent()):
        result: ToolResult = tool.run({"chat_id": str(stranger.pk)}, ctx_for(root))
        assert result.is_error and "not a sub-agent" in result.result["error"]
    assert WaitAgent().run({"chat_id": "nope"}, ctx_for(root)).result["error"].startswith("chat_id must be a UUID")


def test_interrupting_the_parent_stops_its_running_children(
    root: Chat, llm: MockLLMServer, inline_runner: None
) -> None:
    child = spawn(root, "mock: slow 200 30ms")
    wait_status(Chat.objects.get(pk=child["chat_id"]), "running")
    services.chat_interrupt(chat=root)
    wait_status(Chat.objects.get(pk=child["chat_id"]), "waiting")


def test_sub_agent_costs_roll_up_to_the_root(
    root: Chat, alice_api: Any, llm: MockLLMServer, inline_runner: None
) -> None:
    child = spawn(root, "mock: usage 1000 100")
    WaitAgent().run({"chat_id": child["chat_id"]}, ctx_for(root))
    cost = alice_api.get(f"/api/chats/{root.pk}/cost/").json()
    assert cost["total_cost_micros"] >= 1000 * 1 + 100 * 2  # the child's step, at $1/M in and $2/M out


def test_a_root_chat_spawns_two_children_waits_for_both_and_uses_both_reports(
    alice: Any, mock_model: Any, llm: MockLLMServer, inline_runner: None
) -> None:
    chat_id = "{{find %d chat_id[^0-9a-f]+([0-9a-f-]{36})}}"
    script(
        llm,
        {"tool_calls": [
            {"name": "spawn_agent", "arguments": {"prompt": "mock: slow 10 20ms", "title": "A"}},
            {"name": "spawn_agent", "arguments": {"prompt": "mock: text Report from B", "title": "B"}},
        ]},
        {"tool_calls": [
            {"name": "wait_agent", "arguments": {"chat_id": chat_id % 0}},
            {"name": "wait_agent", "arguments": {"chat_id": chat_id % 1}},
        ]},
        match="delegate the work",
        stream=True,
    )  # fmt: skip
    root = services.chat_create(owner=alice, content="delegate the work")
    wait_for(lambda: Chat.objects.filter(pk=root.pk, status="waiting").exists(), timeout=60, what="the root's turn")

    children = list(Chat.objects.filter(parent=root).order_by("title"))
    assert [(c.title, c.status) for c in children] == [("A", "waiting"), ("B", "waiting")]
    results = [m.parts[0] for m in Message.objects.filter(chat=root, role="tool").order_by("id")]
    assert [r["tool_name"] for r in results] == ["spawn_agent"] * 2 + ["wait_agent"] * 2
    reports = [r["result"]["report"] for r in results[2:]]
    assert reports[0].startswith("chunk 0") and reports[1] == "Report from B"
    final_request = [r for r in recorded(llm) if r["body"].get("stream") and "delegate the work" in str(r["body"])][-1]
    assert "Report from B" in json.dumps(final_request["body"]) and "chunk 9" in json.dumps(final_request["body"])
