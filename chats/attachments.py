"""What an upload is: its type sniffed from the bytes, and a name safe to show and send back
(API.md §5, reference §14). Pure functions: no database, no HTTP."""

from __future__ import annotations

import json
import mimetypes
import posixpath
import re
import unicodedata

from chats.errors import InvalidInput

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES_PER_CHAT = 50
MAX_NAME_BYTES = 255

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
TEXT_TYPES = frozenset({"text/plain", "text/markdown", "text/csv", "application/json"})
ALLOWED_TYPES = IMAGE_TYPES | TEXT_TYPES | {"application/pdf"}
# What browsers and tools also call the allowed types.
ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "text/x-markdown": "text/markdown",
    "text/x-csv": "text/csv",
    "application/csv": "text/csv",
    "text/json": "application/json",
}
# Saying nothing about the type: the name's extension, then the bytes, decide.
UNDECLARED = frozenset({"", "application/octet-stream", "binary/octet-stream"})
MARKUP_TYPES = frozenset({"image/svg+xml", "text/html", "application/xhtml+xml", "text/xml", "application/xml"})
# Text that is really a document format we refuse (SVG can carry script; HTML is not allowed).
MARKUP_STARTS = ("<?xml", "<svg", "<!doctype svg", "<!doctype html", "<html")
# Control characters (Unicode Cc) other than whitespace: their presence means binary data.
BINARY_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
EXTENSIONS = {".md": "text/markdown", ".markdown": "text/markdown"}
ALLOWED_SUMMARY = "PNG, JPEG, GIF or WebP images, plain text, Markdown, CSV, JSON or PDF"


def media_type_of(data: bytes, *, declared: str, name: str) -> str:
    """The type to store: what the bytes are, provided the client's word agrees with them.

    `declared` is the Content-Type the client gave the file part (parameters allowed). Raises
    InvalidInput (`unsupported_file_type` or `file_type_mismatch`).
    """
    claimed = _claimed_type(declared, name)
    sniffed = _sniff_binary(data)
    if sniffed is not None:
        if claimed not in (None, sniffed):
            raise _mismatch(claimed, sniffed)
        return sniffed
    text = _as_text(data)
    if text is None:
        raise InvalidInput(f"Unsupported file type; allowed: {ALLOWED_SUMMARY}.", code="unsupported_file_type")
    if _is_markup(text):
        raise _markup_refused()
    if claimed is None:
        return "application/json" if _is_json(text) else "text/plain"
    if claimed not in TEXT_TYPES or (claimed == "application/json" and not _is_json(text)):
        raise _mismatch(claimed, "text")
    return claimed


def _claimed_type(declared: str, name: str) -> str | None:
    """The allowed type the client claims (None when it claims none); refuses any other claim."""
    claimed = declared.split(";", 1)[0].strip().lower()
    claimed = ALIASES.get(claimed, claimed)
    if claimed in UNDECLARED:
        extension = posixpath.splitext(name.lower())[1]
        guessed = EXTENSIONS.get(extension) or mimetypes.guess_type(f"file{extension}", strict=False)[0] or ""
        guessed = ALIASES.get(guessed, guessed)
        if guessed in MARKUP_TYPES:
            raise _markup_refused()
        return guessed if guessed in ALLOWED_TYPES else None
    if claimed not in ALLOWED_TYPES:
        raise InvalidInput(
            f"Unsupported file type {claimed!r}; allowed: {ALLOWED_SUMMARY}.", code="unsupported_file_type"
        )
    return claimed


def _sniff_binary(data: bytes) -> str | None:
    """The allowed binary format the leading bytes announce (the WHATWG signatures)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def _as_text(data: bytes) -> str | None:
    """UTF-8 text with no control characters but whitespace; None for anything binary."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    return None if BINARY_CONTROLS.search(text) else text


def _is_markup(text: str) -> bool:
    """An SVG, XML or HTML document (a comment or doctype may come before the `<svg`)."""
    head = text[:1024].lstrip().lower()
    return head.startswith(MARKUP_STARTS) or (head.startswith("<") and "<svg" in head)


def _markup_refused() -> InvalidInput:
    return InvalidInput("SVG, XML and HTML files are not accepted.", code="unsupported_file_type")


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _mismatch(claimed: str, actual: str) -> InvalidInput:
    return InvalidInput(
        f"The file's content ({actual}) does not match its declared type {claimed}.", code="file_type_mismatch"
    )


def clean_name(raw: str) -> str:
    """The upload's base name without control or formatting characters (no header injection,
    no right-to-left spoofing), cut to 255 UTF-8 bytes at a character boundary."""
    base = raw.replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(c for c in base if unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp"))
    kept = " ".join(kept.split())
    cut = kept.encode("utf-8")[:MAX_NAME_BYTES].decode("utf-8", errors="ignore").strip()
    return cut if cut not in ("", ".", "..") else "file"
