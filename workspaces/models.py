"""Workspace templates (admin-managed recipes), the workspaces made from them, and the
background processes the agent starts in them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from workspaces.parameters import check_definitions

DEFAULT_STARTUP_TIMEOUT_SECONDS = 600  # reference §10.4: startup scripts 10 min


class Backend(models.TextChoices):
    LOCAL = "local", "Local directory"
    SSH = "ssh", "SSH host"


class WorkspaceStatus(models.TextChoices):
    STARTING = "starting"
    RUNNING = "running"
    STOPPED = "stopped"
    FAILED = "failed"
    DELETED = "deleted"


class StartupStatus(models.TextChoices):
    NONE = "", "Not run"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMEOUT = "timeout"


class WorkspaceTemplate(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.SlugField(max_length=100, unique=True)
    display_name = models.CharField(max_length=200, blank=True, default="")
    description = models.TextField(blank=True, default="")
    backend = models.CharField(max_length=16, choices=Backend.choices, default=Backend.LOCAL)
    settings = models.JSONField(
        default=dict,
        blank=True,
        help_text='Backend settings. ssh: {"host", "port", "username", "key_path", "host_key", "root"}.',
    )
    parameters = models.JSONField(
        default=list,
        blank=True,
        help_text='List of {"name", "type": string|number|bool, "default", "required", "options", '
        '"validation_regex", "validation_min", "validation_max", "display_name", "description"}.',
    )
    startup_script = models.TextField(
        blank=True, default="", help_text="Runs with sh in the workspace; parameters arrive as CHATD_PARAM_<NAME>."
    )
    startup_timeout_seconds = models.PositiveIntegerField(default=DEFAULT_STARTUP_TIMEOUT_SECONDS)
    deprecated = models.BooleanField(default=False, help_text="Hidden from the agent's template list.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.display_name or self.name

    def clean(self) -> None:
        check_definitions(self.parameters)


class Workspace(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workspaces")
    template = models.ForeignKey(WorkspaceTemplate, on_delete=models.SET_NULL, null=True, blank=True)
    name = models.CharField(max_length=100)
    parameters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=WorkspaceStatus.choices, default=WorkspaceStatus.STARTING)
    # A snapshot of the template's backend at creation, so editing a template never moves a workspace.
    backend = models.CharField(max_length=16, choices=Backend.choices, default=Backend.LOCAL)
    backend_settings = models.JSONField(default=dict, blank=True)
    host = models.CharField(max_length=255, blank=True, default="")
    directory = models.CharField(max_length=1000, blank=True, default="")
    startup_status = models.CharField(max_length=16, choices=StartupStatus.choices, blank=True, default="")
    startup_output = models.TextField(blank=True, default="")
    # The virtual desktop, while one runs (workspaces/desktop): its X display, real geometry,
    # the VNC port on the workspace's host and the process group that holds it all.
    desktop_display = models.IntegerField(null=True, blank=True)
    desktop_width = models.PositiveIntegerField(null=True, blank=True)
    desktop_height = models.PositiveIntegerField(null=True, blank=True)
    desktop_vnc_port = models.PositiveIntegerField(null=True, blank=True)
    desktop_pid = models.IntegerField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "status"])]

    def __str__(self) -> str:
        return self.name


class Process(models.Model):
    """A background command. Rows are the registry, so any worker thread or process can read
    a chat's processes; the exit code comes from a file the wrapper shell writes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    chat_id = models.UUIDField(db_index=True)  # a plain id: workspaces never import chats
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="processes")
    command = models.TextField()
    workdir = models.CharField(max_length=1000, blank=True, default="")
    pid = models.IntegerField(null=True, blank=True)  # also the process group id
    output_path = models.CharField(max_length=1000)
    exit_path = models.CharField(max_length=1000)
    started_at = models.DateTimeField(auto_now_add=True)
    exited_at = models.DateTimeField(null=True, blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    signal = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        ordering = ["started_at"]

    def __str__(self) -> str:
        return self.command[:80]

    @property
    def running(self) -> bool:
        return self.exited_at is None
