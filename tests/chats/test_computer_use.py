"""Computer use end to end: a root chat spawns a computer-use sub-agent, whose (scripted,
Anthropic wire format) model drives a real Xvfb desktop through the computer tool; the parent's
wait records the desktop."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chats import services
from chats.enums import ChatMode
from chats.models import Chat, ChatFile, Message
from chats.tools.computer_use import SpawnComputerUseAgent
from chats.tools.registry import tools_for
from chats.tools.subagents import WaitAgent
from providers.mockllm import MockLLMServer
from providers.models import ModelConfig, Provider
from providers.services import model_config_save, provider_save
from tests.chats.conftest import wait_for
from tests.desktop import png_size, require_desktop_tools, running_workspace, start_xterm, window_center
from tests.llm import recorded, script
from workspaces.backends import backend_for
from workspaces.desktop.session import desktop_ensure
from workspaces.models import Workspace
from workspaces.tools.base import ToolContext, ToolResult

pytestmark = [pytest.mark.core, pytest.mark.django_db(transaction=True)]

ROOT_TASK = "root task: get the greeting typed into the terminal"
CHILD_TASK = "child task: type the greeting into the xterm"
CHAT_ID = "{{find 0 chat_id[^0-9a-f]+([0-9a-f-]{36})}}"


@pytest.fixture
def desktops(settings: Any, tmp_path: Path) -> None:
    settings.CHATD_DESKTOP_ENABLED = True
    settings.CHATD_WORKSPACE_ROOT = tmp_path / "workspaces"


@pytest.fixture
def computer_model(llm: MockLLMServer, desktops: None) -> ModelConfig:
    """An Anthropic model (served by mockllm) configured for computer use."""
    provider = provider_save(provider=Provider(), api_key="mock-key", name="claude", kind="anthropic", base_url=llm.url)
    return model_config_save(
        config=ModelConfig(), provider=provider, model="claude-mock", options={"computer_use": "computer_20250124"}
    )


@pytest.fixture
def workspace(alice: Any, desktops: None) -> Iterator[Workspace]:
    with running_workspace(alice.pk) as workspace:
        yield workspace


def test_spawning_is_offered_to_roots_only_with_desktops_and_a_computer_use_model(
    settings: Any, mock_model: ModelConfig, llm: MockLLMServer
) -> None:
    assert "spawn_computer_use_agent" not in tools_for(is_root=True)  # desktops are off by default
    settings.CHATD_DESKTOP_ENABLED = True
    assert "spawn_computer_use_agent" not in tools_for(is_root=True)  # no model for it yet
    provider = provider_save(provider=Provider(), api_key="k", name="claude", kind="anthropic", base_url=llm.url)
    options = {"computer_use": "computer_20250124"}
    model_config_save(config=ModelConfig(), provider=provider, model="claude-mock", options=options)
    assert "spawn_computer_use_agent" in tools_for(is_root=True)
    assert "spawn_computer_use_agent" not in tools_for(is_root=False)
    assert "computer" not in tools_for(is_root=True)


def test_spawning_needs_a_root_chat_with_a_workspace(
    alice: Any, mock_model: ModelConfig, computer_model: ModelConfig, workspace: Workspace
) -> None:
    def spawn(chat: Chat) -> ToolResult:
        ctx = ToolContext(chat.pk, alice.pk, chat.workspace_id, chat.parent_id is None)
        return SpawnComputerUseAgent().run({"prompt": "look at the screen"}, ctx)

    bare = services.chat_create(owner=alice, content="no workspace here")
    assert spawn(bare).result == {"error": "computer use needs a workspace: create one with create_workspace first"}
    root = services.chat_create(owner=alice, content="with a workspace", workspace_id=workspace.pk)
    spawned = spawn(root)
    child = Chat.objects.get(pk=spawned.result["chat_id"])
    assert (child.mode, child.model_config_id, child.workspace_id) == ("computer_use", computer_model.pk, workspace.pk)
    assert spawn(child).result == {"error": "delegated chats cannot create child subagents"}


def test_waiting_for_a_computer_use_child_records_its_desktop(
    alice: Any, mock_model: ModelConfig, computer_model: ModelConfig, workspace: Workspace
) -> None:
    require_desktop_tools()
    root = services.chat_create(owner=alice, content="with a workspace", workspace_id=workspace.pk)
    ctx = ToolContext(root.pk, alice.pk, workspace.pk, True)
    child_id = SpawnComputerUseAgent().run({"prompt": "look at the screen"}, ctx).result["chat_id"]
    Chat.objects.filter(pk=child_id).update(status="waiting")  # as if it had finished its turn

    outcome = WaitAgent().run({"chat_id": child_id}, ctx)
    assert not outcome.is_error, outcome.result
    video = ChatFile.objects.get(pk=outcome.result["recording_file_id"])
    thumbnail = ChatFile.objects.get(pk=outcome.result["thumbnail_file_id"])
    assert (video.media_type, str(video.chat_id), video.owner_id) == ("video/mp4", child_id, alice.pk)
    assert bytes(video.data)[4:8] == b"ftyp" and video.size == len(bytes(video.data))
    assert thumbnail.media_type == "image/png" and png_size(bytes(thumbnail.data))[0] == 320
    plain = services.chat_create(owner=alice, content="an ordinary sub-agent", parent=root)
    Chat.objects.filter(pk=plain.pk).update(status="waiting")
    assert "recording_file_id" not in WaitAgent().run({"chat_id": str(plain.pk)}, ctx).result


def test_a_computer_use_child_runs_on_the_desktop_and_its_wait_records_it(
    alice: Any, mock_model: ModelConfig, computer_model: ModelConfig, workspace: Workspace,
    llm: MockLLMServer, inline_runner: None,
) -> None:  # fmt: skip
    require_desktop_tools()
    with backend_for(workspace) as backend:
        desktop = desktop_ensure(workspace=workspace, backend=backend)
        start_xterm(backend, desktop, title="chatd-greeting", output="greeting.txt")
        x, y = window_center(backend, desktop, "chatd-greeting")
    computer = [{"action": "screenshot"}, {"action": "left_click", "coordinate": [x, y]},
                {"action": "type", "text": "hello from the agent\n"}, {"action": "screenshot"}]  # fmt: skip
    script(
        llm,
        *({"tool_calls": [{"name": "computer", "arguments": args}]} for args in computer),
        {"text": "I typed the greeting into the terminal."},
        match=CHILD_TASK,
        stream=True,
    )
    script(
        llm,
        {"tool_calls": [{"name": "spawn_computer_use_agent", "arguments": {"prompt": CHILD_TASK, "title": "Desk"}}]},
        {"tool_calls": [{"name": "wait_agent", "arguments": {"chat_id": CHAT_ID}}]},
        {"text": "The sub-agent typed the greeting."},
        match=ROOT_TASK,
        stream=True,
    )
    root = services.chat_create(owner=alice, content=ROOT_TASK, workspace_id=workspace.pk)
    wait_for(lambda: Chat.objects.filter(pk=root.pk, status="waiting").exists(), timeout=120, what="the root's turn")

    # The effect on the desktop: the xterm's shell received the typed line.
    assert (Path(workspace.directory) / "greeting.txt").read_text() == "hello from the agent"

    child = Chat.objects.get(parent=root)
    assert (child.mode, child.model_config_id, child.status) == (ChatMode.COMPUTER_USE, computer_model.pk, "waiting")
    results = [m.parts[0] for m in Message.objects.filter(chat=child, role="tool").order_by("id")]
    assert [r["is_media"] for r in results] == [True] * 4 and not any(r["is_error"] for r in results)
    shots = [ChatFile.objects.get(pk=r["result"]["file_id"]) for r in results]
    assert {(f.owner_id, f.chat_id, f.media_type) for f in shots} == {(alice.pk, child.pk, "image/png")}
    assert png_size(bytes(shots[0].data)) == (1024, 640)  # the 1280x800 screen, scaled as declared

    # The model got Anthropic's computer tool and saw every screenshot as an image.
    child_requests = [
        r for r in recorded(llm) if r["path"].endswith("/messages") and CHILD_TASK in json.dumps(r["body"])
    ]
    first, last = child_requests[0], child_requests[-1]
    assert first["headers"]["anthropic-beta"] == "computer-use-2025-01-24"
    tool = next(t for t in first["body"]["tools"] if t["name"] == "computer")
    assert {k: tool[k] for k in ("type", "display_width_px", "display_height_px")} == {
        "type": "computer_20250124", "display_width_px": 1024, "display_height_px": 640,
    }  # fmt: skip
    assert "Always start with a screenshot" in json.dumps(first["body"]["system"])
    images = [
        content["source"]
        for message in last["body"]["messages"]
        for block in message["content"] if isinstance(block, dict) and block.get("type") == "tool_result"
        for content in block["content"] if isinstance(content, dict) and content.get("type") == "image"
    ]  # fmt: skip
    assert len(images) == 3  # the latest three of four screenshots, as images rather than text
    assert png_size(base64.b64decode(images[-1]["data"])) == (1024, 640)

    # The parent's wait recorded the desktop: a video and a thumbnail, as the child's files.
    wait = Message.objects.filter(chat=root, role="tool").order_by("id").last()
    assert wait is not None
    outcome = wait.parts[0]["result"]
    assert outcome["report"] == "I typed the greeting into the terminal."
    video = ChatFile.objects.get(pk=outcome["recording_file_id"])
    thumbnail = ChatFile.objects.get(pk=outcome["thumbnail_file_id"])
    assert (video.media_type, video.chat_id) == ("video/mp4", child.pk) and bytes(video.data)[4:8] == b"ftyp"
    assert thumbnail.media_type == "image/png" and png_size(bytes(thumbnail.data))[0] == 320
