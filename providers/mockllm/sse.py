"""Frames the server writes: bytes to send, or a float number of seconds to wait."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

Frame = bytes | float


def sse(data: dict[str, Any], event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


# Legal SSE that real servers may send and every client must read (see `with_quirks`).
QUIRKS = frozenset({"crlf", "comments", "multiline_data"})


def with_quirks(frame: bytes, quirks: tuple[str, ...]) -> bytes:
    """The frame with `multiline_data` (its JSON split over two `data:` lines), `comments` (a `:`
    comment line before the event) and `crlf` (CRLF line ends)."""
    if "multiline_data" in quirks:
        # `, "` only occurs between JSON members: quotes inside strings are escaped.
        frame = frame.replace(b', "', b',\ndata: "', 1)
    if "comments" in quirks:
        frame = b": keep-alive\n" + frame
    if "crlf" in quirks:
        frame = frame.replace(b"\n", b"\r\n")
    return frame


def paced(frames: Iterator[bytes], delay: float) -> Iterator[Frame]:
    """Insert `delay` seconds before every frame after the first."""
    for index, frame in enumerate(frames):
        if index and delay:
            yield delay
        yield frame


def now() -> int:
    return int(time.time())
