"""The step loop (reference §8.2): stream the model, run its tool calls, persist, repeat.

No database, Celery or Channels here: the caller hands in the adapter, the tools, an `emit`
callable for live events and a `persist` callable for finished steps, so a test can drive a
whole turn with a scripted adapter and a list.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from chats.agent.accumulator import StepAccumulator
from chats.agent.control import CancelReason, RunControl
from providers import interface as llm
from providers.retry import stream_with_retry
from workspaces.tools.base import Tool, ToolContext, ToolResult, run_tool

MAX_STEPS = 1200
MAX_COMPACTION_REENTRIES = 3
INTERRUPTED_TOOL_RESULT = "tool call was interrupted before it produced a result"


class Outcome(enum.Enum):
    COMPLETED = "completed"
    MAX_STEPS = "max_steps"
    INTERRUPTED = "interrupted"
    SUPERSEDED = "superseded"
    SHUTDOWN = "shutdown"


_OUTCOME_FOR = {
    CancelReason.INTERRUPT: Outcome.INTERRUPTED,
    CancelReason.SUPERSEDED: Outcome.SUPERSEDED,
    CancelReason.SHUTDOWN: Outcome.SHUTDOWN,
}


class TurnFailed(Exception):
    """The model call failed for good (not retryable, or out of attempts)."""

    def __init__(self, error: llm.ProviderError) -> None:
        super().__init__(error.message)
        self.error = error


@dataclass
class Step:
    """One finished (or interrupted) model round trip, ready to be stored."""

    assistant_parts: list[dict[str, Any]]
    tool_parts: list[dict[str, Any]]
    usage: llm.Usage | None
    runtime_ms: int
    interrupted: bool = False
    model_ms: int = 0  # the model call alone, without the tools


@dataclass
class Turn:
    adapter: llm.Adapter
    tools: dict[str, Tool]
    tool_ctx: ToolContext
    control: RunControl
    build_request: Callable[[list[llm.PromptMessage]], llm.LLMRequest]
    # Stores a step; returns the prompt messages it adds. Cancels `control` itself when the
    # chat is no longer ours to write to.
    persist: Callable[[Step], list[llm.PromptMessage]]
    emit: Callable[[dict[str, Any]], None]
    # Returns the reloaded prompt when it compacted the history, else None.
    compact: Callable[[list[llm.PromptMessage], Step], list[llm.PromptMessage] | None] | None = None
    max_steps: int = MAX_STEPS
    retry_options: dict[str, Any] = field(default_factory=dict)

    def run(self, messages: list[llm.PromptMessage]) -> Outcome:
        """Run steps until the model stops; raises TurnFailed on a final provider error."""
        reentries = 0
        for _ in range(self.max_steps):
            if self.control.cancelled:
                return self._cancelled_outcome()
            step, wants_more = self._step(messages)
            if step is None:
                return self._cancelled_outcome()
            messages = [*messages, *self.persist(step)]
            if self.control.cancelled or step.interrupted:
                return self._cancelled_outcome()
            compacted = self.compact(messages, step) if self.compact else None
            if compacted is not None:
                messages = compacted
            if not wants_more:
                if compacted is None or reentries >= MAX_COMPACTION_REENTRIES:
                    return Outcome.COMPLETED
                reentries += 1  # compacted on the final step: carry on with the fresh context
        return Outcome.MAX_STEPS

    def _cancelled_outcome(self) -> Outcome:
        return _OUTCOME_FOR[self.control.reason or CancelReason.SUPERSEDED]

    def _step(self, messages: list[llm.PromptMessage]) -> tuple[Step | None, bool]:
        """One round trip. (None, False) when cancelled with nothing to keep."""
        started = time.monotonic()
        acc = StepAccumulator()
        self._stream_model(messages, acc)
        model_ms = _elapsed_ms(started)
        if self.control.cancelled:
            return self._partial_step(acc, [], started), False
        calls = acc.local_calls()
        results = self._run_tools(calls, acc) if calls else []
        interrupted = self.control.cancelled
        for part in results:
            self.emit({"type": "message_part", "role": "tool", "part": part})
        step = Step(acc.parts, results, acc.usage, _elapsed_ms(started), interrupted, model_ms)
        if interrupted and self.control.reason != CancelReason.INTERRUPT:
            return None, False
        return step, bool(calls) or acc.finish_reason == llm.PAUSED

    def _stream_model(self, messages: list[llm.PromptMessage], acc: StepAccumulator) -> None:
        stream = stream_with_retry(
            self.adapter, self.build_request(messages), on_retry=self._on_retry, **self.retry_options
        )
        self.control.attach(stream)
        try:
            for event in stream:
                if self.control.cancelled:
                    break
                if isinstance(event, llm.StreamReset):
                    self.emit({"type": "stream_reset"})
                if (part := acc.add(event)) is not None:
                    self.emit({"type": "message_part", "role": "assistant", "part": part})
        except llm.ProviderError as error:
            if not self.control.cancelled:
                raise TurnFailed(error) from error
        finally:
            self.control.detach()
            stream.close()

    def _partial_step(self, acc: StepAccumulator, results: list[dict[str, Any]], started: float) -> Step | None:
        """An interrupted step keeps what streamed so far; other cancellations keep nothing."""
        if self.control.reason != CancelReason.INTERRUPT:
            return None
        acc.flush_pending_calls()
        answered = {p["tool_call_id"] for p in results}
        results += [
            _result_part(call, ToolResult.error(INTERRUPTED_TOOL_RESULT))
            for call in acc.local_calls()
            if call["tool_call_id"] not in answered
        ]
        return Step(acc.parts, results, acc.usage, _elapsed_ms(started), interrupted=True)

    def _run_tools(self, calls: list[dict[str, Any]], acc: StepAccumulator) -> list[dict[str, Any]]:
        """Run every call at once; results in call order. Unfinished calls get an error result."""
        pool = ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix="chat-tool")
        futures = [
            pool.submit(run_tool, self.tools, call["tool_name"], acc.call_arguments(call), self.tool_ctx)
            for call in calls
        ]
        pool.shutdown(wait=False)
        pending: set[Future[ToolResult]] = set(futures)
        while pending and not self.control.cancelled:
            _, pending = wait(pending, timeout=0.1)
        return [
            _result_part(call, future.result() if future.done() else ToolResult.error(INTERRUPTED_TOOL_RESULT))
            for call, future in zip(calls, futures, strict=True)
        ]

    def _on_retry(self, attempt: int, delay_s: float, error: llm.ProviderError) -> None:
        retrying_at = datetime.now(UTC) + timedelta(seconds=delay_s)
        retry = {
            "attempt": attempt,
            "delay_ms": round(delay_s * 1000),
            "error": error.message,
            "kind": error.kind,
            "status_code": error.status_code,
            "retrying_at": retrying_at.isoformat(),
        }
        self.emit({"type": "retry", "retry": retry})


def _result_part(call: dict[str, Any], result: ToolResult) -> dict[str, Any]:
    part = {
        "type": "tool_result",
        "tool_call_id": call["tool_call_id"],
        "tool_name": call["tool_name"],
        "result": result.result,
        "is_error": result.is_error,
        "provider_executed": False,
    }
    if result.is_media:
        part["is_media"] = True
    return part


def _elapsed_ms(started: float) -> int:
    return max(1, round((time.monotonic() - started) * 1000))
