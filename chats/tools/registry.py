"""Which tools a chat's model is offered: workspace tools for everyone, root-only ones for roots."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from workspaces.tools.base import Tool
from workspaces.tools.registry import workspace_tools

# Extra tool sources (tests register simple tools here); each returns fresh instances.
TOOL_SOURCES: list[Callable[[], list[Tool]]] = []


def tools_for(*, is_root: bool, mode: str | None = None, workspace_id: uuid.UUID | None = None) -> dict[str, Tool]:
    """Tools by name; sub-agents never get root-only tools (provisioning, more sub-agents).
    Computer-use chats (`mode`) also get the computer tool for their workspace's desktop."""
    # These need the worker, which needs this module.
    from chats.tools.computer_use import computer_use_tools
    from chats.tools.subagents import subagent_tools

    tools = [
        *workspace_tools(),
        *subagent_tools(),
        *computer_use_tools(mode=mode, workspace_id=workspace_id),
        *(tool for source in TOOL_SOURCES for tool in source()),
    ]
    return {tool.name: tool for tool in tools if is_root or not tool.root_only}
