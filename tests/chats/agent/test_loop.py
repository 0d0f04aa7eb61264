"""The step loop on its own: a scripted model, plain tools, a list of events."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest

from chats.agent.control import CancelReason, RunControl
from chats.agent.loop import INTERRUPTED_TOOL_RESULT, Outcome, Step, Turn, TurnFailed
from providers import interface as llm
from tests.chats.agent.scripted import ScriptedAdapter, text, tool_call, usage
from tests.chats.conftest import wait_for
from workspaces.tools.base import Tool, ToolContext, ToolResult

pytestmark = pytest.mark.core

USER = [llm.PromptMessage("user", [{"type": "text", "text": "hi"}])]


class Sleep(Tool):
    name = "sleep"
    description = "Sleep, then echo."
    parameters = {"type": "object", "properties": {"seconds": {"type": "number"}, "say": {"type": "string"}},
                  "required": ["seconds"]}  # fmt: skip

    def __init__(self) -> None:
        self.spans: dict[str, tuple[float, float]] = {}

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        started = time.monotonic()
        ctx.cancelled.wait(args["seconds"])
        self.spans[args.get("say", "")] = (started, time.monotonic())
        return ToolResult({"said": args.get("say", "")})


class Stuck(Tool):
    """A tool that ignores cancellation (the loop must not wait for it)."""

    name = "stuck"
    description = "Blocks."

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        time.sleep(3)
        return ToolResult("finally")


class Explode(Tool):
    name = "explode"
    description = "Always raises."

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        raise RuntimeError("boom")


def make_turn(adapter: ScriptedAdapter, **overrides: Any) -> tuple[Turn, list[dict[str, Any]], list[Step]]:
    events: list[dict[str, Any]] = []
    steps: list[Step] = []
    control = RunControl()

    def persist(step: Step) -> list[llm.PromptMessage]:
        steps.append(step)
        added = [llm.PromptMessage("assistant", step.assistant_parts)]
        return added + [llm.PromptMessage("tool", [part]) for part in step.tool_parts]

    turn = Turn(
        adapter=adapter,
        tools={tool.name: tool for tool in (Sleep(), Stuck(), Explode())},
        tool_ctx=ToolContext(uuid.uuid4(), 1, None, True, control.event),
        control=control,
        build_request=lambda messages: llm.LLMRequest(model="m", messages=messages),
        persist=persist,
        emit=events.append,
        retry_options={"sleep": lambda seconds: None},
        **overrides,
    )
    return turn, events, steps


def test_a_multi_step_tool_run_feeds_each_result_back_to_the_model() -> None:
    adapter = ScriptedAdapter(
        [*tool_call("c1", "sleep", {"seconds": 0, "say": "one"}), llm.Finish("tool_calls")],
        [*tool_call("c2", "sleep", {"seconds": 0, "say": "two"}), llm.Finish("tool_calls")],
        [*text("all ", "done"), usage(50), llm.Finish("stop")],
    )
    turn, events, steps = make_turn(adapter)
    assert turn.run(USER) is Outcome.COMPLETED
    assert len(steps) == 3 and steps[-1].assistant_parts == [{"type": "text", "text": "all done"}]
    third_prompt = adapter.requests[2].messages
    results = [m.parts[0]["result"] for m in third_prompt if m.role == "tool"]
    assert results == [{"said": "one"}, {"said": "two"}]
    assert [e["part"]["text"] for e in events if e["part"].get("type") == "text"] == ["all ", "done"]


def test_a_turn_the_provider_paused_goes_on_from_the_paused_answer() -> None:
    """Anthropic's pause_turn: a long server-side search loop stopped half-way. The next request
    ends with the paused answer (no new user message) and the model carries on from it."""
    adapter = ScriptedAdapter(
        [*text("Searching..."), llm.Finish(llm.PAUSED)],
        [*text(" Found it."), llm.Finish("stop")],
    )
    turn, _, steps = make_turn(adapter)
    assert turn.run(USER) is Outcome.COMPLETED
    assert len(steps) == 2 and len(adapter.requests) == 2
    continued = adapter.requests[1].messages
    assert [m.role for m in continued] == ["user", "assistant"]
    assert continued[-1].parts == [{"type": "text", "text": "Searching..."}]


def test_parallel_tool_calls_run_at_once_and_report_in_call_order() -> None:
    adapter = ScriptedAdapter(
        [*tool_call("slow", "sleep", {"seconds": 0.5, "say": "slow"}),
         *tool_call("fast", "sleep", {"seconds": 0.0, "say": "fast"}), llm.Finish("tool_calls")],
        [*text("ok"), llm.Finish("stop")],
    )  # fmt: skip
    turn, events, steps = make_turn(adapter)
    turn.run(USER)
    spans = turn.tools["sleep"].spans  # type: ignore[attr-defined]
    assert spans["fast"][0] < spans["slow"][1]  # the second call started before the first ended
    assert [p["tool_call_id"] for p in steps[0].tool_parts] == ["slow", "fast"]
    published = [e["part"]["tool_call_id"] for e in events if e["role"] == "tool"]
    assert published == ["slow", "fast"]


def test_unknown_tools_malformed_arguments_and_crashing_tools_become_error_results() -> None:
    adapter = ScriptedAdapter(
        [
            *tool_call("a", "no_such_tool", {}),
            llm.ToolCallStart("b", "sleep"), llm.ToolCallArgsDelta("b", '{"seconds": '),
            llm.ToolCallComplete("b", "sleep", {}),
            *tool_call("c", "explode", {}),
            *tool_call("d", "sleep", {"seconds": "soon"}),
            llm.Finish("tool_calls"),
        ],
        [*text("sorry"), llm.Finish("stop")],
    )  # fmt: skip
    turn, _, steps = make_turn(adapter)
    assert turn.run(USER) is Outcome.COMPLETED
    errors = [(p["tool_call_id"], p["is_error"], p["result"]["error"]) for p in steps[0].tool_parts]
    assert errors[0] == ("a", True, "Tool not found: no_such_tool")
    assert errors[1][1] and "not valid JSON" in errors[1][2]
    assert errors[2] == ("c", True, "tool panicked: RuntimeError: boom")
    assert errors[3][1] and "seconds" in errors[3][2]


def test_interrupt_mid_stream_keeps_the_partial_answer() -> None:
    adapter = ScriptedAdapter([*text("Once upon", " a time"), 5.0, *text(" never sent"), llm.Finish("stop")])
    turn, _, steps = make_turn(adapter)
    threading.Timer(0.3, turn.control.cancel, args=[CancelReason.INTERRUPT]).start()
    assert turn.run(USER) is Outcome.INTERRUPTED
    # The silent stream was closed, not waited out (its producer thread notes it just after).
    wait_for(lambda: adapter.aborted == 1, timeout=4, what="the stream to be aborted")
    assert steps[0].interrupted and steps[0].assistant_parts == [{"type": "text", "text": "Once upon a time"}]


def test_interrupt_during_tools_gives_unfinished_calls_a_synthetic_error() -> None:
    adapter = ScriptedAdapter(
        [*tool_call("quick", "sleep", {"seconds": 0, "say": "hi"}),
         *tool_call("stuck", "stuck", {}), llm.Finish("tool_calls")],
    )  # fmt: skip
    turn, _, steps = make_turn(adapter)
    threading.Timer(0.3, turn.control.cancel, args=[CancelReason.INTERRUPT]).start()
    assert turn.run(USER) is Outcome.INTERRUPTED
    by_id = {p["tool_call_id"]: p for p in steps[0].tool_parts}
    assert by_id["quick"]["result"] == {"said": "hi"}
    assert by_id["stuck"]["is_error"] and by_id["stuck"]["result"]["error"] == INTERRUPTED_TOOL_RESULT


def test_an_interrupted_tool_call_still_streaming_is_kept_with_an_error_result() -> None:
    adapter = ScriptedAdapter([llm.ToolCallStart("c", "sleep"), llm.ToolCallArgsDelta("c", '{"seconds": 1}'), 5.0])
    turn, _, steps = make_turn(adapter)
    threading.Timer(0.3, turn.control.cancel, args=[CancelReason.INTERRUPT]).start()
    turn.run(USER)
    assert steps[0].assistant_parts[0]["args"] == {"seconds": 1}
    assert steps[0].tool_parts[0]["result"]["error"] == INTERRUPTED_TOOL_RESULT


@pytest.mark.parametrize("reason", [CancelReason.SHUTDOWN, CancelReason.SUPERSEDED])
def test_shutdown_and_takeover_write_nothing(reason: CancelReason) -> None:
    adapter = ScriptedAdapter([*text("partial"), 5.0, llm.Finish("stop")])
    turn, _, steps = make_turn(adapter)
    threading.Timer(0.3, turn.control.cancel, args=[reason]).start()
    assert turn.run(USER).value == reason.value
    assert steps == []


def test_retryable_errors_are_retried_with_retry_events_and_partial_output_dropped() -> None:
    overloaded = llm.ProviderError("overloaded", kind="overloaded", retryable=True, status_code=529)
    adapter = ScriptedAdapter([*text("half"), overloaded], [*text("whole"), llm.Finish("stop")])
    turn, events, steps = make_turn(adapter)
    assert turn.run(USER) is Outcome.COMPLETED
    retries = [e["retry"] for e in events if e["type"] == "retry"]
    assert [(r["attempt"], r["delay_ms"], r["status_code"]) for r in retries] == [(1, 1000, 529)]
    assert steps[0].assistant_parts == [{"type": "text", "text": "whole"}]


def test_a_final_provider_error_fails_the_turn() -> None:
    adapter = ScriptedAdapter([llm.ProviderError("invalid api key", kind="auth", status_code=401)])
    turn, _, steps = make_turn(adapter)
    with pytest.raises(TurnFailed, match="invalid api key"):
        turn.run(USER)
    assert steps == []


def test_the_loop_stops_after_max_steps() -> None:
    adapter = ScriptedAdapter(*[[*tool_call(f"c{i}", "sleep", {"seconds": 0}), llm.Finish("tool_calls")]
                                for i in range(5)])  # fmt: skip
    turn, _, steps = make_turn(adapter, max_steps=3)
    assert turn.run(USER) is Outcome.MAX_STEPS
    assert len(steps) == 3


def test_compaction_on_the_final_step_resumes_at_most_three_times() -> None:
    adapter = ScriptedAdapter(*[[*text(f"answer {i}"), llm.Finish("stop")] for i in range(6)])
    compactions: list[int] = []

    def compact(messages: list[llm.PromptMessage], step: Step) -> list[llm.PromptMessage]:
        compactions.append(len(messages))
        return USER

    turn, _, steps = make_turn(adapter, compact=compact)
    assert turn.run(USER) is Outcome.COMPLETED
    assert len(steps) == 4 and len(compactions) == 4  # the first stop plus three re-entries
