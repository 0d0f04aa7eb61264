"""Small but real files of every allowed type, made here so no fixture files are needed."""

from __future__ import annotations

import struct
import zlib
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile


def png(width: int = 1, height: int = 1) -> bytes:
    """A valid RGB PNG of one colour."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = b"".join(b"\x00" + b"\x10\x80\xf0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


# A 1x1 grey JPEG (arithmetic coded), a 1x1 GIF and a 1x1 lossless WebP.
JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010101004800480000ffdb004300030202020202030202020303030304060404040404080606"
    "050609080a0a090809090a0c0f0c0a0b0e0b09090d110d0e0f101011100a0c12131210130f101010ffc9000b0800010001"
    "01011100ffcc000600101005ffda0008010100003f00d2cf20ffd9"
)
GIF = bytes.fromhex("4749463839610100010080000000000000ffffff21f90401000000002c00000000010001000002024401003b")
WEBP = bytes.fromhex("524946461a000000574542505650384c0d0000002f00000010071011118888fe0700")
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'

# (file name, declared Content-Type, bytes, the type stored)
ALLOWED = [
    ("pixel.png", "image/png", png(), "image/png"),
    ("photo.jpg", "image/jpeg", JPEG, "image/jpeg"),
    ("anim.gif", "image/gif", GIF, "image/gif"),
    ("pic.webp", "image/webp", WEBP, "image/webp"),
    ("paper.pdf", "application/pdf", PDF, "application/pdf"),
    ("notes.txt", "text/plain", "Plain notes, naïve café ☕\n".encode(), "text/plain"),
    ("README.md", "text/markdown", b"# Title\n\n* a list\n", "text/markdown"),
    ("table.csv", "text/csv", b"name,qty\napple,3\n", "text/csv"),
    ("data.json", "application/json", b'{"answer": 42}', "application/json"),
]


def upload(api: Any, name: str, content_type: str, data: bytes) -> Any:
    """POST /api/files/ as a browser would, with the declared type on the file part."""
    return api.post("/api/files/", {"file": SimpleUploadedFile(name, data, content_type=content_type)})
