"""Recordings of a computer-use sub-agent's desktop, made while its parent waits for it
(reference §10.5): the video and a thumbnail become the sub-agent's chat files.

Best effort: a recording that cannot start or stop never fails the wait, it only leaves the
ids out (and says why).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from chats.enums import ChatMode
from chats.models import Chat
from chats.services.files import tool_file_create
from workspaces.backends import backend_for
from workspaces.backends.base import BackendError
from workspaces.desktop.recording import recording_start, recording_stop
from workspaces.desktop.session import desktop_ensure
from workspaces.models import Workspace, WorkspaceStatus

logger = logging.getLogger(__name__)

MAX_CONCURRENT_STORES = 25  # reference §10.5: at most 25 recordings uploaded at once
_stores = threading.BoundedSemaphore(MAX_CONCURRENT_STORES)


def _workspace(child: Chat) -> Workspace | None:
    if child.mode != ChatMode.COMPUTER_USE or child.workspace_id is None:
        return None
    return Workspace.objects.exclude(status=WorkspaceStatus.DELETED).filter(pk=child.workspace_id).first()


def recording_begin(child: Chat) -> bool:
    """Record the child's desktop (starting it if needed) unless that already runs: a wait
    that timed out leaves its recording running for the next one. False when nothing records."""
    workspace = _workspace(child)
    if workspace is None:
        return False
    try:
        with backend_for(workspace) as backend:
            desktop = desktop_ensure(workspace=workspace, backend=backend)
            recording_start(backend=backend, desktop=desktop, recording_id=str(child.pk))
    except (BackendError, OSError) as exc:
        logger.warning("chat %s: no recording: %s", child.pk, exc)
        return False
    return True


def recording_finish(child: Chat) -> dict[str, Any]:
    """Stop the recording and store it; the ids (or the reason there are none) for the result."""
    workspace = _workspace(child)
    if workspace is None:
        return {}
    with _stores:
        try:
            with backend_for(workspace) as backend:
                recording = recording_stop(backend=backend, recording_id=str(child.pk))
        except (BackendError, OSError) as exc:
            logger.warning("chat %s: recording lost: %s", child.pk, exc)
            return {"recording_error": str(exc)}
        video = tool_file_create(chat=child, data=recording.video, name="recording.mp4", media_type="video/mp4")
        ids = {"recording_file_id": str(video.pk)}
        if recording.truncated:
            ids["recording_note"] = "the recording reached its size limit and was cut"
        if recording.thumbnail is not None:
            thumbnail = tool_file_create(
                chat=child, data=recording.thumbnail, name="recording-thumbnail.png", media_type="image/png"
            )
            ids["thumbnail_file_id"] = str(thumbnail.pk)
        return ids
