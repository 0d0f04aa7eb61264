"""list_templates, read_template, create_workspace, start_workspace (API.md §10; root chats
only). create_workspace is idempotent per chat and waits for the startup script."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from workspaces import selectors, services
from workspaces.backends.base import BackendError
from workspaces.models import StartupStatus, Workspace, WorkspaceStatus, WorkspaceTemplate
from workspaces.parameters import ParameterError
from workspaces.tools.base import Tool, ToolContext, ToolResult
from workspaces.tools.common import chat_workspace

STARTUP_RESULT_STATUS: dict[str, str] = {
    StartupStatus.SUCCEEDED: "running",
    StartupStatus.FAILED: "startup_scripts_failed",
    StartupStatus.TIMEOUT: "startup_scripts_timeout",
}
STARTUP_OUTPUT_CHARS = 4096

_chat_locks: dict[uuid.UUID, threading.Lock] = {}
_chat_locks_guard = threading.Lock()


def _chat_lock(chat_id: uuid.UUID) -> threading.Lock:
    """create_workspace and start_workspace of one chat never overlap (in this process)."""
    with _chat_locks_guard:
        return _chat_locks.setdefault(chat_id, threading.Lock())


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _template(template_id: str) -> WorkspaceTemplate | None:
    try:
        return selectors.template_list(include_deprecated=False).filter(pk=uuid.UUID(template_id)).first()
    except ValueError:
        return None


class ListTemplatesTool(Tool):
    name = "list_templates"
    description = "List the workspace templates you can create a workspace from; query filters by name."
    parameters = {
        "type": "object",
        "properties": {"query": {"type": "string"}},
        "additionalProperties": False,
    }
    root_only = True

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        templates = selectors.template_list(query=args.get("query", ""), include_deprecated=False)
        items = [
            {
                "id": str(t.id),
                "name": t.name,
                "display_name": t.display_name,
                "description": _shorten(t.description, 200),
            }
            for t in templates
        ]
        return ToolResult({"templates": items, "count": len(items)})


class ReadTemplateTool(Tool):
    name = "read_template"
    description = "A template's details and the parameters create_workspace accepts for it."
    parameters = {
        "type": "object",
        "properties": {"template_id": {"type": "string"}},
        "required": ["template_id"],
        "additionalProperties": False,
    }
    root_only = True

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        template = _template(args["template_id"])
        if template is None:
            return ToolResult.error(f"template not found: {args['template_id']}")
        parameters = []
        for definition in template.parameters:
            item = {"type": "string", "required": False, **definition}
            if "description" in item:
                item["description"] = _shorten(str(item["description"]), 300)
            parameters.append(item)
        body = {"id": str(template.id), "name": template.name, "display_name": template.display_name}
        body.update(description=_shorten(template.description, 300), backend=template.backend)
        return ToolResult({"template": body, "parameters": parameters})


def _startup_result(workspace: Workspace, outcome: services.StartupOutcome, **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        **extra,
        "workspace_id": str(workspace.id),
        "workspace_name": workspace.name,
        "status": STARTUP_RESULT_STATUS.get(outcome.status, "startup_scripts_failed"),
    }
    if outcome.status != StartupStatus.SUCCEEDED:
        result["startup_exit_code"] = outcome.exit_code
        result["startup_output"] = outcome.output[-STARTUP_OUTPUT_CHARS:]
    return result


class CreateWorkspaceTool(Tool):
    name = "create_workspace"
    description = (
        "Create a workspace from a template for this chat and wait for its startup script. "
        "If the chat already has a running workspace, that one is kept."
    )
    parameters = {
        "type": "object",
        "properties": {
            "template_id": {"type": "string"},
            "name": {"type": "string"},
            "parameters": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
        },
        "required": ["template_id"],
        "additionalProperties": False,
    }
    root_only = True

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        with _chat_lock(ctx.chat_id):
            existing = chat_workspace(ctx)
            if existing is not None and existing.status in (WorkspaceStatus.RUNNING, WorkspaceStatus.STARTING):
                return ToolResult(
                    {
                        "created": False,
                        "workspace_id": str(existing.id),
                        "workspace_name": existing.name,
                        "status": "already_exists",
                        "message": f"this chat already has the workspace {existing.name}; use it",
                    }
                )
            return self._create(args, ctx)

    def _create(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        template = _template(args["template_id"])
        if template is None:
            return ToolResult.error(f"template not found: {args['template_id']}; see list_templates")
        try:
            workspace = services.workspace_create(
                owner_id=ctx.owner_id, template=template, name=args.get("name"), parameters=args.get("parameters")
            )
        except ParameterError as exc:
            return ToolResult.error(f"invalid parameters: {exc}", problems=exc.problems)
        except BackendError as exc:
            return ToolResult.error(str(exc))
        if ctx.bind_workspace is not None:
            ctx.bind_workspace(workspace.id)
        ctx.workspace_id = workspace.id  # later calls in this turn use it
        outcome = services.workspace_run_startup(workspace=workspace, cancelled=ctx.cancelled)
        if ctx.cancelled.is_set():
            return ToolResult.error("cancelled while waiting for the startup script", workspace_id=str(workspace.id))
        return ToolResult(_startup_result(workspace, outcome, created=True))


class StartWorkspaceTool(Tool):
    name = "start_workspace"
    description = "Start this chat's workspace if it is stopped, and wait for its startup script."
    root_only = True

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        with _chat_lock(ctx.chat_id):
            workspace = chat_workspace(ctx)
            if workspace is None:
                return ToolResult.error("chat has no workspace; use create_workspace first")
            if workspace.status == WorkspaceStatus.DELETED:
                return ToolResult.error("workspace was deleted; use create_workspace to create a new one")
            if workspace.status == WorkspaceStatus.RUNNING:
                return ToolResult(
                    {
                        "started": True,
                        "workspace_name": workspace.name,
                        "status": "running",
                        "message": "already running",
                    }
                )
            try:
                outcome = services.workspace_start(workspace=workspace, cancelled=ctx.cancelled)
            except BackendError as exc:
                return ToolResult.error(str(exc))
            return ToolResult(_startup_result(workspace, outcome, started=True))
