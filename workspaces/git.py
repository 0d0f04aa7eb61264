"""Git status of a workspace for the chat's diff view (API.md §4 `GET /api/chats/{id}/diff/`).

Runs the git CLI through the workspace backend, so it works the same locally and over SSH.
Untracked files count as added; a directory that is not a git work tree gives the empty result.
"""

from __future__ import annotations

from typing import TypedDict

from workspaces.backends import backend_for
from workspaces.backends.base import BackendError, WorkspaceBackend
from workspaces.models import Workspace, WorkspaceStatus

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git's well-known empty tree
DIFF_LIMIT = 512 * 1024
GIT = "git -c core.quotepath=off"
CHANGES = {"A": "added", "M": "modified", "D": "deleted", "R": "renamed", "C": "added", "T": "modified"}
UNTRACKED = f"{GIT} ls-files --others --exclude-standard -z | xargs -0 -r -n1 {GIT} diff --no-index"


class ChangedFile(TypedDict):
    path: str
    change: str
    additions: int
    deletions: int


class DiffStatus(TypedDict):
    branch: str
    changed_files: list[ChangedFile]
    diff: str


def empty_status() -> DiffStatus:
    return {"branch": "", "changed_files": [], "diff": ""}


def diff_status(workspace: Workspace) -> DiffStatus:
    if workspace.status == WorkspaceStatus.DELETED or not workspace.directory:
        return empty_status()
    try:
        with backend_for(workspace) as backend:
            return _status(backend)
    except (BackendError, OSError):
        return empty_status()


def _git(backend: WorkspaceBackend, command: str) -> tuple[int, str]:
    result = backend.run(command, workdir=backend.root, timeout=30, output_limit=DIFF_LIMIT)
    return result.exit_code, result.output


def _status(backend: WorkspaceBackend) -> DiffStatus:
    code, inside = _git(backend, "git rev-parse --is-inside-work-tree 2>/dev/null")
    if code != 0 or inside.strip() != "true":
        return empty_status()
    _, branch = _git(backend, "git symbolic-ref --short -q HEAD || git rev-parse --short HEAD 2>/dev/null")
    base = "HEAD" if _git(backend, "git rev-parse --verify -q HEAD >/dev/null")[0] == 0 else EMPTY_TREE
    _, names = _git(backend, f"{GIT} diff {base} -M --name-status")
    _, counts = _git(backend, f"{GIT} diff {base} -M --numstat")
    _, new_counts = _git(backend, f"{UNTRACKED} --numstat -- /dev/null || true")
    _, tracked_diff = _git(backend, f"{GIT} diff {base} -M")
    _, untracked_diff = _git(backend, f"{UNTRACKED} -- /dev/null || true")
    files = _changed_files(names.splitlines(), counts.splitlines())
    for line in new_counts.splitlines():
        added, _deleted, path = line.split("\t", 2)
        files.append({"path": path.split(" => ")[-1], "change": "added", "additions": _int(added), "deletions": 0})
    return {"branch": branch.strip(), "changed_files": files, "diff": tracked_diff + untracked_diff}


def _changed_files(names: list[str], counts: list[str]) -> list[ChangedFile]:
    """Zip `--name-status` with `--numstat` (git lists both in the same order)."""
    files: list[ChangedFile] = []
    for name_line, count_line in zip(names, counts, strict=False):
        fields = name_line.split("\t")
        added, deleted, _ = count_line.split("\t", 2)
        files.append(
            {
                "path": fields[-1],
                "change": CHANGES.get(fields[0][:1], "modified"),
                "additions": _int(added),
                "deletions": _int(deleted),
            }
        )
    return files


def _int(text: str) -> int:
    return int(text) if text.isdigit() else 0  # "-" for binary files
