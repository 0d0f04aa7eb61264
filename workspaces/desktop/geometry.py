"""Screen sizes: the desktop's real size and the smaller size the model is told about.

Screenshots are scaled down to the declared size (vision models work best around XGA) and the
model's coordinates are scaled back up, so the model never needs to know the real size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_DECLARED = (1024, 768)
_GEOMETRY = re.compile(r"^\s*(\d{2,5})\s*x\s*(\d{2,5})\s*$")


@dataclass(frozen=True)
class Size:
    width: int
    height: int

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"


def parse_geometry(text: str) -> Size:
    """`"1280x800"` → Size(1280, 800); raises ValueError for anything else (or odd sizes,
    which the video encoder refuses)."""
    match = _GEOMETRY.match(text or "")
    if match is None:
        raise ValueError(f"desktop geometry must look like 1280x800, got {text!r}")
    size = Size(int(match.group(1)), int(match.group(2)))
    if not (64 <= size.width <= 8192 and 64 <= size.height <= 8192) or size.width % 2 or size.height % 2:
        raise ValueError(f"desktop geometry {text!r}: each side must be even and between 64 and 8192")
    return size


def declared_size(real: Size) -> Size:
    """The largest size with the same aspect ratio that fits in 1024x768 (the real size if it fits)."""
    scale = min(1.0, MAX_DECLARED[0] / real.width, MAX_DECLARED[1] / real.height)
    return Size(max(1, round(real.width * scale)), max(1, round(real.height * scale)))


@dataclass(frozen=True)
class Scaler:
    """Maps points between the declared (model) and the real (screen) coordinate spaces."""

    real: Size
    declared: Size

    def to_real(self, x: int, y: int) -> tuple[int, int]:
        return (
            min(self.real.width - 1, round(x * self.real.width / self.declared.width)),
            min(self.real.height - 1, round(y * self.real.height / self.declared.height)),
        )

    def to_declared(self, x: int, y: int) -> tuple[int, int]:
        return (
            min(self.declared.width - 1, round(x * self.declared.width / self.real.width)),
            min(self.declared.height - 1, round(y * self.declared.height / self.real.height)),
        )

    def contains(self, x: int, y: int) -> bool:
        """Whether a declared-space point is on the screen."""
        return 0 <= x < self.declared.width and 0 <= y < self.declared.height
