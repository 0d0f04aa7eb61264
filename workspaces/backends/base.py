"""One interface for every place a workspace can live (a local directory, an SSH host).

Tools and services talk only to `WorkspaceBackend`; each backend module implements the
primitives and this module turns them into the confined, bounded operations tools need.
Paths given to primitives are always absolute and already resolved by `resolve`.
"""

from __future__ import annotations

import posixpath
import shlex
import socket
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass

from workspaces.backends.output import MODEL_OUTPUT_BYTES

MAX_SYMLINKS = 40

# Reference §10.1: tools must never wait on an editor, a pager or a credential prompt.
COMMAND_ENV = {
    "CHATD_CHAT_AGENT": "true",
    "GIT_EDITOR": "true",
    "GIT_SEQUENCE_EDITOR": "true",
    "EDITOR": "true",
    "VISUAL": "true",
    "GIT_TERMINAL_PROMPT": "0",
    "NO_COLOR": "1",
    "TERM": "dumb",
    "PAGER": "cat",
    "GIT_PAGER": "cat",
}

# The background wrapper: the outer shell leads a new process group, runs the command with
# its output in a file and records the exit code, so any worker can learn how it ended.
BACKGROUND_WRAPPER = 'sh -c "$1" >"$2" 2>&1 </dev/null; echo $? >"$3"'


class BackendError(Exception):
    """The workspace cannot be reached or an operation on it failed; the message is for the model."""


class PathError(BackendError):
    pass


@dataclass(frozen=True)
class RunResult:
    output: str
    exit_code: int  # -1 when killed for a timeout or a cancellation
    truncated: bool
    timed_out: bool = False
    cancelled: bool = False


@dataclass(frozen=True)
class FileStat:
    size: int
    is_dir: bool
    mode: int


@dataclass(frozen=True)
class ProcessState:
    running: bool
    exit_code: int | None


class WorkspaceBackend(ABC):
    """A workspace's directory (`root`, absolute and resolved) on some host."""

    root: str

    # --- primitives ---------------------------------------------------------------------
    @abstractmethod
    def ensure_root(self) -> None: ...

    @abstractmethod
    def remove_root(self) -> None: ...

    @abstractmethod
    def readlink(self, path: str) -> str | None:
        """The link target if `path` is a symlink, else None (also when it does not exist)."""

    @abstractmethod
    def stat(self, path: str) -> FileStat | None: ...

    @abstractmethod
    def read_bytes(self, path: str, offset: int = 0, limit: int = -1) -> bytes: ...

    @abstractmethod
    def write_bytes(self, path: str, data: bytes) -> None:
        """Replace the file atomically (temporary file + rename), keeping its mode."""

    @abstractmethod
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
        """`sh -c command` in its own process group; the whole group dies on timeout or cancel."""

    @abstractmethod
    def spawn(self, command: str, *, workdir: str, output_path: str, exit_path: str) -> int:
        """Start `command` detached in a new session; return its pid, which is also its group id."""

    @abstractmethod
    def process_state(self, pid: int, exit_path: str) -> ProcessState: ...

    @abstractmethod
    def pid_alive(self, pid: int) -> bool:
        """Whether `pid` exists and is not a zombie (for processes that keep no exit file)."""

    @abstractmethod
    def signal_group(self, pid: int, signal_name: str) -> None:
        """Send TERM or KILL to the process group led by `pid`; a gone group is not an error."""

    @abstractmethod
    def home(self) -> str: ...

    @abstractmethod
    def os_name(self) -> str: ...

    @abstractmethod
    def state_dir(self) -> str:
        """Where background output files live: outside `root`, so tools cannot touch them."""

    @abstractmethod
    def connect_tcp(self, port: int) -> socket.socket:
        """A connected stream to `127.0.0.1:port` on the workspace's host (the desktop's VNC
        server); over SSH it is tunnelled. Raises BackendError when nothing answers."""

    @abstractmethod
    def close(self) -> None:
        """Release what the backend holds open (an SFTP session); the object stays usable."""

    def __enter__(self) -> WorkspaceBackend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- built on the primitives ------------------------------------------------------------
    def resolve(self, path: str) -> str:
        """The real absolute path of `path` (relative to the root or absolute), following
        symlinks like the kernel would; raise PathError when the result leaves the root."""
        if "\x00" in path:
            raise PathError("path contains a NUL byte")
        if not path.strip():
            raise PathError("path is empty")
        resolved = self._follow(path)
        if resolved != self.root and not resolved.startswith(self.root.rstrip("/") + "/"):
            raise PathError(f"path {path!r} is outside the workspace ({self.root})")
        return resolved

    def _follow(self, path: str) -> str:
        start = "/" if path.startswith("/") else self.root
        pending = [p for p in path.split("/") if p]
        resolved, links = start, 0
        while pending:
            name = pending.pop(0)
            if name == ".":
                continue
            if name == "..":
                resolved = posixpath.dirname(resolved) or "/"
                continue
            candidate = posixpath.join(resolved, name)
            target = self.readlink(candidate)
            if target is None:
                resolved = candidate
                continue
            links += 1
            if links > MAX_SYMLINKS:
                raise PathError(f"too many symbolic links in {path!r}")
            if target.startswith("/"):
                resolved = "/"
            pending = [p for p in target.split("/") if p] + pending
        return resolved

    def relative(self, path: str) -> str:
        return posixpath.relpath(path, self.root)


def shell_env(env: dict[str, str]) -> str:
    """`export` lines for a remote shell; values are quoted, never interpreted."""
    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in env.items())
