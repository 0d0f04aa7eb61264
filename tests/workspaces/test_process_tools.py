from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from workspaces import services
from workspaces.models import Process, Workspace
from workspaces.tools.base import ToolContext
from workspaces.tools.processes import split_background

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def wait_until_exited(call: Any, ctx: ToolContext, process_id: str, seconds: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = call("process_output", {"process_id": process_id}, ctx).result
        if not result["running"]:
            return dict(result)
        time.sleep(0.1)
    raise AssertionError("process did not exit")


def test_execute_runs_in_the_workspace_with_the_agent_environment(
    call: Any, ctx: ToolContext, workspace: Workspace
) -> None:
    result = call("execute", {"command": "pwd; echo $CHATD_CHAT_AGENT $GIT_EDITOR $PAGER $TERM; echo err >&2"}, ctx)
    assert not result.is_error
    body = result.result
    workspace.refresh_from_db()
    assert body["success"] is True and body["exit_code"] == 0
    assert body["output"] == f"{workspace.directory}\ntrue true cat dumb\nerr\n"
    assert isinstance(body["wall_duration_ms"], int)


def test_execute_does_not_leak_server_secrets(call: Any, ctx: ToolContext, monkeypatch: Any) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-should-not-leak")
    assert "sk-should" not in call("execute", {"command": "env"}, ctx).result["output"]


def test_execute_reports_failure_and_workdir(call: Any, ctx: ToolContext) -> None:
    call("write_file", {"path": "sub/x", "content": ""}, ctx)
    body = call("execute", {"command": "ls; exit 3", "workdir": "sub"}, ctx).result
    assert body == {**body, "success": False, "exit_code": 3, "output": "x\n"}
    assert "not a directory" in call("execute", {"command": "ls", "workdir": "sub/x"}, ctx).result["error"]


def test_execute_times_out_and_kills_the_whole_group(call: Any, ctx: ToolContext, workspace: Workspace) -> None:
    started = time.monotonic()
    result = call("execute", {"command": "(sleep 2; touch late) & echo started; sleep 30", "timeout_seconds": 1}, ctx)
    assert time.monotonic() - started < 2
    assert result.is_error
    assert result.result["error"] == "command timed out after 1s"
    assert result.result["exit_code"] == -1 and result.result["output"] == "started\n"
    time.sleep(2.5)
    assert call("read_file", {"path": "late"}, ctx).result["error"] == "file not found: late"


def test_execute_caps_output_at_32_kib_utf8_safe(call: Any, ctx: ToolContext) -> None:
    body = call("execute", {"command": "i=0; while [ $i -lt 20000 ]; do printf 'é€'; i=$((i+1)); done"}, ctx).result
    assert body["truncated"] is True
    assert len(body["output"].encode()) <= 32 * 1024 + 100
    assert "bytes of output omitted" in body["output"]
    assert body["output"].startswith("é€é€")


def test_execute_survives_nul_and_invalid_utf8(call: Any, ctx: ToolContext) -> None:
    body = call("execute", {"command": r"printf 'a\000b\377c\n'"}, ctx).result
    assert body["output"] == "a\x00b\ufffdc\n"
    json.dumps(body)


def test_cancelling_stops_a_foreground_command(call: Any, ctx: ToolContext) -> None:
    ctx.cancelled.set()
    result = call("execute", {"command": "sleep 20"}, ctx)
    assert result.result["error"] == "command was cancelled"


def test_cat_gets_a_read_file_note(call: Any, ctx: ToolContext) -> None:
    call("write_file", {"path": "a.txt", "content": "hi\n"}, ctx)
    assert "read_file" in call("execute", {"command": "cat a.txt"}, ctx).result["note"]
    assert "read_file" in call("execute", {"command": "grep -l hi -r ."}, ctx).result["note"]
    assert "note" not in call("execute", {"command": "echo cat"}, ctx).result


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("sleep 1 &", ("sleep 1", True)),
        ("sleep 1 &  ", ("sleep 1", True)),
        ("a && b", ("a && b", False)),
        ("a |& b", ("a |& b", False)),
        ("a &&", ("a &&", False)),
        ("echo \\&", ("echo \\&", False)),
        ("&", ("&", False)),
    ],
)
def test_trailing_ampersand_means_background(command: str, expected: tuple[str, bool]) -> None:
    assert split_background(command) == expected


