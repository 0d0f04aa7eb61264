from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from workspaces import services
from workspaces.models import StartupStatus, Workspace, WorkspaceStatus
from workspaces.tools.base import ToolContext
from workspaces.tools.registry import workspace_tools

pytestmark = [pytest.mark.core, pytest.mark.django_db]

PARAMETERS = [
    {"name": "greeting", "type": "string", "default": "hello", "validation_regex": "[a-z]+"},
    {"name": "count", "type": "number", "required": True, "validation_min": 1, "validation_max": 5},
]


@pytest.fixture
def fresh_ctx(alice: Any) -> ToolContext:
    bound: list[uuid.UUID] = []
    ctx = ToolContext(chat_id=uuid.uuid4(), owner_id=alice.pk, workspace_id=None, is_root=True)
    ctx.bind_workspace = bound.append
    return ctx


def test_every_tool_is_registered_once_and_provisioning_is_root_only() -> None:
    tools = workspace_tools()
    assert [t.name for t in tools] == [
        "read_file", "write_file", "edit_files", "execute", "process_output", "process_list", "process_signal",
        "list_templates", "read_template", "create_workspace", "start_workspace",
    ]  # fmt: skip
    assert {t.name for t in tools if t.root_only} == {
        "list_templates", "read_template", "create_workspace", "start_workspace"
    }  # fmt: skip


def test_list_and_read_templates(call: Any, fresh_ctx: ToolContext, make_template: Any) -> None:
    python = make_template(name="python-dev", display_name="Python", description="x" * 500, parameters=PARAMETERS)
    make_template(name="old-thing", deprecated=True)
    listed = call("list_templates", {"query": "python"}, fresh_ctx).result
    assert listed["count"] == 1 and listed["templates"][0]["id"] == str(python.id)
    assert len(listed["templates"][0]["description"]) == 200
    assert call("list_templates", {}, fresh_ctx).result["count"] == 1
    read = call("read_template", {"template_id": str(python.id)}, fresh_ctx).result
    assert read["template"]["name"] == "python-dev"
    assert read["parameters"][1] == {**PARAMETERS[1]}
    assert call("read_template", {"template_id": "nope"}, fresh_ctx).is_error


def test_create_workspace_runs_the_startup_script_and_binds_the_chat(
    call: Any, fresh_ctx: ToolContext, make_template: Any
) -> None:
    template = make_template(
        parameters=PARAMETERS, startup_script='echo "$CHATD_PARAM_GREETING $CHATD_PARAM_COUNT" > ready.txt'
    )
    result = call("create_workspace", {"template_id": str(template.id), "parameters": {"count": 3}}, fresh_ctx)
    assert result.result == {**result.result, "created": True, "status": "running"}
    workspace = Workspace.objects.get(pk=result.result["workspace_id"])
    assert workspace.status == WorkspaceStatus.RUNNING and workspace.parameters == {"greeting": "hello", "count": 3}
    assert workspace.name.startswith(template.name[:27] + "-")
    assert fresh_ctx.workspace_id == workspace.id
    assert fresh_ctx.bind_workspace.__self__ == [workspace.id]  # type: ignore[union-attr]
    assert call("read_file", {"path": "ready.txt"}, fresh_ctx).result["content"] == "     1\thello 3"
    again = call("create_workspace", {"template_id": str(template.id), "parameters": {"count": 3}}, fresh_ctx)
    assert again.result["created"] is False and again.result["status"] == "already_exists"
    assert Workspace.objects.count() == 1


def test_create_workspace_reports_bad_parameters(call: Any, fresh_ctx: ToolContext, make_template: Any) -> None:
    template = make_template(parameters=PARAMETERS)
    result = call(
        "create_workspace", {"template_id": str(template.id), "parameters": {"count": 9, "x": "1"}}, fresh_ctx
    )
    assert result.is_error
    assert result.result["problems"] == ["unknown parameter 'x'", "parameter 'count' must be at most 5"]
    assert call("create_workspace", {"template_id": str(uuid.uuid4())}, fresh_ctx).is_error
    assert not Workspace.objects.exists()


def test_create_workspace_reports_a_failing_startup_script(
    call: Any, fresh_ctx: ToolContext, make_template: Any
) -> None:
    template = make_template(startup_script="echo broken >&2; exit 7")
    result = call("create_workspace", {"template_id": str(template.id), "name": "mine"}, fresh_ctx).result
    assert result["status"] == "startup_scripts_failed"
    assert result["startup_exit_code"] == 7 and result["startup_output"] == "broken\n"
    assert result["workspace_name"] == "mine"
    # The workspace stays usable so the agent can repair it.
    assert call("execute", {"command": "echo fixing"}, fresh_ctx).result["output"] == "fixing\n"


def test_create_workspace_reports_a_startup_timeout(call: Any, fresh_ctx: ToolContext, make_template: Any) -> None:
    template = make_template(startup_script="sleep 30", startup_timeout_seconds=1)
    started = time.monotonic()
    result = call("create_workspace", {"template_id": str(template.id)}, fresh_ctx).result
    assert result["status"] == "startup_scripts_timeout" and time.monotonic() - started < 10
    assert Workspace.objects.get().startup_status == StartupStatus.TIMEOUT


def test_start_workspace(call: Any, fresh_ctx: ToolContext, make_template: Any, alice: Any) -> None:
    assert call("start_workspace", {}, fresh_ctx).result["error"] == "chat has no workspace; use create_workspace first"
    template = make_template(startup_script="echo run >> runs.txt")
    workspace = services.workspace_create(owner_id=alice.pk, template=template)
    services.workspace_run_startup(workspace=workspace)
    fresh_ctx.workspace_id = workspace.id
    assert call("start_workspace", {}, fresh_ctx).result["message"] == "already running"
    services.workspace_stop(workspace=workspace)
    assert "start_workspace" in call("read_file", {"path": "runs.txt"}, fresh_ctx).result["error"]
    result = call("start_workspace", {}, fresh_ctx).result
    assert result == {**result, "started": True, "status": "running"}
    assert call("read_file", {"path": "runs.txt"}, fresh_ctx).result["total_lines"] == 2
    services.workspace_delete(workspace=workspace)
    assert "was deleted" in call("start_workspace", {}, fresh_ctx).result["error"]
    assert "create_workspace" in call("read_file", {"path": "runs.txt"}, fresh_ctx).result["error"]
