"""Start, find and stop a workspace's desktop: Xvfb + openbox (when installed) + x11vnc.

Everything goes through the workspace backend's primitives, so the same code runs the desktop
on this machine (local) or on the remote host (SSH). One launcher script leads one process
group, so killing the group takes the display, the window manager and the VNC server down
together. The row records what runs (display, geometry, VNC port, group id); any process
(a worker, the ASGI server) finds the desktop from it.
"""

from __future__ import annotations

import logging
import posixpath
import shlex
import threading
import time
import uuid
from dataclasses import dataclass

from django.conf import settings

from workspaces.backends.base import BackendError, WorkspaceBackend
from workspaces.desktop.geometry import Scaler, Size, declared_size, parse_geometry
from workspaces.models import Workspace

logger = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 20.0
STOP_GRACE_SECONDS = 3.0
POLL_SECONDS = 0.05
FIELDS = ["desktop_display", "desktop_width", "desktop_height", "desktop_vnc_port", "desktop_pid"]

# $1: this launch's directory, $2: WIDTHxHEIGHT. Writes "<display> <vnc port>" to $1/ready.
LAUNCHER = r"""
dir=$1
for tool in Xvfb x11vnc; do
  command -v "$tool" >/dev/null 2>&1 || { echo "$tool is not installed on the workspace host"; exit 127; }
done
alive() { [ -r "/proc/$1/stat" ] && ! sed 's/.*) //' "/proc/$1/stat" | grep -q '^Z'; }
Xvfb -displayfd 3 -screen 0 "$2x24" -nolisten tcp 3>"$dir/display" &
xvfb=$!
until grep -q . "$dir/display" 2>/dev/null; do alive $xvfb || { echo "Xvfb exited"; exit 1; }; sleep 0.05; done
display=$(cat "$dir/display")
if command -v openbox >/dev/null 2>&1; then DISPLAY=":$display" openbox >"$dir/openbox.log" 2>&1 & fi
x11vnc -display ":$display" -localhost -autoport 5900 -forever -shared -nopw -quiet >"$dir/x11vnc.log" 2>&1 &
vnc=$!
until grep -q '^PORT=' "$dir/x11vnc.log"; do alive $vnc || { cat "$dir/x11vnc.log"; exit 1; }; sleep 0.05; done
echo "$display $(sed -n 's/^PORT=//p' "$dir/x11vnc.log" | head -n 1)" >"$dir/ready.tmp"
mv "$dir/ready.tmp" "$dir/ready"
wait $xvfb
"""


@dataclass(frozen=True)
class Desktop:
    display: int
    size: Size  # the real screen
    vnc_port: int
    pid: int  # the launcher's process group

    @property
    def declared(self) -> Size:
        return declared_size(self.size)

    @property
    def scaler(self) -> Scaler:
        return Scaler(self.size, self.declared)

    @property
    def env(self) -> dict[str, str]:
        return {"DISPLAY": f":{self.display}"}


class DesktopError(BackendError):
    """The desktop cannot be started or used; the message is for the model."""


def configured_size(workspace: Workspace) -> Size:
    """The template's `desktop_geometry` setting, else the deployment's default."""
    default = settings.CHATD_DESKTOP_GEOMETRY
    return parse_geometry(str(workspace.backend_settings.get("desktop_geometry") or default))


def current_size(workspace: Workspace) -> Size:
    """What the model is told the screen is: the running desktop's size, else the configured one."""
    if workspace.desktop_width and workspace.desktop_height:
        return Size(workspace.desktop_width, workspace.desktop_height)
    return configured_size(workspace)


def recorded(workspace: Workspace) -> Desktop | None:
    """The desktop the row says runs (it may have died since: see `desktop_get`)."""
    w = workspace
    if None in (w.desktop_display, w.desktop_width, w.desktop_height, w.desktop_vnc_port, w.desktop_pid):
        return None
    size = Size(int(w.desktop_width or 0), int(w.desktop_height or 0))
    return Desktop(int(w.desktop_display or 0), size, int(w.desktop_vnc_port or 0), int(w.desktop_pid or 0))


