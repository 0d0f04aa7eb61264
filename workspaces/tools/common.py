"""What every workspace tool shares: finding the chat's workspace and turning expected
failures (a missing workspace, a path outside it, an unreachable host) into error results."""

from __future__ import annotations

import posixpath
from typing import Any

from workspaces.backends import backend_for
from workspaces.backends.base import BackendError, WorkspaceBackend
from workspaces.models import Workspace, WorkspaceStatus
from workspaces.tools.base import Tool, ToolContext, ToolResult

NO_WORKSPACE = "no workspace is associated with this chat. Use the create_workspace tool to create one"
NOT_RUNNING = (
    "workspace has no running agent: the workspace is likely stopped. Use the start_workspace tool to start it"
)


class ToolFailure(Exception):
    """An expected failure whose message the model should read."""


def chat_workspace(ctx: ToolContext) -> Workspace | None:
    """The chat owner's workspace bound to this chat, deleted ones included."""
    if ctx.workspace_id is None:
        return None
    return Workspace.objects.select_related("template").filter(pk=ctx.workspace_id, owner_id=ctx.owner_id).first()


def usable_workspace(ctx: ToolContext) -> Workspace:
    workspace = chat_workspace(ctx)
    if workspace is None or workspace.status == WorkspaceStatus.DELETED:
        raise ToolFailure(NO_WORKSPACE)
    if workspace.status in (WorkspaceStatus.STOPPED, WorkspaceStatus.FAILED):
        raise ToolFailure(NOT_RUNNING)
    return workspace


class WorkspaceTool(Tool):
    """A tool that acts inside the chat's workspace: subclasses implement `act`."""

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        try:
            workspace = usable_workspace(ctx)
            with backend_for(workspace) as backend:
                return self.act(args, ctx, workspace, backend)
        except (ToolFailure, BackendError) as exc:
            return ToolResult.error(str(exc))
        except OSError as exc:
            return ToolResult.error(f"{self.name} failed: {exc.strerror or exc}")

    def act(
        self, args: dict[str, Any], ctx: ToolContext, workspace: Workspace, backend: WorkspaceBackend
    ) -> ToolResult:
        raise NotImplementedError


def display_path(backend: WorkspaceBackend, path: str) -> str:
    """Paths shown to the model are relative to the workspace root."""
    relative = posixpath.relpath(path, backend.root)
    return "." if relative == "." else relative
