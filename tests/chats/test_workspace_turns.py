"""The agent provisions a workspace and works in it, through mockllm and the real tools."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chats import services, worker
from chats.models import Chat, Message
from chats.tools.registry import tools_for
from providers.mockllm import MockLLMServer
from tests.chats.conftest import Recorder, wait_for
from tests.llm import recorded, script
from workspaces.models import Process, WorkspaceTemplate

pytestmark = [pytest.mark.core, pytest.mark.django_db(transaction=True)]

ROOT_ONLY = {"list_templates", "read_template", "create_workspace", "start_workspace"}


@pytest.fixture
def workspace_root(settings: Any, tmp_path: Path) -> Path:
    settings.CHATD_WORKSPACE_ROOT = tmp_path / "workspaces"
    return settings.CHATD_WORKSPACE_ROOT


def test_create_workspace_waits_for_the_startup_script_then_execute_sees_its_file(
    alice: Any, alice_api: Any, mock_model: Any, llm: MockLLMServer, workspace_root: Path, events: Recorder
) -> None:
    template = WorkspaceTemplate.objects.create(
        name="python", startup_script="sleep 0.2; echo 'made by startup' > hello.txt; git init -q ."
    )
    script(
        llm,
        {"tool_calls": [{"name": "create_workspace", "arguments": {"template_id": str(template.id)}}]},
        {"tool_calls": [{"name": "execute", "arguments": {"command": "cat hello.txt"}}]},
        stream=True,
    )
    chat = services.chat_create(owner=alice, content="set up a workspace and read hello.txt")
    worker.run_chat(chat.pk)

    chat = Chat.objects.get(pk=chat.pk)
    assert chat.status == "waiting" and chat.workspace is not None
    results = [m.parts[0] for m in Message.objects.filter(chat=chat, role="tool").order_by("id")]
    assert [r["tool_name"] for r in results] == ["create_workspace", "execute"]
    assert results[0]["result"]["created"] is True and not results[0]["is_error"]
    assert results[1]["result"]["output"].strip() == "made by startup"
    third_call = [r for r in recorded(llm) if r["body"].get("stream")][2]["body"]
    assert "made by startup" in json.dumps(third_call["messages"])  # the model saw the tool result
    offered = {tool["function"]["name"] for tool in third_call["tools"]}
    assert offered >= ROOT_ONLY and "execute" in offered
    # The sidebar heard about the workspace's changes; the diff endpoint shows them.
    assert any(e["kind"] == "diff_status_change" for e in events.sidebar)
    diff = alice_api.get(f"/api/chats/{chat.pk}/diff/").json()
    assert [f["path"] for f in diff["changed_files"]] == ["hello.txt"]


def test_sub_agents_are_not_offered_root_only_tools() -> None:
    assert set(tools_for(is_root=True)) >= ROOT_ONLY
    assert not ROOT_ONLY & set(tools_for(is_root=False))
    assert {"read_file", "write_file", "edit_files", "execute"} <= set(tools_for(is_root=False))


def test_a_chat_without_a_workspace_has_an_empty_diff(alice: Any, alice_api: Any, mock_model: Any) -> None:
    chat = services.chat_create(owner=alice, content="hi")
    assert alice_api.get(f"/api/chats/{chat.pk}/diff/").json() == {"branch": "", "changed_files": [], "diff": ""}


def test_archiving_a_chat_kills_its_background_processes(
    alice: Any, alice_api: Any, mock_model: Any, llm: MockLLMServer, workspace_root: Path
) -> None:
    template = WorkspaceTemplate.objects.create(name="plain")
    script(
        llm,
        {"tool_calls": [{"name": "create_workspace", "arguments": {"template_id": str(template.id)}}]},
        {"tool_calls": [{"name": "execute", "arguments": {"command": "sleep 600", "run_in_background": True}}]},
        stream=True,
    )
    chat = services.chat_create(owner=alice, content="start a long background job")
    worker.run_chat(chat.pk)
    [process] = Process.objects.filter(chat_id=chat.pk)
    assert process.pid and _alive(process.pid)
    assert alice_api.delete(f"/api/chats/{chat.pk}/").status_code == 204
    wait_for(lambda: not _alive(process.pid), what="the process group to be killed")


def _alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie nobody reaped yet."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
