"""execute, process_output, process_list and process_signal (API.md §10).

Background processes are rows (`Process`) keyed by chat, so a later turn on another worker
thread or process finds them; their output lives in a file next to the workspace.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from workspaces import selectors, services
from workspaces.backends import backend_for
from workspaces.backends.base import WorkspaceBackend
from workspaces.backends.output import MODEL_OUTPUT_BYTES, OutputCapture
from workspaces.models import Process, Workspace
from workspaces.tools.base import ToolContext, ToolResult
from workspaces.tools.common import ToolFailure, WorkspaceTool

DEFAULT_TIMEOUT_SECONDS = 10
MAX_TIMEOUT_SECONDS = 3600
SIGNAL_WAIT_SECONDS = 2.0
TRAILING_AMPERSAND = re.compile(r"(?<![&|\\])&\s*$")  # `cmd &`, but not `&&`, `|&` or `\&`
READ_FILE_HINT = re.compile(r"^\s*(cat\s|(grep|rg)\b.*\s(-l\b|--files-with-matches|--include-all))")


def split_background(command: str) -> tuple[str, bool]:
    """`cmd &` → ("cmd", True): the model meant a background process (reference §10.1)."""
    match = TRAILING_AMPERSAND.search(command)
    if match is None or not command[: match.start()].strip():
        return command, False
    return command[: match.start()].rstrip(), True


def _seconds(value: float) -> str:
    return f"{value:g}s"


class ExecuteTool(WorkspaceTool):
    name = "execute"
    description = (
        "Run a shell command (sh -c) in the workspace. Foreground commands time out after timeout_seconds "
        f"(default {DEFAULT_TIMEOUT_SECONDS}); output is capped at 32 KiB. Use run_in_background (or end the "
        "command with &) for servers and long jobs, then process_output to read them."
    )
    parameters = {
        "type": "object",
        "properties": {
            "command": {"type": "string", "minLength": 1},
            "timeout_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_TIMEOUT_SECONDS},
            "workdir": {"type": "string", "description": "Relative to the workspace root (default: the root)."},
            "run_in_background": {"type": "boolean"},
        },
        "required": ["command"],
        "additionalProperties": False,
    }

    def act(
        self, args: dict[str, Any], ctx: ToolContext, workspace: Workspace, backend: WorkspaceBackend
    ) -> ToolResult:
        command, promoted = split_background(args["command"])
        workdir = backend.resolve(args.get("workdir") or ".")
        info = backend.stat(workdir)
        if info is None or not info.is_dir:
            return ToolResult.error(f"workdir {args.get('workdir')!r} is not a directory in the workspace")
        if promoted or args.get("run_in_background", False):
            process = services.process_start(
                workspace=workspace, backend=backend, chat_id=ctx.chat_id, command=command, workdir=workdir
            )
            return ToolResult({"success": True, "background_process_id": str(process.id)})
        timeout = float(args.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS))
        started = time.monotonic()
        run = backend.run(command, workdir=workdir, timeout=timeout, cancelled=ctx.cancelled)
        result: dict[str, Any] = {
            "success": run.exit_code == 0,
            "output": run.output,
            "exit_code": run.exit_code,
            "wall_duration_ms": int((time.monotonic() - started) * 1000),
        }
        if run.truncated:
            result["truncated"] = True
        if READ_FILE_HINT.match(command):
            result["note"] = "to read files, prefer the read_file tool: it numbers lines and pages through big files"
        if run.timed_out:
            return ToolResult.error(f"command timed out after {_seconds(timeout)}", **result)
        if run.cancelled:
            return ToolResult.error("command was cancelled", **result)
        return ToolResult(result)


def _chat_process(ctx: ToolContext, process_id: str) -> Process:
    try:
        key = uuid.UUID(process_id)
    except ValueError:
        raise ToolFailure(f"process not found: {process_id}") from None
    process = selectors.process_list(chat_id=ctx.chat_id).filter(pk=key).first()
    if process is None:
        raise ToolFailure(f"process not found: {process_id}")
    return process


def _backend(process: Process, workspace: Workspace, backend: WorkspaceBackend) -> WorkspaceBackend:
    """The process's own workspace may differ from the chat's current one."""
    return backend if process.workspace_id == workspace.pk else backend_for(process.workspace)


def _summary(process: Process) -> dict[str, Any]:
    return {
        "process_id": str(process.id),
        "command": process.command,
        "running": process.running,
        "exit_code": process.exit_code,
        "started_at": process.started_at.isoformat(),
    }


class ProcessOutputTool(WorkspaceTool):
    name = "process_output"
    description = "Output so far (capped at 32 KiB: the start and the end), running flag and exit code of a process."
    parameters = {
        "type": "object",
        "properties": {"process_id": {"type": "string"}},
        "required": ["process_id"],
        "additionalProperties": False,
    }

    def act(
        self, args: dict[str, Any], ctx: ToolContext, workspace: Workspace, backend: WorkspaceBackend
    ) -> ToolResult:
        process = _chat_process(ctx, args["process_id"])
        backend = _backend(process, workspace, backend)
        process = services.process_refresh(process=process, backend=backend)
        capture = _read_output(backend, process.output_path)
        result = {"success": True, **_summary(process), "output": capture.text()}
        if capture.truncated:
            result["truncated"] = True
        if process.running:
            result["note"] = "process is still running"
        return ToolResult(result)


def _read_output(backend: WorkspaceBackend, path: str) -> OutputCapture:
    """The first and last 16 KiB of an output file, without reading the middle."""
    capture = OutputCapture()
    info = backend.stat(path)
    if info is None:
        return capture
    half = MODEL_OUTPUT_BYTES // 2
    if info.size <= MODEL_OUTPUT_BYTES:
        capture.feed(backend.read_bytes(path))
        return capture
    capture.feed(backend.read_bytes(path, 0, half))
    capture.total = info.size - half  # count the middle we skip
    capture.feed(backend.read_bytes(path, info.size - half, half))
    return capture


class ProcessListTool(WorkspaceTool):
    name = "process_list"
    description = "The background processes this chat started: ids, commands, running or exited, exit codes."

    def act(
        self, args: dict[str, Any], ctx: ToolContext, workspace: Workspace, backend: WorkspaceBackend
    ) -> ToolResult:
        processes = [
            services.process_refresh(process=process, backend=_backend(process, workspace, backend))
            for process in selectors.process_list(chat_id=ctx.chat_id)
        ]
        return ToolResult({"processes": [_summary(p) for p in processes], "count": len(processes)})


class ProcessSignalTool(WorkspaceTool):
    name = "process_signal"
    description = "Send terminate (SIGTERM) or kill (SIGKILL) to a background process and its children."
    parameters = {
        "type": "object",
        "properties": {"process_id": {"type": "string"}, "signal": {"type": "string", "enum": ["terminate", "kill"]}},
        "required": ["process_id", "signal"],
        "additionalProperties": False,
    }

    def act(
        self, args: dict[str, Any], ctx: ToolContext, workspace: Workspace, backend: WorkspaceBackend
    ) -> ToolResult:
        process = _chat_process(ctx, args["process_id"])
        backend = _backend(process, workspace, backend)
        process = services.process_refresh(process=process, backend=backend)
        if not process.running:
            return ToolResult.error(f"process {process.id} has already exited (exit code {process.exit_code})")
        process = services.process_signal(process=process, backend=backend, signal_name=args["signal"])
        deadline = time.monotonic() + SIGNAL_WAIT_SECONDS
        while process.running and time.monotonic() < deadline:
            time.sleep(0.1)
            process = services.process_refresh(process=process, backend=backend)
        state = f"it exited (exit code {process.exit_code})" if not process.running else "it is still running"
        return ToolResult({"success": True, "message": f"sent {args['signal']} to process {process.id}; {state}"})
