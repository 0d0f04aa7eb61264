"""Workspaces as directories on this machine, commands as local subprocesses."""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

from workspaces.backends.base import (
    BACKGROUND_WRAPPER,
    COMMAND_ENV,
    BackendError,
    FileStat,
    ProcessState,
    RunResult,
    WorkspaceBackend,
)
from workspaces.backends.output import MODEL_OUTPUT_BYTES, OutputCapture

POLL_SECONDS = 0.05
CONNECT_TIMEOUT = 10
# The server's own variables (database URL, API keys) must not reach the model's commands.
INHERITED_ENV = ("PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LC_ALL", "TZ", "TMPDIR")
SIGNALS = {"terminate": signal.SIGTERM, "kill": signal.SIGKILL}

# Background children of this process, so their exit is reaped (pid 1 may not reap zombies).
_children: dict[int, subprocess.Popen[bytes]] = {}
_children_lock = threading.Lock()


def command_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {name: os.environ[name] for name in INHERITED_ENV if name in os.environ}
    return {**env, **COMMAND_ENV, **(extra or {})}


class LocalBackend(WorkspaceBackend):
    def __init__(self, *, root: str, state_dir: str) -> None:
        self.root = os.path.realpath(root)
        self._state_dir = state_dir

    def ensure_root(self) -> None:
        os.makedirs(self.root, exist_ok=True)
        os.makedirs(self._state_dir, exist_ok=True)

    def remove_root(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self._state_dir, ignore_errors=True)

    def readlink(self, path: str) -> str | None:
        try:
            return os.readlink(path)
        except OSError:
            return None

    def stat(self, path: str) -> FileStat | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return FileStat(size=st.st_size, is_dir=os.path.isdir(path), mode=st.st_mode & 0o7777)

    def read_bytes(self, path: str, offset: int = 0, limit: int = -1) -> bytes:
        with open(path, "rb") as handle:
            handle.seek(offset)
            return handle.read(limit)

    def write_bytes(self, path: str, data: bytes) -> None:
        parent = os.path.dirname(path)
        os.makedirs(parent, exist_ok=True)
        old = self.stat(path)
        fd, temp = tempfile.mkstemp(dir=parent, prefix=".chatd-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(temp, old.mode if old else 0o644)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def run(
        self,
        command: str,
        *,
        workdir: str,
        timeout: float,
        cancelled: threading.Event | None = None,
        env: dict[str, str] | None = None,
        output_limit: int = MODEL_OUTPUT_BYTES,
    ) -> RunResult:
        proc = subprocess.Popen(
            ["sh", "-c", command],
            cwd=workdir,
            env=command_env(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        capture, lock = OutputCapture(output_limit), threading.Lock()
        assert proc.stdout is not None
        reader = threading.Thread(target=_drain, args=(proc.stdout, capture, lock), daemon=True)
        reader.start()
        timed_out, was_cancelled = _wait(proc, time.monotonic() + timeout, cancelled)
        # Children that outlive the shell may hold the pipe open: do not wait for them long.
        reader.join(timeout=1)
        with lock:
            text, truncated = capture.text(), capture.truncated
        exit_code = -1 if timed_out or was_cancelled else proc.returncode
        return RunResult(text, exit_code, truncated, timed_out=timed_out, cancelled=was_cancelled)

    def spawn(self, command: str, *, workdir: str, output_path: str, exit_path: str) -> int:
        os.makedirs(os.path.dirname(output_path), exist_ok=True)
        proc = subprocess.Popen(
            ["sh", "-c", BACKGROUND_WRAPPER, "chatd-background", command, output_path, exit_path],
            cwd=workdir,
            env=command_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        with _children_lock:
            _children[proc.pid] = proc
        return proc.pid

    def process_state(self, pid: int, exit_path: str) -> ProcessState:
        _reap(pid)
        try:
            recorded = Path(exit_path).read_text().strip()
        except OSError:
            recorded = ""
        if recorded:
            return ProcessState(running=False, exit_code=int(recorded))
        return ProcessState(running=_alive(pid), exit_code=None)

    def pid_alive(self, pid: int) -> bool:
        _reap(pid)
        return _alive(pid)

    def signal_group(self, pid: int, signal_name: str) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, SIGNALS[signal_name])
        _reap(pid)

    def connect_tcp(self, port: int) -> socket.socket:
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=CONNECT_TIMEOUT)
        except OSError as exc:
            raise BackendError(f"nothing answers on port {port}: {exc}") from exc
        sock.settimeout(None)
        return sock

    def close(self) -> None:
        """Nothing stays open between calls."""

    def home(self) -> str:
        return os.path.expanduser("~")

    def os_name(self) -> str:
        return f"{platform.system()} {platform.release()}".strip()

    def state_dir(self) -> str:
        return self._state_dir


def _drain(stream: IO[bytes], capture: OutputCapture, lock: threading.Lock) -> None:
    while chunk := stream.read1(65536):  # type: ignore[attr-defined]
        with lock:
            capture.feed(chunk)
    stream.close()


def _wait(proc: subprocess.Popen[bytes], deadline: float, cancelled: threading.Event | None) -> tuple[bool, bool]:
    """Wait for the shell; kill its whole group on timeout or cancel. Returns (timed_out, cancelled)."""
    while proc.poll() is None:
        if cancelled is not None and cancelled.is_set():
            _kill_group(proc)
            return False, True
        if time.monotonic() >= deadline:
            _kill_group(proc)
            return True, False
        time.sleep(POLL_SECONDS)
    return False, False


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _reap(pid: int) -> None:
    with _children_lock:
        child = _children.get(pid)
        if child is not None and child.poll() is not None:
            del _children[pid]


def _alive(pid: int) -> bool:
    """True if `pid` exists and is not a zombie (a zombie's group can no longer do anything)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