def test_background_process_lifecycle(call: Any, ctx: ToolContext) -> None:
    started = call("execute", {"command": "echo hello; sleep 0.3; echo bye; exit 4", "run_in_background": True}, ctx)
    assert started.result["success"] is True
    process_id = started.result["background_process_id"]
    final = wait_until_exited(call, ctx, process_id)
    assert final["output"] == "hello\nbye\n" and final["exit_code"] == 4
    listed = call("process_list", {}, ctx).result
    assert listed["count"] == 1
    assert listed["processes"][0] == {**listed["processes"][0], "process_id": process_id, "running": False}


def test_trailing_ampersand_starts_a_background_process(call: Any, ctx: ToolContext) -> None:
    result = call("execute", {"command": "sleep 30 &"}, ctx)
    process_id = result.result["background_process_id"]
    output = call("process_output", {"process_id": process_id}, ctx).result
    assert output["running"] is True and output["note"] == "process is still running"
    assert output["command"] == "sleep 30"
    signalled = call("process_signal", {"process_id": process_id, "signal": "kill"}, ctx).result
    assert signalled["success"] is True and "exited" in signalled["message"]
    assert call("process_output", {"process_id": process_id}, ctx).result["exit_code"] == -9


def test_terminate_reaches_children(call: Any, ctx: ToolContext) -> None:
    process_id = call("execute", {"command": "sh -c 'sleep 30; touch survived' & sleep 30 &"}, ctx).result[
        "background_process_id"
    ]
    time.sleep(0.3)
    message = call("process_signal", {"process_id": process_id, "signal": "terminate"}, ctx).result["message"]
    assert "exited" in message
    assert call("process_signal", {"process_id": process_id, "signal": "kill"}, ctx).is_error
    # Read /proc rather than rely on ps being installed; a killed process's cmdline is empty.
    # Processes may exit while the loop reads them: ignore the ones that vanish.
    count = "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' <$f; echo; done 2>/dev/null | grep -c '^sleep 30 $' || true"
    assert call("execute", {"command": count}, ctx).result["output"].strip() == "0"


def test_processes_belong_to_their_chat_and_survive_a_new_context(call: Any, ctx: ToolContext, alice: Any) -> None:
    process_id = call("execute", {"command": "echo later", "run_in_background": True}, ctx).result[
        "background_process_id"
    ]
    next_turn = ToolContext(chat_id=ctx.chat_id, owner_id=alice.pk, workspace_id=ctx.workspace_id, is_root=True)
    assert wait_until_exited(call, next_turn, process_id)["output"] == "later\n"
    other_chat = ToolContext(chat_id=uuid.uuid4(), owner_id=alice.pk, workspace_id=ctx.workspace_id, is_root=True)
    assert call("process_output", {"process_id": process_id}, other_chat).result["error"].startswith("process not")
    assert call("process_output", {"process_id": "nope"}, ctx).is_error


def test_background_output_is_capped(call: Any, ctx: ToolContext) -> None:
    process_id = call("execute", {"command": "head -c 100000 /dev/zero | tr '\\0' 'a'", "run_in_background": True}, ctx)
    final = wait_until_exited(call, ctx, process_id.result["background_process_id"])
    assert final["truncated"] is True and len(final["output"]) < 33 * 1024


def test_processes_kill_for_chat_kills_every_group(call: Any, ctx: ToolContext) -> None:
    for _ in range(2):
        call("execute", {"command": "sleep 60", "run_in_background": True}, ctx)
    assert services.processes_kill_for_chat(ctx.chat_id) == 2
    assert not Process.objects.filter(chat_id=ctx.chat_id, exited_at__isnull=True).exists()
    listed = call("process_list", {}, ctx).result["processes"]
    assert [p["running"] for p in listed] == [False, False]