def desktop_dir(backend: WorkspaceBackend) -> str:
    return posixpath.join(backend.state_dir(), "desktop")


def desktop_get(*, workspace: Workspace, backend: WorkspaceBackend) -> Desktop | None:
    """The workspace's desktop if it is still running."""
    workspace.refresh_from_db(fields=FIELDS)
    desktop = recorded(workspace)
    if desktop is None or not backend.pid_alive(desktop.pid):
        return None
    return desktop


_locks: dict[uuid.UUID, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock(workspace_id: uuid.UUID) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(workspace_id, threading.Lock())


def desktop_ensure(*, workspace: Workspace, backend: WorkspaceBackend) -> Desktop:
    """The workspace's running desktop, started first when there is none. Raises DesktopError.

    Two processes may start one at once: each launches in its own directory, the row keeps
    the first to record itself (compare-and-set on the old pid) and the other stops its own.
    """
    with _lock(workspace.pk):
        running = desktop_get(workspace=workspace, backend=backend)
        if running is not None:
            return running
        stale_pid = workspace.desktop_pid
        desktop = _launch(workspace, backend)
        won = Workspace.objects.filter(pk=workspace.pk, desktop_pid=stale_pid).update(
            desktop_display=desktop.display,
            desktop_width=desktop.size.width,
            desktop_height=desktop.size.height,
            desktop_vnc_port=desktop.vnc_port,
            desktop_pid=desktop.pid,
        )
        if won:
            workspace.refresh_from_db(fields=FIELDS)
            return desktop
        _kill(backend, desktop.pid)
        other = desktop_get(workspace=workspace, backend=backend)
        if other is None:
            raise DesktopError("the desktop was started and stopped elsewhere at the same time; try again")
        return other


def _launch(workspace: Workspace, backend: WorkspaceBackend) -> Desktop:
    size = configured_size(workspace)
    directory = posixpath.join(desktop_dir(backend), uuid.uuid4().hex[:12])
    command = f"sh -c {shlex.quote(LAUNCHER)} chatd-desktop {shlex.quote(directory)} {size}"
    log = posixpath.join(directory, "launcher.log")
    pid = backend.spawn(command, workdir=backend.root, output_path=log, exit_path=posixpath.join(directory, "exit"))
    ready = posixpath.join(directory, "ready")
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        info = backend.stat(ready)
        if info is not None and info.size:
            display, port = (int(word) for word in backend.read_bytes(ready).split())
            logger.info("workspace %s: desktop :%d (%s) with VNC on port %d", workspace.pk, display, size, port)
            return Desktop(display, size, port, pid)
        if not backend.pid_alive(pid):
            raise DesktopError(f"the desktop did not start: {_tail(backend, log)}")
        time.sleep(POLL_SECONDS)
    _kill(backend, pid)
    raise DesktopError(f"the desktop did not start within {READY_TIMEOUT_SECONDS:g} s: {_tail(backend, log)}")


def _tail(backend: WorkspaceBackend, path: str) -> str:
    try:
        return backend.read_bytes(path)[-2000:].decode(errors="replace").strip() or "no output"
    except OSError:
        return "no output"


def _kill(backend: WorkspaceBackend, pid: int) -> None:
    """TERM first (Xvfb removes its lock file), KILL what is left after a grace period."""
    backend.signal_group(pid, "terminate")
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while backend.pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
    backend.signal_group(pid, "kill")


def desktop_stop(*, workspace: Workspace, backend: WorkspaceBackend) -> None:
    """Stop the desktop (and whatever runs on it) and forget it."""
    with _lock(workspace.pk):
        workspace.refresh_from_db(fields=FIELDS)
        pid = workspace.desktop_pid
        if pid is None:
            return
        _kill(backend, pid)
        Workspace.objects.filter(pk=workspace.pk, desktop_pid=pid).update(**dict.fromkeys(FIELDS))
        workspace.refresh_from_db(fields=FIELDS)
