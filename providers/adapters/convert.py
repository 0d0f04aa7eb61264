"""History repairs shared by every adapter (reference §5, "Conversion rules").

`repair_history` turns stored prompt messages into a well-formed history that every
vendor accepts; the vendor modules then only change shapes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from providers.interface import PromptMessage

INTERRUPTED_RESULT = "tool call was interrupted before it produced a result"
_UNSAFE_ID_CHARS = re.compile(r"[^a-zA-Z0-9_-]")


def sanitize_tool_call_id(tool_call_id: str) -> str:
    """Vendors only accept [a-zA-Z0-9_-] in tool-call ids."""
    return _UNSAFE_ID_CHARS.sub("_", tool_call_id or "") or "call"


def repair_history(messages: Iterable[PromptMessage]) -> list[PromptMessage]:
    """Clean parts, then pair every local tool call with exactly one result."""
    cleaned = [PromptMessage(m.role, _clean_parts(m.parts)) for m in messages]
    return _pair_tool_calls([m for m in cleaned if m.parts])


def _clean_parts(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cleaned = [_clean_part(part) for part in parts]
    kept = [part for part in cleaned if part is not None]
    return _drop_unanswered_provider_calls(kept)


def _clean_part(part: dict[str, Any]) -> dict[str, Any] | None:
    kind = part.get("type")
    if kind in ("text", "reasoning"):
        return part if str(part.get("text") or "").strip() else None
    if kind == "file":
        return part if part.get("data") else None
    if kind == "tool_call":
        args = part.get("args")
        return {
            **part,
            "tool_call_id": sanitize_tool_call_id(part.get("tool_call_id", "")),
            "args": args if isinstance(args, dict) else {},
        }
    if kind == "tool_result":
        result = part.get("result")
        return {
            **part,
            "tool_call_id": sanitize_tool_call_id(part.get("tool_call_id", "")),
            "result": {} if result is None or result == "" else result,
        }
    return None  # `source` (never sent back) and unknown types


def _drop_unanswered_provider_calls(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A provider-executed call is only replayable next to its own result."""
    answered = {p["tool_call_id"] for p in parts if p["type"] == "tool_result" and p.get("provider_executed")}
    return [
        p
        for p in parts
        if not (p["type"] == "tool_call" and p.get("provider_executed") and p["tool_call_id"] not in answered)
    ]


def _pair_tool_calls(messages: list[PromptMessage]) -> list[PromptMessage]:
    """Inject an error result for each call left unanswered and a call for each orphan result."""
    out: list[PromptMessage] = []
    pending: dict[str, str] = {}  # call id -> tool name, of the latest assistant message
    for message in messages:
        if message.role == "tool":
            message = _keep_answerable_results(message, pending, out)
        else:
            out.extend(_synthetic_results(pending))
            pending = {}
        if message.role == "assistant":
            pending = _local_calls(message)
        out.append(message)
    out.extend(_synthetic_results(pending))
    return out


def _local_calls(message: PromptMessage) -> dict[str, str]:
    return {
        p["tool_call_id"]: p.get("tool_name", "")
        for p in message.parts
        if p["type"] == "tool_call" and not p.get("provider_executed")
    }


def _keep_answerable_results(
    message: PromptMessage, pending: dict[str, str], out: list[PromptMessage]
) -> PromptMessage:
    """Mark answered calls; give an orphan result a synthetic call just before it."""
    for part in message.parts:
        if part["type"] != "tool_result":
            continue
        if pending.pop(part["tool_call_id"], None) is None:
            _assistant_before_results(out).parts.append(
                {
                    "type": "tool_call",
                    "tool_call_id": part["tool_call_id"],
                    "tool_name": part.get("tool_name", ""),
                    "args": {},
                    "provider_executed": False,
                }
            )
    return message


def _assistant_before_results(out: list[PromptMessage]) -> PromptMessage:
    """The assistant message the current run of tool messages answers, created if missing."""
    index = len(out)
    while index > 0 and out[index - 1].role == "tool":
        index -= 1
    if index > 0 and out[index - 1].role == "assistant":
        return out[index - 1]
    synthetic = PromptMessage("assistant", [])
    out.insert(index, synthetic)
    return synthetic


def _synthetic_results(pending: dict[str, str]) -> list[PromptMessage]:
    return [
        PromptMessage(
            "tool",
            [
                {
                    "type": "tool_result",
                    "tool_call_id": call_id,
                    "tool_name": name,
                    "result": {"error": INTERRUPTED_RESULT},
                    "is_error": True,
                    "provider_executed": False,
                }
            ],
        )
        for call_id, name in pending.items()
    ]


def result_text(part: dict[str, Any]) -> str:
    """A tool result as the text sent to the model; errors send their `error` string."""
    result = part.get("result")
    if part.get("is_error") and isinstance(result, dict) and isinstance(result.get("error"), str):
        return str(result["error"])
    if isinstance(result, str):
        return result
    return json.dumps(result, ensure_ascii=False)


def message_text(message: PromptMessage) -> str:
    """Concatenated text parts (system prompts, simple user turns)."""
    return "\n\n".join(p["text"] for p in message.parts if p["type"] == "text")
