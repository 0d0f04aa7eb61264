"""Workspace desktops on a real Xvfb, on the local and the SSH backend: start on demand,
act with xdotool, screenshot, reach the VNC server, record, stop."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from environ import ImproperlyConfigured

from config.env import desktop_geometry
from tests.desktop import png_size, require_desktop_tools, start_xterm, window_center
from workspaces import services
from workspaces.backends import backend_for
from workspaces.backends.base import WorkspaceBackend
from workspaces.desktop.actions import desktop_act, screenshot
from workspaces.desktop.geometry import Scaler, Size, declared_size, parse_geometry
from workspaces.desktop.recording import recording_start, recording_stop
from workspaces.desktop.session import Desktop, DesktopError, desktop_ensure, desktop_get, desktop_stop
from workspaces.models import Workspace

pytestmark = [pytest.mark.core]


@pytest.fixture
def backend(workspace: Workspace) -> Iterator[WorkspaceBackend]:
    require_desktop_tools()
    with backend_for(workspace) as backend:
        yield backend
        desktop_stop(workspace=workspace, backend=backend)


@pytest.fixture
def desktop(workspace: Workspace, backend: WorkspaceBackend) -> Desktop:
    return desktop_ensure(workspace=workspace, backend=backend)


def act(backend: WorkspaceBackend, desktop: Desktop, **args: Any) -> bytes:
    return desktop_act(backend=backend, desktop=desktop, args=args, cancelled=threading.Event()).screenshot


def test_geometry_declares_at_most_xga_and_scales_points_both_ways() -> None:
    assert parse_geometry("1280x800") == Size(1280, 800)
    for bad in ("1280", "1281x800", "10x10", "axb"):
        with pytest.raises(ValueError):
            parse_geometry(bad)
    assert declared_size(Size(1280, 800)) == Size(1024, 640)
    assert declared_size(Size(800, 600)) == Size(800, 600)
    scaler = Scaler(Size(1280, 800), Size(1024, 640))
    assert scaler.to_real(512, 320) == (640, 400) and scaler.to_declared(640, 400) == (512, 320)
    assert scaler.to_real(1023, 639) == (1279, 799) and not scaler.contains(1024, 10)


def test_a_bad_geometry_setting_fails_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATD_DESKTOP_GEOMETRY", "huge")
    with pytest.raises(ImproperlyConfigured, match="CHATD_DESKTOP_GEOMETRY"):
        desktop_geometry("CHATD_DESKTOP_GEOMETRY", "1280x800")


@pytest.mark.django_db
def test_a_desktop_starts_once_and_records_its_geometry(
    workspace: Workspace, backend: WorkspaceBackend, desktop: Desktop
) -> None:
    workspace.refresh_from_db()
    assert (workspace.desktop_width, workspace.desktop_height) == (1280, 800)
    assert (workspace.desktop_display, workspace.desktop_vnc_port) == (desktop.display, desktop.vnc_port)
    assert desktop_ensure(workspace=workspace, backend=backend) == desktop  # already running: the same one
    assert png_size(screenshot(backend, desktop)) == (1024, 640)  # scaled to the declared size


@pytest.mark.django_db
def test_clicks_and_typing_reach_a_window(workspace: Workspace, backend: WorkspaceBackend, desktop: Desktop) -> None:
    start_xterm(backend, desktop, title="chatd-typing", output="typed.txt")
    x, y = window_center(backend, desktop, "chatd-typing")
    act(backend, desktop, action="left_click", coordinate=[x, y])
    act(backend, desktop, action="type", text="it's $HOME & *.py")  # shell characters stay text
    shot = act(backend, desktop, action="key", text="Return")
    assert png_size(shot) == (1024, 640)
    typed = f"{backend.root}/typed.txt"
    assert backend.read_bytes(typed) == b"it's $HOME & *.py"
    position = desktop_act(
        backend=backend, desktop=desktop, args={"action": "cursor_position"}, cancelled=threading.Event()
    )
    assert position.text == f"the cursor is at X={x}, Y={y}"


@pytest.mark.django_db
def test_points_off_the_screen_are_refused(backend: WorkspaceBackend, desktop: Desktop) -> None:
    with pytest.raises(DesktopError, match="outside the screen"):
        act(backend, desktop, action="left_click", coordinate=[1024, 10])
    zoomed = act(backend, desktop, action="zoom", region=[0, 0, 512, 320])
    assert png_size(zoomed) == (1024, 640)


@pytest.mark.django_db
def test_the_vnc_server_answers_through_the_backend(backend: WorkspaceBackend, desktop: Desktop) -> None:
    with backend.connect_tcp(desktop.vnc_port) as sock:
        sock.settimeout(10)
        assert sock.recv(12).startswith(b"RFB 003.00")


@pytest.mark.django_db
def test_a_recording_becomes_a_video_and_a_thumbnail(backend: WorkspaceBackend, desktop: Desktop) -> None:
    recording_start(backend=backend, desktop=desktop, recording_id="rec-1")
    recording_start(backend=backend, desktop=desktop, recording_id="rec-1")  # already running: no-op
    act(backend, desktop, action="mouse_move", coordinate=[100, 100])
    recording = recording_stop(backend=backend, recording_id="rec-1")
    assert recording.video[4:8] == b"ftyp" and not recording.truncated
    assert recording.thumbnail is not None and png_size(recording.thumbnail)[0] == 320
    with pytest.raises(DesktopError, match="no recording"):
        recording_stop(backend=backend, recording_id="rec-1")


@pytest.mark.django_db
def test_stopping_the_workspace_stops_its_desktop(workspace: Workspace, backend: WorkspaceBackend) -> None:
    # Started through another object (as a tool or the desktop socket would): stop reads the row.
    desktop = desktop_ensure(workspace=Workspace.objects.get(pk=workspace.pk), backend=backend)
    assert workspace.desktop_pid is None
    services.workspace_stop(workspace=workspace)
    assert not backend.pid_alive(desktop.pid)
    assert desktop_get(workspace=workspace, backend=backend) is None
    workspace.refresh_from_db()
    assert workspace.desktop_pid is None and workspace.desktop_vnc_port is None
