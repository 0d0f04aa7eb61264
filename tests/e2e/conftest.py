"""A real `manage.py serve` process on the test database, for tests that cross sockets."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.db import connection

from config import celery_app

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_database_url() -> str:
    """The URL of the database pytest-django created, for child processes."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@dataclass
class LiveApp:
    process: subprocess.Popen[bytes]
    port: int
    env: dict[str, str]

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def stop(self) -> int:
        """SIGTERM, as a process manager would; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)

    def restart(self) -> None:
        """Stop and start again on the same port: every open socket drops, clients reconnect."""
        self.stop()
        self.process = _launch(self.port, self.env)
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited early with {self.process.returncode}")
            try:
                if httpx.get(f"{self.http}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("serve did not become healthy in 30 s")


def _launch(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "manage.py", "serve", "--port", str(port)], cwd=ROOT, env=env)


def start_app(extra_env: dict[str, str] | None = None) -> LiveApp:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "LOG_LEVEL": "WARNING",
        # asyncio's debug mode raises on any loop call from a foreign thread: a publish that
        # bypassed the server's loop would fail loudly instead of working by luck.
        "PYTHONASYNCIODEBUG": "1",
        **(extra_env or {}),
    }
    app = LiveApp(_launch(port, env), port, env)
    app._wait_healthy()
    return app


@pytest.fixture
def live_app(transactional_db: Any, tmp_path: Path) -> Iterator[LiveApp]:
    """The whole app: `serve` alone in embedded mode; `serve` plus a Celery worker in distributed."""
    from tests.e2e.workers import Cluster

    cluster = Cluster(tmp_path)
    if settings.DISTRIBUTED:
        celery_app.control.purge()
        cluster.wait_ready(cluster.worker())
    app = start_app()
    yield app
    app.stop()
    cluster.stop()


@pytest.fixture
def desktop_app(transactional_db: Any, settings: Any, tmp_path: Path) -> Iterator[LiveApp]:
    """`serve` with workspace desktops on (Xvfb + x11vnc on this host)."""
    from tests.desktop import require_desktop_tools

    require_desktop_tools()
    settings.CHATD_DESKTOP_ENABLED = True
    settings.CHATD_WORKSPACE_ROOT = tmp_path / "workspaces"
    app = start_app({"CHATD_DESKTOP_ENABLED": "true", "CHATD_WORKSPACE_ROOT": str(settings.CHATD_WORKSPACE_ROOT)})
    yield app
    app.stop()


@pytest.fixture
def desktop_workspace(alice: Any, desktop_app: LiveApp) -> Iterator[Any]:
    """A running local workspace of alice's; its desktop starts when something asks for it."""
    from tests.desktop import running_workspace

    with running_workspace(alice.pk) as workspace:
        yield workspace  # stopping it stops the desktop the server started
