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


def paced(frames: Iterator[bytes], delay: float) -> Iterator[Frame]:
    """Insert `delay` seconds before every frame after the first."""
    for index, frame in enumerate(frames):
        if index and delay:
            yield delay
        yield frame


def now() -> int:
    return int(time.time())
