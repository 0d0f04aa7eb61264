from __future__ import annotations

import os
from typing import Any

import pytest

from tests.workspaces.conftest import root_of
from workspaces.models import Workspace
from workspaces.tools.base import ToolContext

pytestmark = [pytest.mark.core, pytest.mark.django_db]


@pytest.mark.parametrize("path", ["../escape.txt", "a/../../escape.txt", "/etc/passwd", "/tmp/escape.txt"])
def test_paths_outside_the_workspace_are_refused(call: Any, ctx: ToolContext, path: str) -> None:
    for name, args in [
        ("read_file", {"path": path}),
        ("write_file", {"path": path, "content": "x"}),
        ("edit_files", {"files": [{"path": path, "edits": [{"search": "a", "replace": "b"}]}]}),
        ("execute", {"command": "pwd", "workdir": path}),
    ]:
        result = call(name, args, ctx)
        assert result.is_error and "outside the workspace" in result.result["error"], (name, result)


def test_symlinks_that_leave_the_workspace_are_refused(
    call: Any, ctx: ToolContext, workspace: Workspace, tmp_path: Any
) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    root = root_of(workspace)
    os.symlink(str(outside), os.path.join(root, "link.txt"))
    os.symlink(str(tmp_path), os.path.join(root, "dirlink"))
    assert "outside the workspace" in call("read_file", {"path": "link.txt"}, ctx).result["error"]
    assert "outside the workspace" in call("write_file", {"path": "link.txt", "content": "x"}, ctx).result["error"]
    assert "outside the workspace" in call("read_file", {"path": "dirlink/secret.txt"}, ctx).result["error"]
    assert outside.read_text() == "secret"


def test_symlinks_inside_the_workspace_and_absolute_inside_paths_work(
    call: Any, ctx: ToolContext, workspace: Workspace
) -> None:
    root = root_of(workspace)
    call("write_file", {"path": "real/file.txt", "content": "hi\n"}, ctx)
    os.symlink("real", os.path.join(root, "alias"))
    assert call("read_file", {"path": "alias/file.txt"}, ctx).result["content"] == "     1\thi"
    assert call("read_file", {"path": f"{root}/real/file.txt"}, ctx).result["path"] == "real/file.txt"


def test_nul_in_a_path_is_refused(call: Any, ctx: ToolContext) -> None:
    assert "NUL" in call("read_file", {"path": "a\x00b"}, ctx).result["error"]
