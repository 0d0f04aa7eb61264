"""Reads: whose workspaces, which templates, a chat's processes."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q, QuerySet

from config.api_errors import APIError
from workspaces.models import Process, Workspace, WorkspaceStatus, WorkspaceTemplate


def workspace_list(*, user: Any) -> QuerySet[Workspace]:
    return Workspace.objects.filter(owner=user).exclude(status=WorkspaceStatus.DELETED)


def workspace_get(*, user: Any, workspace_id: uuid.UUID | str) -> Workspace:
    """The user's own, non-deleted workspace; anything else is a 404 (API.md §2)."""
    workspace = workspace_list(user=user).filter(pk=workspace_id).first()
    if workspace is None:
        raise APIError("Workspace not found.", code="not_found", status_code=404)
    return workspace


def template_list(*, query: str = "", include_deprecated: bool = True) -> QuerySet[WorkspaceTemplate]:
    templates = WorkspaceTemplate.objects.all()
    if not include_deprecated:
        templates = templates.filter(deprecated=False)
    for word in query.split():
        templates = templates.filter(
            Q(name__icontains=word) | Q(display_name__icontains=word) | Q(description__icontains=word)
        )
    return templates


def process_list(*, chat_id: uuid.UUID) -> QuerySet[Process]:
    return Process.objects.filter(chat_id=chat_id).select_related("workspace")
