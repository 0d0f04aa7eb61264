"""Validation of a model config's `options` object, per provider kind (reference §4.6)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Check = Callable[[str, Any], Any]


def _number(low: float, high: float) -> Check:
    def check(key: str, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise ValueError(f"options.{key} must be a number between {low} and {high}.")
        return value

    return check


def _integer(low: int) -> Check:
    def check(key: str, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"options.{key} must be an integer of at least {low}.")
        return value

    return check


def _choice(*allowed: str) -> Check:
    def check(key: str, value: Any) -> Any:
        if value not in allowed:
            raise ValueError(f"options.{key} must be one of: {', '.join(allowed)}.")
        return value

    return check


def _boolean(key: str, value: Any) -> Any:
    if not isinstance(value, bool):
        raise ValueError(f"options.{key} must be true or false.")
    return value


def _domains(key: str, value: Any) -> Any:
    if not isinstance(value, list) or not all(isinstance(d, str) and d for d in value):
        raise ValueError(f"options.{key} must be a list of domain names.")
    return value


COMMON: dict[str, Check] = {
    "temperature": _number(0, 2),
    "top_p": _number(0, 1),
    "presence_penalty": _number(-2, 2),
    "frequency_penalty": _number(-2, 2),
}
BY_KIND: dict[str, dict[str, Check]] = {
    "openai": {
        "reasoning_effort": _choice("none", "minimal", "low", "medium", "high", "xhigh"),
        "reasoning_summary": _choice("auto", "concise", "detailed"),
        "parallel_tool_calls": _boolean,
        "web_search_enabled": _boolean,
        "search_context_size": _choice("low", "medium", "high"),
        "allowed_domains": _domains,
        "use_responses_api": _boolean,
        "store": _boolean,
    },
    "anthropic": {
        "top_k": _integer(1),
        "thinking_budget": _integer(1024),
        "effort": _choice("low", "medium", "high", "max"),
        "disable_parallel_tool_use": _boolean,
        "web_search_enabled": _boolean,
        "allowed_domains": _domains,
        "blocked_domains": _domains,
        # Marks the model computer-use sub-agents run on, and which computer tool it takes.
        "computer_use": _choice("computer_20250124", "computer_20251124"),
    },
    "google": {
        "top_k": _integer(1),
        "thinking_budget": _integer(0),
        "include_thoughts": _boolean,
        "web_search_enabled": _boolean,
    },
    "openai_compatible": {
        "reasoning_effort": _choice("none", "minimal", "low", "medium", "high", "xhigh"),
        "parallel_tool_calls": _boolean,
    },
}


def validate_options(kind: str, options: Any) -> dict[str, Any]:
    """Return the validated options; raise ValueError naming the first bad key."""
    if not isinstance(options, dict):
        raise ValueError("options must be an object.")
    allowed = {**COMMON, **BY_KIND.get(kind, {})}
    for key, value in options.items():
        if key not in allowed:
            raise ValueError(f"options.{key} is not a known option for {kind} providers.")
        allowed[key](key, value)
    if options.get("allowed_domains") and options.get("blocked_domains"):
        raise ValueError("options.allowed_domains and options.blocked_domains are mutually exclusive.")
    return dict(options)
