"""Which tools a chat's model is offered: workspace tools for everyone, root-only ones for roots."""

from __future__ import annotations

from collections.abc import Callable

from workspaces.tools.base import Tool
from workspaces.tools.registry import workspace_tools

# Extra tool sources (tests register simple tools here); each returns fresh instances.
TOOL_SOURCES: list[Callable[[], list[Tool]]] = []


def tools_for(*, is_root: bool) -> dict[str, Tool]:
    """Tools by name; sub-agents never get root-only tools (provisioning, more sub-agents)."""
    from chats.tools.subagents import subagent_tools  # it needs the worker, which needs this module

    tools = [*workspace_tools(), *subagent_tools(), *(tool for source in TOOL_SOURCES for tool in source())]
    return {tool.name: tool for tool in tools if is_root or not tool.root_only}
