"""Writes: workspace lifecycle, background processes, and the instructions a workspace gives
the agent. Every status change goes through `_set` so the row and the object agree."""

from __future__ import annotations

import logging
import posixpath
import re
import secrets
import signal
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import close_old_connections, transaction
from django.utils import timezone

from workspaces.backends import backend_for
from workspaces.backends.base import BackendError, WorkspaceBackend
from workspaces.desktop.session import desktop_stop
from workspaces.models import Process, StartupStatus, Workspace, WorkspaceStatus, WorkspaceTemplate
from workspaces.parameters import as_environment, resolve_values

logger = logging.getLogger(__name__)

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
STARTUP_OUTPUT_CHARS = 8 * 1024
SIGNAL_EXIT = {"terminate": -signal.SIGTERM, "kill": -signal.SIGKILL}


@dataclass(frozen=True)
class StartupOutcome:
    status: str  # a StartupStatus value
    exit_code: int | None
    output: str


def _set(workspace: Workspace, **fields: Any) -> None:
    fields["updated_at"] = timezone.now()
    Workspace.objects.filter(pk=workspace.pk).update(**fields)
    for name, value in fields.items():
        setattr(workspace, name, value)


def workspace_name(*, template: WorkspaceTemplate, name: str | None) -> str:
    """The given name if usable, else `<template name ≤27 chars>-<4 hex>` (reference §10.2)."""
    if name and NAME_RE.match(name):
        return name
    return f"{template.name[:27]}-{secrets.token_hex(2)}"


def workspace_create(
    *, owner_id: int, template: WorkspaceTemplate, name: str | None = None, parameters: dict[str, Any] | None = None
) -> Workspace:
    """Create the row and the directory (status `starting`). Raises ParameterError for bad
    parameters and BackendError when the directory cannot be made (the row is then `failed`)."""
    values = resolve_values(template.parameters, parameters or {})
    workspace = Workspace.objects.create(
        owner_id=owner_id,
        template=template,
        name=workspace_name(template=template, name=name),
        parameters=values,
        backend=template.backend,
        backend_settings=template.settings,
        host=str(template.settings.get("host", "")),
    )
    _prepare(workspace)
    return workspace


def _prepare(workspace: Workspace) -> None:
    try:
        with backend_for(workspace) as backend:
            backend.ensure_root()
    except (BackendError, OSError) as exc:
        _set(workspace, status=WorkspaceStatus.FAILED, startup_output=str(exc))
        raise BackendError(f"could not prepare the workspace: {exc}") from exc
    _set(workspace, directory=backend.root)


def workspace_run_startup(
    *, workspace: Workspace, cancelled: threading.Event | None = None, timeout: float | None = None
) -> StartupOutcome:
    """Run the template's startup script and wait for it (the template's limit, 10 min by
    default). The workspace is `running` afterwards either way, so the agent can repair a
    failed script; `startup_status` records how it went."""
    template = workspace.template
    script = template.startup_script if template else ""
    if not script.strip():
        _set(workspace, status=WorkspaceStatus.RUNNING, startup_status=StartupStatus.SUCCEEDED, startup_output="")
        return StartupOutcome(StartupStatus.SUCCEEDED, 0, "")
    _set(workspace, status=WorkspaceStatus.STARTING, startup_status=StartupStatus.RUNNING)
    limit = timeout or (template.startup_timeout_seconds if template else 600)
    try:
        with backend_for(workspace) as backend:
            result = backend.run(
                script,
                workdir=backend.root,
                timeout=limit,
                cancelled=cancelled,
                env=as_environment(workspace.parameters),
            )
    except (BackendError, OSError) as exc:
        _set(workspace, status=WorkspaceStatus.FAILED, startup_status=StartupStatus.FAILED, startup_output=str(exc))
        return StartupOutcome(StartupStatus.FAILED, None, str(exc))
    status = StartupStatus.SUCCEEDED
    if result.timed_out:
        status = StartupStatus.TIMEOUT
    elif result.cancelled or result.exit_code != 0:
        status = StartupStatus.FAILED
    output = result.output[-STARTUP_OUTPUT_CHARS:]
    _set(workspace, status=WorkspaceStatus.RUNNING, startup_status=status, startup_output=output)
    return StartupOutcome(status, None if result.timed_out else result.exit_code, output)


def workspace_start(*, workspace: Workspace, cancelled: threading.Event | None = None) -> StartupOutcome:
    """Start a stopped (or failed) workspace: recreate its directory and rerun the startup script."""
    _set(workspace, status=WorkspaceStatus.STARTING)
    _prepare(workspace)
    return workspace_run_startup(workspace=workspace, cancelled=cancelled)


def workspace_start_in_background(*, workspace: Workspace, first_start: bool) -> None:
    """For the HTTP API: answer at once with `starting`, run the startup script on a thread
    once the transaction commits. Raises BackendError when a restart cannot prepare the directory."""
    action: Callable[..., Any] = workspace_run_startup if first_start else workspace_start
    if not (workspace.template and workspace.template.startup_script.strip()):
        action(workspace=workspace)  # nothing slow to wait for
        return
    _set(workspace, status=WorkspaceStatus.STARTING)
    transaction.on_commit(lambda: _background(action, workspace.pk))


def _background(action: Callable[..., Any], workspace_id: uuid.UUID) -> None:
    def target() -> None:
        try:
            action(workspace=Workspace.objects.select_related("template").get(pk=workspace_id))
        except Exception:
            logger.exception("workspace %s: start failed", workspace_id)
        finally:
            close_old_connections()

    threading.Thread(target=target, name=f"workspace-start-{workspace_id}", daemon=True).start()


