"""`/ws/chats/{id}/desktop/` through a real server: the owner's socket starts the desktop and
speaks RFB with its VNC server both ways; everyone else is refused."""

from __future__ import annotations

from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from chats.models import Chat
from tests.conftest import make_user
from tests.e2e.conftest import LiveApp
from workspaces.models import Workspace

pytestmark = [pytest.mark.core, pytest.mark.django_db(transaction=True)]


def _token(user: Any) -> str:
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user=user)[0].key


def closed_with(app: LiveApp, chat: Chat, headers: dict[str, str]) -> int:
    url = f"{app.ws}/ws/chats/{chat.id}/desktop/"
    with connect(url, additional_headers=headers) as socket, pytest.raises(ConnectionClosed) as closed:
        socket.recv(timeout=30)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


def test_the_owner_speaks_rfb_with_the_desktop(desktop_app: LiveApp, alice: Any, desktop_workspace: Workspace) -> None:
    chat = Chat.objects.create(owner=alice, workspace=desktop_workspace)
    headers = {"Authorization": f"Token {_token(alice)}"}
    with connect(f"{desktop_app.ws}/ws/chats/{chat.id}/desktop/", additional_headers=headers) as socket:
        greeting = socket.recv(timeout=30)
        assert isinstance(greeting, bytes) and greeting.startswith(b"RFB 003.00")
        socket.send(b"RFB 003.008\n")  # the client's half of the handshake goes through too
        security = socket.recv(timeout=10)
        assert isinstance(security, bytes) and security[0] >= 1 and 1 in security[1 : 1 + security[0]]  # 1 = None
    desktop_workspace.refresh_from_db()
    assert desktop_workspace.desktop_vnc_port and (
        desktop_workspace.desktop_width,
        desktop_workspace.desktop_height,
    ) == (1280, 800)


def test_other_users_strangers_and_chats_without_a_desktop_are_refused(
    desktop_app: LiveApp, alice: Any, django_user_model: Any, desktop_workspace: Workspace
) -> None:
    chat = Chat.objects.create(owner=alice, workspace=desktop_workspace)
    bob = make_user(django_user_model, "bob")
    assert closed_with(desktop_app, chat, {"Authorization": f"Token {_token(bob)}"}) == 4404
    assert closed_with(desktop_app, chat, {}) == 4401
    no_workspace = Chat.objects.create(owner=alice)
    assert closed_with(desktop_app, no_workspace, {"Authorization": f"Token {_token(alice)}"}) == 4400
    desktop_workspace.refresh_from_db()
    assert desktop_workspace.desktop_pid is None  # refused sockets never started a desktop
