"""read_file, write_file and edit_files (API.md §10): confined to the workspace, bounded,
never crashing on binary or invalid UTF-8 content."""

from __future__ import annotations

from typing import Any

from workspaces.backends.base import WorkspaceBackend
from workspaces.backends.output import MODEL_OUTPUT_BYTES
from workspaces.models import Workspace
from workspaces.tools.base import ToolContext, ToolResult
from workspaces.tools.common import ToolFailure, WorkspaceTool, display_path

MAX_READ_BYTES = 8 * 1024 * 1024
DEFAULT_LINE_LIMIT = 2000
MAX_LINE_CHARS = 2000
BINARY_SNIFF_BYTES = 8192
MAX_EDIT_FILE_BYTES = 8 * 1024 * 1024


def _text_file(backend: WorkspaceBackend, raw_path: str) -> tuple[str, bytes]:
    """Resolve and read a regular file; raise ToolFailure with a sentence otherwise."""
    path = backend.resolve(raw_path)
    info = backend.stat(path)
    if info is None:
        raise ToolFailure(f"file not found: {raw_path}")
    if info.is_dir:
        raise ToolFailure(f"{raw_path} is a directory; list it with execute (ls)")
    return path, backend.read_bytes(path, 0, MAX_READ_BYTES)


class ReadFileTool(WorkspaceTool):
    name = "read_file"
    description = (
        "Read a text file in the workspace. Returns numbered lines; use offset (first line, 1-based) "
        "and limit (number of lines) to page through large files."
    )
    parameters = {
        "type": "object",
        "properties": {
            "path": {"type": "string", "description": "Relative to the workspace root."},
            "offset": {"type": "integer", "minimum": 1, "description": "First line to read (1-based)."},
            "limit": {"type": "integer", "minimum": 1, "description": f"Lines to read (default {DEFAULT_LINE_LIMIT})."},
        },
        "required": ["path"],
        "additionalProperties": False,
    }

    def act(
        self, args: dict[str, Any], ctx: ToolContext, workspace: Workspace, backend: WorkspaceBackend
    ) -> ToolResult:
        path, data = _text_file(backend, args["path"])
        if b"\x00" in data[:BINARY_SNIFF_BYTES]:
            return ToolResult.error(f"{args['path']} looks like a binary file; inspect it with execute (file, xxd)")
        lines = data.decode("utf-8", errors="replace").replace("\r\n", "\n").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        start = args.get("offset", 1)
        if start > max(len(lines), 1):
            return ToolResult.error(f"offset {start} is past the end of {args['path']} ({len(lines)} lines)")
        content, end, capped = _numbered(lines, start, args.get("limit", DEFAULT_LINE_LIMIT))
        result: dict[str, Any] = {
            "path": display_path(backend, path),
            "content": content,
            "start_line": start,
            "end_line": end,
            "total_lines": len(lines),
        }
        notes = []
        if capped:
            notes.append(f"output capped at 32 KiB; continue with offset={end + 1}")
        elif end < len(lines):
            notes.append(f"{len(lines) - end} more lines; continue with offset={end + 1}")
        if len(data) >= MAX_READ_BYTES:
            notes.append("only the first 8 MiB of the file were read")
        if notes:
            result.update(truncated=True, note="; ".join(notes))
        return ToolResult(result)


def _numbered(lines: list[str], start: int, limit: int) -> tuple[str, int, bool]:
    """`cat -n` style lines from `start`, stopping before 32 KiB. Returns (text, last line, capped)."""
    out: list[str] = []
    size, end = 0, start - 1
    for number in range(start, min(len(lines), start - 1 + limit) + 1):
        line = lines[number - 1]
        if len(line) > MAX_LINE_CHARS:
            line = line[:MAX_LINE_CHARS] + " … [line truncated]"
        entry = f"{number:6}\t{line}"
        size += len(entry.encode("utf-8", errors="replace")) + 1
        if size > MODEL_OUTPUT_BYTES and out:
            return "\n".join(out), end, True
        out.append(entry)
        end = number
    return "\n".join(out), end, False


class WriteFileTool(WorkspaceTool):
    name = "write_file"
    description = "Create or overwrite a file in the workspace with the given content (parent folders are created)."
    parameters = {
        "type": "object",
        "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
        "required": ["path", "content"],
        "additionalProperties": False,
    }

    def act(
        self, args: dict[str, Any], ctx: ToolContext, workspace: Workspace, backend: WorkspaceBackend
    ) -> ToolResult:
        path = backend.resolve(args["path"])
        info = backend.stat(path)
        if info is not None and info.is_dir:
            return ToolResult.error(f"{args['path']} is a directory")
        data = args["content"].encode("utf-8", errors="replace")
        backend.write_bytes(path, data)
        return ToolResult({"ok": True, "path": display_path(backend, path), "bytes_written": len(data)})


class EditFilesTool(WorkspaceTool):
    name = "edit_files"
    description = (
        "Apply search/replace edits to files. Each search must match exactly once in the file as it is "
        "after the previous edits. Nothing is written unless every edit of every file applies."
    )
    parameters = {
        "type": "object",
        "properties": {
            "files": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "path": {"type": "string"},
                        "edits": {
                            "type": "array",
                            "minItems": 1,
                            "items": {
                                "type": "object",
                                "properties": {"search": {"type": "string"}, "replace": {"type": "string"}},
                                "required": ["search", "replace"],
                                "additionalProperties": False,
                            },
                        },
                    },
                    "required": ["path", "edits"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["files"],
        "additionalProperties": False,
    }

    def act(
        self, args: dict[str, Any], ctx: ToolContext, workspace: Workspace, backend: WorkspaceBackend
    ) -> ToolResult:
        planned: list[tuple[str, bytes, int]] = []
        for spec in args["files"]:
            path, data = _text_file(backend, spec["path"])
            if len(data) >= MAX_EDIT_FILE_BYTES:
                return ToolResult.error(f"{spec['path']}: too large to edit (over 8 MiB)")
            # surrogateescape keeps invalid bytes exactly as they were.
            text = _apply_edits(spec["path"], data.decode("utf-8", errors="surrogateescape"), spec["edits"])
            planned.append((path, _encode(text), len(spec["edits"])))
        for path, data, _ in planned:
            backend.write_bytes(path, data)
        files = [{"path": display_path(backend, path), "edits": count} for path, _, count in planned]
        return ToolResult({"ok": True, "files": files})


def _encode(text: str) -> bytes:
    try:
        return text.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate from the model's replacement text
        return text.encode("utf-8", errors="replace")


def _apply_edits(name: str, text: str, edits: list[dict[str, str]]) -> str:
    for index, edit in enumerate(edits):
        search = edit["search"]
        if not search:
            raise ToolFailure(f"{name}: edit {index}: search text is empty")
        count = text.count(search)
        if count == 0:
            raise ToolFailure(f"{name}: edit {index}: search text not found; nothing was written")
        if count > 1:
            raise ToolFailure(
                f"{name}: edit {index}: search text matches {count} times; include more context. Nothing was written"
            )
        text = text.replace(search, edit["replace"], 1)
    return text