def workspace_stop(*, workspace: Workspace) -> Workspace:
    """Kill every background process in the workspace; files stay."""
    for process in Process.objects.filter(workspace=workspace, exited_at__isnull=True):
        _kill(process)
    _stop_desktop(workspace)
    _set(workspace, status=WorkspaceStatus.STOPPED)
    return workspace


def _stop_desktop(workspace: Workspace) -> None:
    # The row, not this object: another process (a tool, the desktop socket) may have started it.
    workspace.refresh_from_db(fields=["desktop_pid"])
    if workspace.desktop_pid is None:
        return
    try:
        with backend_for(workspace) as backend:
            desktop_stop(workspace=workspace, backend=backend)
    except (BackendError, OSError) as exc:
        logger.warning("workspace %s: could not stop its desktop: %s", workspace.pk, exc)


def workspace_delete(*, workspace: Workspace) -> None:
    """Soft delete: processes killed, the directory removed, the row kept as `deleted`."""
    workspace_stop(workspace=workspace)
    try:
        with backend_for(workspace) as backend:
            backend.remove_root()
    except (BackendError, OSError) as exc:
        logger.warning("workspace %s: could not remove its directory: %s", workspace.pk, exc)
    _set(workspace, status=WorkspaceStatus.DELETED, deleted_at=timezone.now())


# --- background processes -----------------------------------------------------------------
def process_start(
    *, workspace: Workspace, backend: WorkspaceBackend, chat_id: uuid.UUID, command: str, workdir: str
) -> Process:
    process = Process(id=uuid.uuid4(), chat_id=chat_id, workspace=workspace, command=command, workdir=workdir)
    process.output_path = posixpath.join(backend.state_dir(), f"{process.id}.log")
    process.exit_path = posixpath.join(backend.state_dir(), f"{process.id}.exit")
    process.pid = backend.spawn(command, workdir=workdir, output_path=process.output_path, exit_path=process.exit_path)
    process.save()
    return process


def process_refresh(*, process: Process, backend: WorkspaceBackend) -> Process:
    """Record the exit of a process that has ended since we last looked."""
    if process.exited_at is not None or process.pid is None:
        return process
    state = backend.process_state(process.pid, process.exit_path)
    if not state.running:
        exit_code = state.exit_code
        if exit_code is None:
            exit_code = SIGNAL_EXIT.get(process.signal, -1)
        Process.objects.filter(pk=process.pk, exited_at__isnull=True).update(
            exited_at=timezone.now(), exit_code=exit_code
        )
        process.refresh_from_db()
    return process


def process_signal(*, process: Process, backend: WorkspaceBackend, signal_name: str) -> Process:
    if process.pid is not None:
        Process.objects.filter(pk=process.pk).update(signal=signal_name)
        process.signal = signal_name
        backend.signal_group(process.pid, signal_name)
    return process_refresh(process=process, backend=backend)


def _kill(process: Process) -> None:
    try:
        with backend_for(process.workspace) as backend:
            process_signal(process=process, backend=backend, signal_name="kill")
    except (BackendError, OSError) as exc:
        logger.warning("process %s: could not kill: %s", process.pk, exc)
    if process.exited_at is None:  # the group is gone or unreachable: it runs no more for us
        Process.objects.filter(pk=process.pk, exited_at__isnull=True).update(
            exited_at=timezone.now(), exit_code=SIGNAL_EXIT["kill"]
        )


def processes_kill_for_chat(chat_id: uuid.UUID) -> int:
    """Kill the whole process group of every running background process of the chat
    (called when a chat is archived). Returns how many were running."""
    running = list(Process.objects.filter(chat_id=chat_id, exited_at__isnull=True).select_related("workspace"))
    for process in running:
        _kill(process)
    return len(running)


# --- instructions for the agent -------------------------------------------------------------
INSTRUCTIONS_FILE_BYTES = 64 * 1024
INSTRUCTIONS_CACHE_SECONDS = 300
HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def workspace_instructions(workspace: Workspace) -> str:
    """The workspace's system instruction (reference §8.1 step 7): OS, working directory,
    `~/.chatd/AGENTS.md` and `<workspace>/AGENTS.md`. Cached for 5 minutes; "" when the
    workspace is deleted or unreachable."""
    if workspace.status == WorkspaceStatus.DELETED:
        return ""
    key = f"workspaces:instructions:{workspace.pk}"
    cached = cache.get(key)
    if cached is not None:
        return str(cached)
    try:
        with backend_for(workspace) as backend:
            text = _instructions(backend)
    except (BackendError, OSError) as exc:
        logger.info("workspace %s: no instructions: %s", workspace.pk, exc)
        return ""
    cache.set(key, text, INSTRUCTIONS_CACHE_SECONDS)
    return text


def _instructions(backend: WorkspaceBackend) -> str:
    parts = [f"Operating system: {backend.os_name()}", f"Working directory: {backend.root}"]
    for label, path in (
        ("home", posixpath.join(backend.home(), ".chatd", "AGENTS.md")),
        ("workspace", posixpath.join(backend.root, "AGENTS.md")),
    ):
        content = _instructions_file(backend, path)
        if content:
            parts.append(f"<agents-md source={label!r} path={path!r}>\n{content}\n</agents-md>")
    return "\n\n".join(parts)


def _instructions_file(backend: WorkspaceBackend, path: str) -> str:
    info = backend.stat(path)
    if info is None or info.is_dir:
        return ""
    data = backend.read_bytes(path, 0, INSTRUCTIONS_FILE_BYTES + 1)  # one more byte tells truncation
    text = data[:INSTRUCTIONS_FILE_BYTES].decode("utf-8", errors="replace").replace("\r\n", "\n")
    text = HTML_COMMENT.sub("", text).strip()
    if len(data) > INSTRUCTIONS_FILE_BYTES:
        text += "\n(truncated to 64KiB)"
    return text
