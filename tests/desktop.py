"""Helpers for tests on a real virtual desktop (Xvfb, x11vnc, xdotool, ImageMagick, ffmpeg)."""

from __future__ import annotations

import os
import shlex
import shutil
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from workspaces.backends.base import WorkspaceBackend
from workspaces.desktop.session import Desktop
from workspaces.models import Workspace, WorkspaceTemplate

TOOLS = ("Xvfb", "x11vnc", "xdotool", "xterm", "import", "ffmpeg")


def require_desktop_tools() -> None:
    """Skip (fail on CI, which installs them: see .ci/run) when a desktop binary is missing."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not missing:
        return
    message = (
        f"desktop tools missing: {', '.join(missing)} (apt-get install xvfb x11vnc xdotool xterm imagemagick ffmpeg)"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def start_xterm(backend: WorkspaceBackend, desktop: Desktop, *, title: str, output: str) -> int:
    """An xterm whose shell writes the first line typed into it to `output` (relative to the
    workspace root), then stays open. Returns its process group id."""
    script = f'IFS= read -r line; printf %s "$line" > {shlex.quote(output)}; exec sleep 600'
    command = (
        f"DISPLAY=:{desktop.display} exec xterm -geometry 60x10+80+80 -title {shlex.quote(title)} "
        f"-e sh -c {shlex.quote(script)}"
    )
    state = backend.state_dir()
    return backend.spawn(
        command, workdir=backend.root, output_path=f"{state}/{title}.log", exit_path=f"{state}/{title}.exit"
    )


def window_center(backend: WorkspaceBackend, desktop: Desktop, title: str) -> tuple[int, int]:
    """The centre of the window named `title`, in the declared (model) coordinates; waits for it
    to be mapped (a deadline, not a timing assertion)."""
    command = f"xdotool search --onlyvisible --name {shlex.quote(title)} getwindowgeometry --shell"
    deadline = time.monotonic() + 30
    while True:
        result = backend.run(command, workdir=backend.root, timeout=10, env=desktop.env)
        values = dict(line.split("=", 1) for line in result.output.splitlines() if "=" in line)
        if result.exit_code == 0 and {"X", "Y", "WIDTH", "HEIGHT"} <= values.keys():
            break
        assert time.monotonic() < deadline, f"no window {title!r}: {result.output}"
        time.sleep(0.1)
    x = int(values["X"]) + int(values["WIDTH"]) // 2
    y = int(values["Y"]) + int(values["HEIGHT"]) // 2
    return desktop.scaler.to_declared(x, y)


@contextmanager
def running_workspace(owner_id: int) -> Iterator[Workspace]:
    """A started local workspace; stopping it afterwards also stops any desktop started in it."""
    from workspaces import services

    template = WorkspaceTemplate.objects.create(name="desk", backend="local")
    workspace = services.workspace_create(owner_id=owner_id, template=template)
    services.workspace_run_startup(workspace=workspace)
    yield workspace
    services.workspace_stop(workspace=workspace)
