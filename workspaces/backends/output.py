"""Bounded capture of command output: keep the head and the tail, count what was dropped.

A command may print gigabytes; memory and the model's context must not care.
"""

from __future__ import annotations

MODEL_OUTPUT_BYTES = 32 * 1024  # reference §10.1: output to the model capped at 32 KiB


class OutputCapture:
    def __init__(self, limit: int = MODEL_OUTPUT_BYTES) -> None:
        self.half = limit // 2
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        room = self.half - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            del self.tail[: max(0, len(self.tail) - self.half)]

    @property
    def truncated(self) -> bool:
        return self.total > len(self.head) + len(self.tail)

    def text(self) -> str:
        """UTF-8-safe text; a cut in the middle of a character or invalid bytes become U+FFFD."""
        head = self.head.decode("utf-8", errors="replace")
        if not self.truncated:
            return head + self.tail.decode("utf-8", errors="replace")
        dropped = self.total - len(self.head) - len(self.tail)
        tail = self.tail.decode("utf-8", errors="replace")
        return f"{head}\n\n... [{dropped} bytes of output omitted] ...\n\n{tail}"


def capped_text(data: bytes, limit: int = MODEL_OUTPUT_BYTES) -> tuple[str, bool]:
    capture = OutputCapture(limit)
    capture.feed(data)
    return capture.text(), capture.truncated
