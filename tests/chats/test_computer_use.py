"""Computer use: who may spawn a computer-use sub-agent, and the parent's wait recording the
sub-agent's desktop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chats import services
from chats.models import Chat, ChatFile
from chats.tools.computer_use import SpawnComputerUseAgent
from chats.tools.registry import tools_for
from chats.tools.subagents import WaitAgent
from providers.mockllm import MockLLMServer
from providers.models import ModelConfig, Provider
from providers.services import model_config_save, provider_save
from tests.desktop import png_size, require_desktop_tools
from workspaces import services as workspace_services
from workspaces.models import Workspace, WorkspaceTemplate
from workspaces.tools.base import ToolContext, ToolResult

pytestmark = [pytest.mark.core, pytest.mark.django_db(transaction=True)]

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
    template = WorkspaceTemplate.objects.create(name="desk", backend="local")
    workspace = workspace_services.workspace_create(owner_id=alice.pk, template=template)
    workspace_services.workspace_run_startup(workspace=workspace)
    yield workspace
    workspace_services.workspace_stop(workspace=workspace)  # stops the desktop too


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
