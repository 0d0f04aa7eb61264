"""Videos of a desktop while a computer-use sub-agent works (ffmpeg x11grab), plus a thumbnail.

A recording is named by an id (the sub-agent's chat id): starting one that already runs is a
no-op, so a wait that timed out leaves it running for the next wait. Fragmented MP4 keeps the
file playable however ffmpeg ends; `-fs` caps its size.
"""

from __future__ import annotations

import base64
import posixpath
from dataclasses import dataclass

from workspaces.backends.base import WorkspaceBackend
from workspaces.desktop.session import Desktop, DesktopError

MAX_RECORDING_BYTES = 100 * 1024 * 1024  # reference §10.5
MAX_RECORDING_SECONDS = 2 * 3600
FRAMERATE = 5
THUMBNAIL_WIDTH = 320
STOP_TIMEOUT_SECONDS = 60.0

# The first command of a sub-shell that is not a group leader: setsid makes ffmpeg its own
# session without forking, so $! is ffmpeg itself and it outlives this short command.
START = r"""
alive() { [ -r "/proc/$1/stat" ] && ! sed 's/.*) //' "/proc/$1/stat" | grep -q '^Z'; }
if [ -s "$CHATD_PIDFILE" ] && alive "$(cat "$CHATD_PIDFILE")"; then echo "already recording"; exit 0; fi
command -v ffmpeg >/dev/null 2>&1 || { echo "ffmpeg is not installed on the workspace host"; exit 127; }
mkdir -p "$(dirname "$CHATD_VIDEO")" && rm -f "$CHATD_VIDEO" || exit 1
setsid ffmpeg -nostdin -loglevel error -y -f x11grab -framerate "$CHATD_FPS" -video_size "$CHATD_SIZE" \
  -i "$DISPLAY" -t "$CHATD_SECONDS" -c:v libx264 -preset ultrafast -crf 32 -pix_fmt yuv420p \
  -movflags +frag_keyframe+empty_moov -fs "$CHATD_MAX_BYTES" "$CHATD_VIDEO" </dev/null >"$CHATD_LOG" 2>&1 &
echo $! >"$CHATD_PIDFILE"
echo "recording"
"""

# Wait for ffmpeg to have written its header (so the video has frames), then TERM: ffmpeg
# finishes the file. KILL only if it does not end.
STOP = r"""
alive() { [ -r "/proc/$1/stat" ] && ! sed 's/.*) //' "/proc/$1/stat" | grep -q '^Z'; }
[ -s "$CHATD_PIDFILE" ] || { echo "no recording is running"; exit 3; }
pid=$(cat "$CHATD_PIDFILE")
i=0; while [ ! -s "$CHATD_VIDEO" ] && alive "$pid" && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
kill -TERM "$pid" 2>/dev/null
i=0; while alive "$pid" && [ $i -lt 300 ]; do sleep 0.05; i=$((i+1)); done
kill -KILL "$pid" 2>/dev/null
rm -f "$CHATD_PIDFILE"
[ -s "$CHATD_VIDEO" ] || { cat "$CHATD_LOG" 2>/dev/null; echo "the recording is empty"; exit 4; }
"""

THUMBNAIL = (
    'ffmpeg -nostdin -loglevel error -i "$CHATD_VIDEO" -frames:v 1 -vf "scale=$CHATD_WIDTH:-2" '
    "-f image2pipe -vcodec png - | base64"
)


@dataclass(frozen=True)
class Recording:
    video: bytes  # video/mp4
    thumbnail: bytes | None  # image/png
    truncated: bool


def _paths(backend: WorkspaceBackend, recording_id: str) -> dict[str, str]:
    base = posixpath.join(backend.state_dir(), "recordings", recording_id)
    return {"CHATD_VIDEO": base + ".mp4", "CHATD_PIDFILE": base + ".pid", "CHATD_LOG": base + ".log"}


def recording_start(*, backend: WorkspaceBackend, desktop: Desktop, recording_id: str) -> None:
    """Start recording the desktop unless this recording already runs. Raises DesktopError."""
    env = {
        **_paths(backend, recording_id),
        **desktop.env,
        "CHATD_FPS": str(FRAMERATE),
        "CHATD_SIZE": str(desktop.size),
        "CHATD_SECONDS": str(MAX_RECORDING_SECONDS),
        "CHATD_MAX_BYTES": str(MAX_RECORDING_BYTES),
    }
    result = backend.run(START, workdir=backend.root, timeout=30, env=env)
    if result.exit_code != 0:
        raise DesktopError(f"could not start the recording: {result.output.strip()[:300]}")


def recording_stop(*, backend: WorkspaceBackend, recording_id: str) -> Recording:
    """Stop the recording and return the video (at most 100 MiB) and a thumbnail of its first
    frame; the files are removed from the host. Raises DesktopError when there is no video."""
    paths = _paths(backend, recording_id)
    result = backend.run(STOP, workdir=backend.root, timeout=STOP_TIMEOUT_SECONDS, env=paths)
    try:
        if result.exit_code != 0:
            raise DesktopError(f"no recording: {result.output.strip()[:300]}")
        info = backend.stat(paths["CHATD_VIDEO"])
        size = info.size if info else 0
        video = backend.read_bytes(paths["CHATD_VIDEO"], 0, MAX_RECORDING_BYTES)
        return Recording(video, _thumbnail(backend, paths), truncated=size > MAX_RECORDING_BYTES)
    finally:
        backend.run('rm -f "$CHATD_VIDEO" "$CHATD_LOG" "$CHATD_PIDFILE"', workdir=backend.root, timeout=30, env=paths)


def _thumbnail(backend: WorkspaceBackend, paths: dict[str, str]) -> bytes | None:
    env = {**paths, "CHATD_WIDTH": str(THUMBNAIL_WIDTH)}
    result = backend.run(THUMBNAIL, workdir=backend.root, timeout=30, env=env, output_limit=16 * 1024 * 1024)
    try:
        data = base64.b64decode("".join(result.output.split()), validate=True)
    except ValueError:
        return None
    return data if data.startswith(b"\x89PNG") else None
