"""`/ws/chats/{id}/desktop/`: a binary WebSocket bridged to the VNC server of the chat's
workspace desktop (reference §4.1, the desktop stream), for a VNC client such as noVNC.

Owner only, like every chat route; the desktop starts on demand. Bytes pass through
unchanged both ways (RFB is the client's business), with backpressure on each side.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.http import Http404

from chats import selectors
from chats.consumers import CLOSE_NOT_FOUND, CLOSE_UNAUTHENTICATED
from workspaces.backends import backend_for
from workspaces.backends.base import BackendError
from workspaces.desktop.session import desktop_ensure
from workspaces.models import Workspace, WorkspaceStatus

logger = logging.getLogger(__name__)

CLOSE_NO_DESKTOP = 4400  # desktops are off, or the chat has no running workspace
CLOSE_DESKTOP_FAILED = 4502  # the desktop could not be started or reached
CHUNK_BYTES = 64 * 1024


class NoDesktop(Exception):
    pass


def desktop_connect(*, user: Any, chat_id: str) -> socket.socket:
    """A connection to the VNC server of the user's chat's desktop, started if needed.

    Raises Http404 (not the user's chat), NoDesktop, or BackendError (it would not start).
    """
    chat = selectors.chat_get(user=user, chat_id=chat_id)
    if not settings.CHATD_DESKTOP_ENABLED or chat.workspace_id is None:
        raise NoDesktop
    workspace = Workspace.objects.filter(
        pk=chat.workspace_id, owner=user, status__in=[WorkspaceStatus.STARTING, WorkspaceStatus.RUNNING]
    ).first()
    if workspace is None:
        raise NoDesktop
    with backend_for(workspace) as backend:
        desktop = desktop_ensure(workspace=workspace, backend=backend)
        return backend.connect_tcp(desktop.vnc_port)


class DesktopConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        # noVNC may ask for the "binary" subprotocol; echo it when asked.
        await self.accept("binary" if "binary" in self.scope.get("subprotocols", []) else None)
        user = self.scope["user"]
        if not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        chat_id = self.scope["url_route"]["kwargs"]["chat_id"]
        # Starting a desktop takes seconds: not on the thread shared by every consumer's queries.
        connect = database_sync_to_async(desktop_connect, thread_sensitive=False)
        try:
            sock = await connect(user=user, chat_id=chat_id)
        except Http404:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        except NoDesktop:
            await self.close(code=CLOSE_NO_DESKTOP)
            return
        except (BackendError, OSError) as exc:
            logger.warning("chat %s: desktop unavailable: %s", chat_id, exc)
            await self.close(code=CLOSE_DESKTOP_FAILED)
            return
        self.reader, self.writer = await asyncio.open_connection(sock=sock)
        self.forward = asyncio.create_task(self._forward())

    async def _forward(self) -> None:
        """VNC server → browser, until the server hangs up."""
        with contextlib.suppress(OSError):
            while data := await self.reader.read(CHUNK_BYTES):
                await self.send(bytes_data=data)
        await self.close()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        writer = getattr(self, "writer", None)
        if bytes_data and writer is not None:
            writer.write(bytes_data)
            await writer.drain()

    async def disconnect(self, code: int) -> None:
        if forward := getattr(self, "forward", None):
            forward.cancel()
        if writer := getattr(self, "writer", None):
            writer.close()
