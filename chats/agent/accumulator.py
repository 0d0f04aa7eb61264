"""Turns one model stream's events into the step's stored parts and the deltas to publish."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from providers import interface as llm


@dataclass
class _PendingCall:
    id: str
    name: str
    raw_args: str = ""


@dataclass
class StepAccumulator:
    parts: list[dict[str, Any]] = field(default_factory=list)
    usage: llm.Usage | None = None
    finish_reason: str = ""
    _pending: dict[str, _PendingCall] = field(default_factory=dict)
    _raw_args: dict[str, str] = field(default_factory=dict)
    _source_urls: set[str] = field(default_factory=set)

    def add(self, event: llm.StreamEvent) -> dict[str, Any] | None:
        """Record `event`; return the `message_part` part to publish for it, if any."""
        match event:
            case llm.TextDelta(text=text) | llm.ReasoningDelta(text=text) if not text and not _signature(event):
                return None
            case llm.TextDelta(text=text):
                self._extend("text", text)
                return {"type": "text", "text": text}
            case llm.ReasoningDelta(text=text, signature=signature):
                part = self._extend("reasoning", text)
                if signature:
                    part["signature"] = signature
                return {"type": "reasoning", "text": text}
            case llm.ToolCallStart(id=call_id, name=name):
                self._pending[call_id] = _PendingCall(call_id, name)
                return {"type": "tool_call", "tool_call_id": call_id, "tool_name": name, "args_delta": ""}
            case llm.ToolCallArgsDelta(id=call_id, delta=delta):
                pending = self._pending.setdefault(call_id, _PendingCall(call_id, ""))
                pending.raw_args += delta
                return {"type": "tool_call", "tool_call_id": call_id, "tool_name": pending.name, "args_delta": delta}
            case llm.ToolCallComplete():
                return self._complete_call(event)
            case llm.ProviderToolResult(id=call_id, name=name, result=result, is_error=is_error):
                part = {"type": "tool_result", "tool_call_id": call_id, "tool_name": name, "result": result,
                        "is_error": is_error, "provider_executed": True}  # fmt: skip
                self.parts.append(part)
                return part
            case llm.Source(url=url, title=title):
                if url in self._source_urls:
                    return None  # cited again: one source part per url and step
                self._source_urls.add(url)
                self.parts.append({"type": "source", "url": url, "title": title})
                return self.parts[-1]
            case llm.Usage():
                self.usage = event
            case llm.Finish(reason=reason):
                self.finish_reason = reason
            case llm.StreamReset():
                self.reset()
        return None

    def reset(self) -> None:
        """A retried stream starts the step afresh."""
        self.parts, self.usage, self.finish_reason = [], None, ""
        self._pending, self._raw_args = {}, {}

    def _extend(self, kind: str, text: str) -> dict[str, Any]:
        if not self.parts or self.parts[-1]["type"] != kind:
            self.parts.append({"type": kind, "text": ""})
        self.parts[-1]["text"] += text
        return self.parts[-1]

    def _complete_call(self, event: llm.ToolCallComplete) -> dict[str, Any]:
        pending = self._pending.pop(event.id, None)
        if pending is not None and pending.raw_args:
            self._raw_args[event.id] = pending.raw_args
        part = {"type": "tool_call", "tool_call_id": event.id, "tool_name": event.name, "args": event.args,
                "provider_executed": event.provider_executed}  # fmt: skip
        self.parts.append(part)
        return part

    def flush_pending_calls(self) -> None:
        """On interrupt: calls still streaming become calls with what arguments arrived."""
        for pending in self._pending.values():
            self.parts.append({"type": "tool_call", "tool_call_id": pending.id, "tool_name": pending.name,
                               "args": _object_or_empty(pending.raw_args), "provider_executed": False})  # fmt: skip
        self._pending.clear()

    def local_calls(self) -> list[dict[str, Any]]:
        """Tool calls we must run ourselves, in the order the model made them."""
        answered = {p["tool_call_id"] for p in self.parts if p["type"] == "tool_result"}
        return [
            p for p in self.parts
            if p["type"] == "tool_call" and not p["provider_executed"] and p["tool_call_id"] not in answered
        ]  # fmt: skip

    def call_arguments(self, call: dict[str, Any]) -> Any:
        """The arguments as the model sent them: the raw text when it streamed any, so a
        malformed payload reaches the tool runner (and the model hears why) instead of `{}`."""
        return self._raw_args.get(call["tool_call_id"], call["args"])


def _signature(event: llm.StreamEvent) -> str:
    return getattr(event, "signature", "") or ""


def _object_or_empty(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
