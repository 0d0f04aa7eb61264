"""Workspace templates (admin-managed recipes) and the workspaces made from them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Backend(models.TextChoices):
    LOCAL = "local", "Local directory"
    SSH = "ssh", "SSH host"


class WorkspaceStatus(models.TextChoices):
    STARTING = "starting"
    RUNNING = "running"
    STOPPED = "stopped"
    FAILED = "failed"
    DELETED = "deleted"


class WorkspaceTemplate(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.SlugField(max_length=100, unique=True)
    display_name = models.CharField(max_length=200, blank=True, default="")
    description = models.TextField(blank=True, default="")
    backend = models.CharField(max_length=16, choices=Backend.choices, default=Backend.LOCAL)
    settings = models.JSONField(default=dict, blank=True, help_text="Backend settings (e.g. SSH host).")
    parameters = models.JSONField(default=list, blank=True, help_text="List of parameter definitions.")
    startup_script = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.display_name or self.name


class Workspace(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workspaces")
    template = models.ForeignKey(WorkspaceTemplate, on_delete=models.SET_NULL, null=True, blank=True)
    name = models.CharField(max_length=100)
    parameters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=WorkspaceStatus.choices, default=WorkspaceStatus.STARTING)
    directory = models.CharField(max_length=1000, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "status"])]

    def __str__(self) -> str:
        return self.name
