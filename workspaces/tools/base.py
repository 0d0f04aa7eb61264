"""What a tool the model can call looks like, and how a call is checked and run.

A failure is never an exception to the caller: bad arguments, an unknown tool or a tool that
raises all become error results the model can read and react to.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from providers.interface import ToolDefinition

MAX_RESULT_CHARS = 32 * 1024


@dataclass(frozen=True)
class ToolResult:
    result: Any  # JSON-serialisable
    is_error: bool = False
    # `result` is {"text", "file_id", "media_type"}: the file goes back to the model as media
    # (a screenshot as an image), not as text tokens.
    is_media: bool = False

    @classmethod
    def error(cls, message: str, **extra: Any) -> ToolResult:
        return cls({"error": message, **extra}, is_error=True)


@dataclass
class ToolContext:
    """What a tool may know about the call: whose chat, which workspace, whether to stop.

    `cancelled` is set when the run is interrupted or the worker shuts down; long-running
    tools poll it. `bind_workspace` lets provisioning tools attach a new workspace to the chat
    without importing chats.
    """

    chat_id: uuid.UUID
    owner_id: int
    workspace_id: uuid.UUID | None
    is_root: bool
    cancelled: threading.Event = field(default_factory=threading.Event)
    bind_workspace: Callable[[uuid.UUID], None] | None = None


class Tool:
    """Subclass with `name`, `description`, `parameters` (a JSON schema object) and `run`."""

    name: str = ""
    description: str = ""
    parameters: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}
    root_only: bool = False  # not offered to sub-agents

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        raise NotImplementedError

    def definition(self) -> ToolDefinition:
        return ToolDefinition(name=self.name, description=self.description, parameters=self.parameters)


def _schema_error(error: jsonschema.ValidationError) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "arguments"
    return f"invalid arguments: {where}: {error.message}"


def run_tool(tools: dict[str, Tool], name: str, args: Any, ctx: ToolContext) -> ToolResult:
    """Validate and run one call; every failure becomes an error result."""
    tool = tools.get(name)
    if tool is None:
        return ToolResult.error(f"Tool not found: {name}")
    if isinstance(args, str):
        try:
            args = json.loads(args) if args.strip() else {}
        except ValueError as exc:
            return ToolResult.error(f"invalid arguments: not valid JSON ({exc})")
    if not isinstance(args, dict):
        return ToolResult.error("invalid arguments: expected a JSON object")
    try:
        jsonschema.validate(args, tool.parameters)
    except jsonschema.ValidationError as exc:
        return ToolResult.error(_schema_error(exc))
    try:
        return tool.run(args, ctx)
    except Exception as exc:  # a broken tool must not take the turn down with it
        return ToolResult.error(f"tool panicked: {type(exc).__name__}: {exc}")
