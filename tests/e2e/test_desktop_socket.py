"""`/ws/chats/{id}/desktop/` through a real server: the owner's socket starts the desktop and
speaks RFB with its VNC server both ways; everyone else is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from chats.models import Chat
from tests.conftest import make_user
from tests.desktop import require_desktop_tools
from tests.e2e.conftest import LiveApp, start_app
from workspaces import services as workspace_services
from workspaces.models import Workspace, WorkspaceTemplate

pytestmark = [pytest.mark.core, pytest.mark.django_db(transaction=True)]


def _token(user: Any) -> str:
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user=user)[0].key


@pytest.fixture
def desktop_app(transactional_db: Any, settings: Any, tmp_path: Path) -> Iterator[LiveApp]:
    require_desktop_tools()
    settings.CHATD_DESKTOP_ENABLED = True
    settings.CHATD_WORKSPACE_ROOT = tmp_path / "workspaces"
    app = start_app({"CHATD_DESKTOP_ENABLED": "true", "CHATD_WORKSPACE_ROOT": str(settings.CHATD_WORKSPACE_ROOT)})
    yield app
    app.stop()


@pytest.fixture
def workspace(alice: Any, desktop_app: LiveApp) -> Iterator[Workspace]:
    template = WorkspaceTemplate.objects.create(name="desk", backend="local")
    workspace = workspace_services.workspace_create(owner_id=alice.pk, template=template)
    workspace_services.workspace_run_startup(workspace=workspace)
    yield workspace
    workspace_services.workspace_stop(workspace=workspace)  # the server started its desktop


def closed_with(app: LiveApp, chat: Chat, headers: dict[str, str]) -> int:
    url = f"{app.ws}/ws/chats/{chat.id}/desktop/"
    with connect(url, additional_headers=headers) as socket, pytest.raises(ConnectionClosed) as closed:
        socket.recv(timeout=30)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


def test_the_owner_speaks_rfb_with_the_desktop(desktop_app: LiveApp, alice: Any, workspace: Workspace) -> None:
    chat = Chat.objects.create(owner=alice, workspace=workspace)
    headers = {"Authorization": f"Token {_token(alice)}"}
    with connect(f"{desktop_app.ws}/ws/chats/{chat.id}/desktop/", additional_headers=headers) as socket:
        greeting = socket.recv(timeout=30)
        assert isinstance(greeting, bytes) and greeting.startswith(b"RFB 003.00")
        socket.send(b"RFB 003.008\n")  # the client's half of the handshake goes through too
        security = socket.recv(timeout=10)
        assert isinstance(security, bytes) and security[0] >= 1 and 1 in security[1 : 1 + security[0]]  # 1 = None
    workspace.refresh_from_db()
    assert workspace.desktop_vnc_port and (workspace.desktop_width, workspace.desktop_height) == (1280, 800)


def test_other_users_strangers_and_chats_without_a_desktop_are_refused(
    desktop_app: LiveApp, alice: Any, django_user_model: Any, workspace: Workspace
) -> None:
    chat = Chat.objects.create(owner=alice, workspace=workspace)
    bob = make_user(django_user_model, "bob")
    assert closed_with(desktop_app, chat, {"Authorization": f"Token {_token(bob)}"}) == 4404
    assert closed_with(desktop_app, chat, {}) == 4401
    no_workspace = Chat.objects.create(owner=alice)
    assert closed_with(desktop_app, no_workspace, {"Authorization": f"Token {_token(alice)}"}) == 4400
    workspace.refresh_from_db()
    assert workspace.desktop_pid is None  # refused sockets never started a desktop
