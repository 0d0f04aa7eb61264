"""A scripted model for driving the loop without HTTP: each call takes the next script."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from providers import interface as llm


class ScriptedAdapter(llm.Adapter):
    """`scripts[i]` is the i-th call: a list of events, floats (pause that long), or a
    ProviderError (raised there). Records every request."""

    def __init__(self, *scripts: list[Any]) -> None:
        self.scripts = list(scripts)
        self.requests: list[llm.LLMRequest] = []
        self.completions: list[str] = []
        self.aborted = 0  # streams closed by the caller before their script ended
        self._lock = threading.Lock()

    def stream_events(self, request: llm.LLMRequest, handle: llm.StreamHandle) -> Iterator[llm.StreamEvent]:
        with self._lock:
            self.requests.append(request)
            script = self.scripts.pop(0) if self.scripts else [*text("done"), llm.Finish("stop")]
        for item in script:
            if handle.closed.is_set():
                self.aborted += 1
                return
            if isinstance(item, float):
                handle.closed.wait(item)
            elif isinstance(item, llm.ProviderError):
                raise item
            else:
                yield item

    def complete(self, request: llm.LLMRequest) -> llm.Completion:
        with self._lock:
            self.requests.append(request)
            reply = self.completions.pop(0) if self.completions else "summary"
        return llm.Completion(reply, llm.Usage())


def text(*chunks: str) -> list[llm.StreamEvent]:
    return [llm.TextDelta(chunk) for chunk in chunks]


def tool_call(call_id: str, name: str, args: dict[str, Any]) -> list[llm.StreamEvent]:
    return [llm.ToolCallStart(call_id, name), llm.ToolCallComplete(call_id, name, args)]


def usage(input_tokens: int, output_tokens: int = 10, **extra: int) -> llm.Usage:
    return llm.Usage(input_tokens=input_tokens, output_tokens=output_tokens, **extra)
