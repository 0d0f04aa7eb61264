from __future__ import annotations

import json
import os
from typing import Any

import pytest

from tests.workspaces.conftest import root_of
from workspaces.models import Workspace
from workspaces.tools.base import ToolContext

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def test_write_then_read_numbers_lines(call: Any, ctx: ToolContext) -> None:
    assert call("write_file", {"path": "src/a.txt", "content": "one\ntwo\nthree\n"}, ctx).result["ok"]
    result = call("read_file", {"path": "src/a.txt"}, ctx)
    assert not result.is_error
    assert result.result["content"] == "     1\tone\n     2\ttwo\n     3\tthree"
    assert result.result["total_lines"] == 3


def test_read_file_pages_with_offset_and_limit(call: Any, ctx: ToolContext) -> None:
    call("write_file", {"path": "n.txt", "content": "".join(f"line {i}\n" for i in range(1, 101))}, ctx)
    result = call("read_file", {"path": "n.txt", "offset": 10, "limit": 3}, ctx).result
    assert result["content"].splitlines() == ["    10\tline 10", "    11\tline 11", "    12\tline 12"]
    assert result["truncated"] is True and "offset=13" in result["note"]


def test_read_file_caps_output_at_32_kib(call: Any, ctx: ToolContext) -> None:
    call("write_file", {"path": "big.txt", "content": ("x" * 1000 + "\n") * 200}, ctx)
    result = call("read_file", {"path": "big.txt"}, ctx).result
    assert len(result["content"].encode()) <= 32 * 1024
    assert result["truncated"] is True and f"offset={result['end_line'] + 1}" in result["note"]


def test_read_file_refuses_binary_and_survives_invalid_utf8(call: Any, ctx: ToolContext, workspace: Workspace) -> None:
    root = root_of(workspace)
    with open(os.path.join(root, "bin.dat"), "wb") as handle:
        handle.write(b"\x7fELF\x00\x01\x02")
    with open(os.path.join(root, "latin1.txt"), "wb") as handle:
        handle.write(b"caf\xe9\n")
    assert "binary" in call("read_file", {"path": "bin.dat"}, ctx).result["error"]
    text = call("read_file", {"path": "latin1.txt"}, ctx).result["content"]
    assert text == "     1\tcaf\ufffd"


def test_read_missing_file_and_directory_are_errors(call: Any, ctx: ToolContext) -> None:
    assert call("read_file", {"path": "nope.txt"}, ctx).result == {"error": "file not found: nope.txt"}
    call("write_file", {"path": "d/f", "content": ""}, ctx)
    assert "is a directory" in call("read_file", {"path": "d"}, ctx).result["error"]


def test_write_file_with_nul_keeps_bytes(call: Any, ctx: ToolContext, workspace: Workspace) -> None:
    call("write_file", {"path": "nul.txt", "content": "a\x00b"}, ctx)
    with open(os.path.join(root_of(workspace), "nul.txt"), "rb") as handle:
        assert handle.read() == b"a\x00b"


def test_edit_files_applies_all_edits(call: Any, ctx: ToolContext) -> None:
    call("write_file", {"path": "a.py", "content": "x = 1\ny = 2\n"}, ctx)
    call("write_file", {"path": "b.py", "content": "z = 3\n"}, ctx)
    result = call(
        "edit_files",
        {
            "files": [
                {"path": "a.py", "edits": [{"search": "x = 1", "replace": "x = 10"}, {"search": "y", "replace": "w"}]},
                {"path": "b.py", "edits": [{"search": "3", "replace": "30"}]},
            ]
        },
        ctx,
    )
    assert result.result == {"ok": True, "files": [{"path": "a.py", "edits": 2}, {"path": "b.py", "edits": 1}]}
    assert "x = 10\n     2\tw = 2" in call("read_file", {"path": "a.py"}, ctx).result["content"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a = 1\n", "b.py: edit 1: search text not found"),
        ("a = 1\nq\nq\n", "b.py: edit 1: search text matches 2 times"),
    ],
)
def test_edit_files_is_all_or_nothing(call: Any, ctx: ToolContext, content: str, message: str) -> None:
    call("write_file", {"path": "a.py", "content": "a = 1\n"}, ctx)
    call("write_file", {"path": "b.py", "content": content}, ctx)
    edits = {
        "files": [
            {"path": "a.py", "edits": [{"search": "a = 1", "replace": "a = 2"}]},
            {"path": "b.py", "edits": [{"search": "a = 1", "replace": "ok"}, {"search": "q", "replace": "r"}]},
        ]
    }
    if content == "a = 1\n":
        edits["files"][1]["edits"][1]["search"] = "missing"
    result = call("edit_files", edits, ctx)
    assert result.is_error and result.result["error"].startswith(message)
    assert call("read_file", {"path": "a.py"}, ctx).result["content"] == "     1\ta = 1"


def test_edit_files_keeps_invalid_utf8_bytes(call: Any, ctx: ToolContext, workspace: Workspace) -> None:
    path = os.path.join(root_of(workspace), "raw.txt")
    with open(path, "wb") as handle:
        handle.write(b"keep \xff\xfe here\nold\n")
    result = call("edit_files", {"files": [{"path": "raw.txt", "edits": [{"search": "old", "replace": "new"}]}]}, ctx)
    assert not result.is_error
    with open(path, "rb") as handle:
        assert handle.read() == b"keep \xff\xfe here\nnew\n"


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("read_file", {}),
        ("read_file", {"path": 3}),
        ("read_file", {"path": "a", "offset": 0}),
        ("write_file", {"path": "a"}),
        ("edit_files", {"files": [{"path": "a", "edits": [{"search": "x"}]}]}),
        ("edit_files", "{not json"),
        ("write_file", ["a", "b"]),
    ],
)
def test_malformed_arguments_are_error_results(call: Any, ctx: ToolContext, name: str, args: Any) -> None:
    result = call(name, args, ctx)
    assert result.is_error and result.result["error"].startswith("invalid arguments")
    json.dumps(result.result)


def test_without_a_workspace_tools_say_how_to_get_one(call: Any, alice: Any) -> None:
    import uuid

    ctx = ToolContext(chat_id=uuid.uuid4(), owner_id=alice.pk, workspace_id=None, is_root=True)
    for name, args in [("read_file", {"path": "a"}), ("execute", {"command": "true"}), ("process_list", {})]:
        result = call(name, args, ctx)
        assert result.result == {
            "error": "no workspace is associated with this chat. Use the create_workspace tool to create one"
        }
