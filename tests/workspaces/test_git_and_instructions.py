from __future__ import annotations

import os
import subprocess
from typing import Any

import pytest

from tests.workspaces.conftest import root_of
from workspaces.git import diff_status
from workspaces.models import Workspace
from workspaces.services import workspace_instructions

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def git(root: str, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=a@example.com", "-c", "user.name=A", *args], cwd=root, check=True)


def test_diff_status_of_a_git_workspace(workspace: Workspace) -> None:
    root = root_of(workspace)
    git(root, "init", "-q", "-b", "feature")
    for name, text in [("keep.txt", "a\nb\n"), ("gone.txt", "x\n")]:
        with open(os.path.join(root, name), "w") as handle:
            handle.write(text)
    git(root, "add", ".")
    git(root, "commit", "-qm", "first")
    with open(os.path.join(root, "keep.txt"), "w") as handle:
        handle.write("a\nc\nd\n")
    os.remove(os.path.join(root, "gone.txt"))
    with open(os.path.join(root, "new.txt"), "w") as handle:
        handle.write("1\n2\n3\n")
    status = diff_status(workspace)
    assert status["branch"] == "feature"
    assert sorted(status["changed_files"], key=lambda f: f["path"]) == [
        {"path": "gone.txt", "change": "deleted", "additions": 0, "deletions": 1},
        {"path": "keep.txt", "change": "modified", "additions": 2, "deletions": 1},
        {"path": "new.txt", "change": "added", "additions": 3, "deletions": 0},
    ]
    assert "+c" in status["diff"] and "+3" in status["diff"]


def test_diff_status_of_a_plain_directory_is_empty(workspace: Workspace) -> None:
    assert diff_status(workspace) == {"branch": "", "changed_files": [], "diff": ""}


def test_instructions_include_os_directory_and_agents_md(
    workspace: Workspace, backend_kind: str, monkeypatch: Any, tmp_path: Any
) -> None:
    root = root_of(workspace)
    if backend_kind == "local":  # the SSH user's home is the real one: leave it alone
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        os.makedirs(tmp_path / "home" / ".chatd")
        (tmp_path / "home" / ".chatd" / "AGENTS.md").write_text("Home rules.\n")
    with open(os.path.join(root, "AGENTS.md"), "wb") as handle:
        handle.write(b"Use tabs.\r\n<!-- hidden\r\nnote -->Run make test.\r\n" + b"z" * 70000)
    text = workspace_instructions(workspace)
    assert f"Working directory: {root}" in text and "Operating system: " in text
    assert "Use tabs.\nRun make test." in text and "hidden" not in text and "\r" not in text
    assert "(truncated to 64KiB)" in text
    assert ("Home rules." in text) == (backend_kind == "local")
    os.remove(os.path.join(root, "AGENTS.md"))
    assert workspace_instructions(workspace) == text  # cached for five minutes
