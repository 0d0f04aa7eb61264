"""Workspace fixtures: a real sshd on 127.0.0.1 (throwaway keys) and a workspace on each backend."""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from workspaces import services
from workspaces.backends import ssh
from workspaces.models import Workspace, WorkspaceTemplate
from workspaces.tools.base import ToolContext, ToolResult, run_tool
from workspaces.tools.registry import workspace_tools

SSHD = "/usr/sbin/sshd"
BACKENDS = ["local", "ssh"]


@dataclass(frozen=True)
class Sshd:
    port: int
    key_path: str
    host_key: str  # the server's public key line


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


def _wait_for_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("sshd did not listen")


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    if not os.path.exists(SSHD):
        if os.environ.get("CI"):
            pytest.fail("openssh-server is missing (.ci/run installs it)")
        pytest.skip("openssh-server is not installed")
    home = tmp_path_factory.mktemp("sshd")
    _keygen(home / "host_key")
    _keygen(home / "client_key")
    (home / "authorized_keys").write_text((home / "client_key.pub").read_text())
    port = _free_port()
    config = home / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {home / 'host_key'}\nPidFile {home / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {home / 'authorized_keys'}\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nUsePAM no\nStrictModes no\n"
        "PermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\nLogLevel ERROR\n"
    )
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", exist_ok=True)  # privilege separation directory
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stderr=subprocess.PIPE)
    try:
        _wait_for_port(port, proc)
        host_key = " ".join((home / "host_key.pub").read_text().split()[:2])
        yield Sshd(port=port, key_path=str(home / "client_key"), host_key=host_key)
    finally:
        ssh.close_all()
        proc.terminate()
        proc.wait(timeout=10)


def backend_settings(kind: str, request: pytest.FixtureRequest, root: Path) -> dict[str, Any]:
    if kind == "local":
        return {}
    server: Sshd = request.getfixturevalue("sshd")
    return {
        "host": "127.0.0.1",
        "port": server.port,
        "username": getpass.getuser(),
        "key_path": server.key_path,
        "host_key": server.host_key,
        "root": str(root / "ssh-root"),
    }


@pytest.fixture(params=BACKENDS)
def backend_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def workspace_root(settings: Any, tmp_path: Path) -> Path:
    settings.CHATD_WORKSPACE_ROOT = tmp_path / "local-root"
    return tmp_path


@pytest.fixture
def make_template(backend_kind: str, request: pytest.FixtureRequest, workspace_root: Path, db: Any) -> Any:
    def make(**fields: Any) -> WorkspaceTemplate:
        fields.setdefault("name", f"{backend_kind}-{uuid.uuid4().hex[:6]}")
        return WorkspaceTemplate.objects.create(
            backend=backend_kind, settings=backend_settings(backend_kind, request, workspace_root), **fields
        )

    return make


@pytest.fixture
def template(make_template: Any) -> WorkspaceTemplate:
    return make_template(display_name="Plain", description="An empty directory.")


@pytest.fixture
def workspace(template: WorkspaceTemplate, alice: Any) -> Workspace:
    workspace = services.workspace_create(owner_id=alice.pk, template=template)
    services.workspace_run_startup(workspace=workspace)
    return workspace


@pytest.fixture
def ctx(workspace: Workspace, alice: Any) -> ToolContext:
    return ToolContext(chat_id=uuid.uuid4(), owner_id=alice.pk, workspace_id=workspace.id, is_root=True)


@pytest.fixture
def call() -> Any:
    tools = {tool.name: tool for tool in workspace_tools()}

    def call(name: str, args: Any, ctx: ToolContext) -> ToolResult:
        return run_tool(tools, name, args, ctx)

    return call


def root_of(workspace: Workspace) -> str:
    workspace.refresh_from_db()
    return workspace.directory
