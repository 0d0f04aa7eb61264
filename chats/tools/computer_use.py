"""Computer use (reference §10.5): a root chat delegates desktop work to a computer-use
sub-agent, whose model drives the workspace's virtual desktop through Anthropic's computer tool.

Offered only when desktops are enabled (CHATD_DESKTOP_ENABLED) and an Anthropic model is
configured for computer use (its options name a `computer_use` tool version).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings

from chats import services
from chats.enums import ChatMode
from chats.models import Chat
from chats.services.files import tool_file_create
from chats.tools.subagents import _SpawnTool
from providers.interface import ToolDefinition
from providers.selectors import computer_use_model
from workspaces.backends.base import WorkspaceBackend
from workspaces.desktop.actions import ACTIONS, SCROLL_BUTTONS, desktop_act
from workspaces.desktop.geometry import Size, declared_size
from workspaces.desktop.session import current_size, desktop_ensure
from workspaces.models import Workspace
from workspaces.tools.base import Tool, ToolContext, ToolResult
from workspaces.tools.common import WorkspaceTool

POINT = {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 2, "maxItems": 2}


def desktops_enabled() -> bool:
    return bool(settings.CHATD_DESKTOP_ENABLED)


class ComputerTool(WorkspaceTool):
    """Anthropic's computer tool, run locally: every action ends with a screenshot, stored as a
    chat file and returned as a media result."""

    name = "computer"
    description = (
        "Use the mouse and keyboard on the desktop and take screenshots. Coordinates are pixels of "
        "the screenshots you receive. Every action returns a screenshot of the result."
    )
    parameters = {
        "type": "object",
        "properties": {
            "action": {"type": "string", "enum": list(ACTIONS)},
            "coordinate": POINT,
            "start_coordinate": POINT,
            "text": {"type": "string"},
            "duration": {"type": "number", "minimum": 0, "maximum": 60},
            "scroll_direction": {"type": "string", "enum": list(SCROLL_BUTTONS)},
            "scroll_amount": {"type": "integer", "minimum": 0, "maximum": 100},
            "region": {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 4, "maxItems": 4},
        },
        "required": ["action"],
    }

    def __init__(self, screen: Size) -> None:
        self.declared = declared_size(screen)

    def definition(self) -> ToolDefinition:
        native = {
            "type": "computer",
            "display_width_px": self.declared.width,
            "display_height_px": self.declared.height,
        }
        return ToolDefinition(self.name, self.description, self.parameters, native=native)

    def act(
        self, args: dict[str, Any], ctx: ToolContext, workspace: Workspace, backend: WorkspaceBackend
    ) -> ToolResult:
        desktop = desktop_ensure(workspace=workspace, backend=backend)
        outcome = desktop_act(backend=backend, desktop=desktop, args=args, cancelled=ctx.cancelled)
        chat = Chat.objects.get(pk=ctx.chat_id)
        shot = tool_file_create(chat=chat, data=outcome.screenshot, name="screenshot.png", media_type="image/png")
        return ToolResult({"text": outcome.text, "file_id": str(shot.pk), "media_type": "image/png"}, is_media=True)


class SpawnComputerUseAgent(_SpawnTool):
    name = "spawn_computer_use_agent"
    description = (
        "Delegate a task that needs a graphical desktop (using GUI applications, checking what a web page "
        "looks like) to a computer-use sub-agent working on this workspace's virtual desktop. Returns its "
        "chat_id; wait_agent returns its report and a recording of the desktop."
    )

    def spawn(self, parent: Chat, args: dict[str, Any], ctx: ToolContext) -> Chat | ToolResult:
        if ctx.workspace_id is None:
            return ToolResult.error("computer use needs a workspace: create one with create_workspace first")
        model = computer_use_model()
        if model is None:
            return ToolResult.error("no Anthropic model is configured for computer use")
        return services.chat_create(
            owner=parent.owner, content=args["prompt"], model_config_id=model.pk, workspace_id=ctx.workspace_id,
            parent=parent, title=args.get("title"), mode=ChatMode.COMPUTER_USE,
        )  # fmt: skip


def computer_use_tools(*, mode: str | None, workspace_id: uuid.UUID | None) -> list[Tool]:
    """The computer tool for computer-use chats; spawn_computer_use_agent (root-only) when offered."""
    if not desktops_enabled():
        return []
    if mode == ChatMode.COMPUTER_USE:
        workspace = Workspace.objects.filter(pk=workspace_id).first() if workspace_id else None
        return [ComputerTool(current_size(workspace))] if workspace else []
    return [SpawnComputerUseAgent()] if computer_use_model() is not None else []
