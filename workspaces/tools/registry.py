"""The workspace tools the agent loop offers (root-only ones say so via `root_only`)."""

from __future__ import annotations

from workspaces.tools.base import Tool
from workspaces.tools.files import EditFilesTool, ReadFileTool, WriteFileTool
from workspaces.tools.processes import ExecuteTool, ProcessListTool, ProcessOutputTool, ProcessSignalTool
from workspaces.tools.provisioning import (
    CreateWorkspaceTool,
    ListTemplatesTool,
    ReadTemplateTool,
    StartWorkspaceTool,
)


def workspace_tools() -> list[Tool]:
    return [
        ReadFileTool(),
        WriteFileTool(),
        EditFilesTool(),
        ExecuteTool(),
        ProcessOutputTool(),
        ProcessListTool(),
        ProcessSignalTool(),
        ListTemplatesTool(),
        ReadTemplateTool(),
        CreateWorkspaceTool(),
        StartWorkspaceTool(),
    ]
