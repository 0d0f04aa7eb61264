"""Context compaction (reference §8.8): summarise a long history so the turn can go on.

Failures never fail the turn: they are reported as an error result on the visible marker and
the loop continues with the full history.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from chats.agent.loop import Step
from providers.interface import Adapter, LLMRequest, PromptMessage, ProviderError

logger = logging.getLogger(__name__)

DEFAULT_THRESHOLD_PERCENT = 70
SUMMARY_TIMEOUT_SECONDS = 90
TOOL_NAME = "chat_summarized"
SUMMARY_INSTRUCTIONS = """\
Summarise the conversation so far for a colleague who will take over the work with no other \
context. Be dense and factual; no pleasantries. Cover:
1. The user's overall goal and the current task.
2. Key decisions made and why.
3. Concrete technical details: file paths, functions, commands, APIs, configuration values.
4. Errors met and how they were resolved.
5. What is done, what is in progress and what remains.
6. The exact action that was in progress when this summary was requested.
"""
SUMMARY_PREAMBLE = (
    "The earlier part of this conversation was summarised to save context. You were in the middle of "
    "the work described below; continue from where it left off.\n\n"
)
_calls = ThreadPoolExecutor(max_workers=8, thread_name_prefix="chat-summary")


def threshold_percent(config_value: int, user_override: Any) -> int:
    """The user's per-model override when valid, else the config's (70 when out of range)."""
    for value in (user_override, config_value):
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100:
            return value
    return DEFAULT_THRESHOLD_PERCENT


@dataclass(frozen=True)
class Summary:
    call_id: str
    text: str
    threshold_percent: int
    usage_percent: float
    context_tokens: int
    context_limit: int


@dataclass
class Compactor:
    """`__call__` fits `Turn.compact`. `store` persists the summary rows (None = not ours any
    more); `reload` rebuilds the prompt from the database afterwards."""

    adapter: Adapter
    model: str
    context_limit: int
    threshold: int
    emit: Callable[[dict[str, Any]], None]
    store: Callable[[Summary], bool]
    reload: Callable[[], list[PromptMessage]]

    def __call__(self, messages: list[PromptMessage], step: Step) -> list[PromptMessage] | None:
        tokens = context_tokens(step)
        if self.threshold >= 100 or tokens is None or tokens * 100 < self.threshold * self.context_limit:
            return None
        call_id = f"{TOOL_NAME}_{uuid.uuid4()}"
        self._emit_part("assistant", call_part(call_id, self.threshold))
        text = self._summarise(messages)
        if not text:
            failure = {"error": "The conversation could not be summarised."}
            self._emit_part("tool", result_part(call_id, failure, is_error=True))
            return None
        summary = Summary(call_id, text, self.threshold, round(tokens * 100 / self.context_limit, 1), tokens,
                          self.context_limit)  # fmt: skip
        if not self.store(summary):
            return None
        self._emit_part("tool", result_part(call_id, summary_result(summary), is_error=False))
        return self.reload()

    def _summarise(self, messages: list[PromptMessage]) -> str:
        request = LLMRequest(
            model=self.model,
            messages=[*messages, PromptMessage("user", [{"type": "text", "text": SUMMARY_INSTRUCTIONS}])],
            tool_choice="none",
        )
        future = _calls.submit(self.adapter.complete, request)
        try:
            return future.result(timeout=SUMMARY_TIMEOUT_SECONDS).text.strip()
        except (ProviderError, FutureTimeout) as exc:
            logger.warning("compaction failed: %s", exc)
            return ""

    def _emit_part(self, role: str, part: dict[str, Any]) -> None:
        self.emit({"type": "message_part", "role": role, "part": part})


def context_tokens(step: Step) -> int | None:
    """What the last step put in the context window: input incl. cache, or output when that is all."""
    usage = step.usage
    if usage is None:
        return None
    prompt = usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens
    return prompt or (usage.output_tokens or None)


def summary_result(summary: Summary) -> dict[str, Any]:
    return {
        "summary": summary.text,
        "source": "automatic",
        "threshold_percent": summary.threshold_percent,
        "usage_percent": summary.usage_percent,
        "context_tokens": summary.context_tokens,
        "context_limit_tokens": summary.context_limit,
    }


def call_part(call_id: str, threshold: int) -> dict[str, Any]:
    """The visible "Summarizing…" marker's tool call."""
    args = {"source": "automatic", "threshold_percent": threshold}
    return {"type": "tool_call", "tool_call_id": call_id, "tool_name": TOOL_NAME, "args": args,
            "provider_executed": False}  # fmt: skip


def result_part(call_id: str, result: dict[str, Any], *, is_error: bool) -> dict[str, Any]:
    return {"type": "tool_result", "tool_call_id": call_id, "tool_name": TOOL_NAME, "result": result,
            "is_error": is_error, "provider_executed": False}  # fmt: skip
