"""Choose a workspace's backend from a plain registry."""

from __future__ import annotations

import os

from django.conf import settings

from workspaces.backends.base import WorkspaceBackend
from workspaces.backends.local import LocalBackend
from workspaces.backends.ssh import SSHBackend
from workspaces.models import Backend, Workspace


def backend_for(workspace: Workspace) -> WorkspaceBackend:
    if workspace.backend == Backend.SSH:
        return SSHBackend(
            settings=workspace.backend_settings, workspace_id=str(workspace.id), directory=workspace.directory
        )
    root = os.path.join(settings.CHATD_WORKSPACE_ROOT, str(workspace.id))
    state = os.path.join(settings.CHATD_WORKSPACE_ROOT, ".state", str(workspace.id))
    return LocalBackend(root=workspace.directory or root, state_dir=state)
