"""The chat page's live desktop: noVNC in Debian's Chromium, through `/ws/chats/{id}/desktop/`,
bridged to the workspace's real Xvfb + x11vnc; the canvas follows what happens on the screen."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from chats.models import Chat
from tests.e2e.browser import BROWSER_TESTS, PASSWORD, browser_page, log_in, open_page, shot
from tests.e2e.conftest import LiveApp
from workspaces.backends import backend_for
from workspaces.desktop.session import desktop_get
from workspaces.models import Workspace

pytest.importorskip("playwright.sync_api")
pytestmark = BROWSER_TESTS

# The red share of the canvas's pixels, sampled on a grid (noVNC paints into one <canvas>).
RED_SHARE = """() => {
  const canvas = document.querySelector('#desktop-screen canvas');
  if (!canvas || !canvas.width) return 0;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let red = 0, seen = 0;
  for (let i = 0; i < data.length; i += 4 * 97) {
    seen += 1;
    if (data[i] > 200 && data[i + 1] < 60 && data[i + 2] < 60) red += 1;
  }
  return red / seen;
}"""


def test_the_chat_page_shows_the_live_desktop(
    desktop_app: LiveApp, alice: Any, desktop_workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = desktop_workspace
    alice.set_password(PASSWORD)
    alice.save()
    chat = Chat.objects.create(owner=alice, title="GUI work", workspace=workspace)
    with browser_page(desktop_app.http, monkeypatch) as page:
        log_in(page, alice.username)
        open_page(page, f"/chats/{chat.pk}/")
        page.click("#show-desktop")
        page.locator("#desktop[data-connected]").wait_for(state="attached")
        page.locator("#desktop-screen canvas").wait_for()
        assert page.evaluate(RED_SHARE) < 0.05
        assert not page.locator("#desktop-control").is_checked()  # view-only until asked

        # Something appears on the real screen; the canvas in the browser shows it.
        workspace.refresh_from_db()
        with backend_for(workspace) as backend:
            desktop = desktop_get(workspace=workspace, backend=backend)
        assert desktop is not None
        env = {"DISPLAY": f":{desktop.display}", "PATH": "/usr/bin:/bin"}
        xterm = subprocess.Popen(["xterm", "-geometry", "200x60+0+0", "-bg", "red", "-fg", "red"], env=env)
        try:
            page.wait_for_function(f"({RED_SHARE})() > 0.2")
            shot(page, "9-live-desktop")
        finally:
            xterm.kill()
            xterm.wait()
