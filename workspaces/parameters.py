"""Template parameters: checking the definitions an admin writes and the values a user or
the model supplies. Errors are plain sentences, collected so one answer lists them all."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError

TYPES = ("string", "number", "bool")
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
KNOWN_KEYS = {
    "name", "type", "display_name", "description", "default", "required", "options", "mutable",
    "validation_regex", "validation_min", "validation_max",
}  # fmt: skip


class ParameterError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def check_definitions(definitions: Any) -> None:
    """Raise Django's ValidationError if a template's parameter list is malformed."""
    problems = definition_problems(definitions)
    if problems:
        raise ValidationError({"parameters": problems})


def definition_problems(definitions: Any) -> list[str]:
    if not isinstance(definitions, list):
        return ["parameters must be a list"]
    problems: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(definitions):
        if not isinstance(item, dict) or not NAME_RE.match(str(item.get("name", ""))):
            problems.append(f"parameter {index}: needs a name of letters, digits and underscores")
            continue
        name = item["name"]
        if name in seen:
            problems.append(f"parameter {name}: defined twice")
        seen.add(name)
        if item.get("type", "string") not in TYPES:
            problems.append(f"parameter {name}: type must be one of {', '.join(TYPES)}")
        if unknown := set(item) - KNOWN_KEYS:
            problems.append(f"parameter {name}: unknown keys {sorted(unknown)}")
        if "validation_regex" in item:
            try:
                re.compile(str(item["validation_regex"]))
            except re.error as exc:
                problems.append(f"parameter {name}: bad validation_regex ({exc})")
    return problems


def resolve_values(definitions: list[dict[str, Any]], given: dict[str, Any]) -> dict[str, Any]:
    """Values for every defined parameter: given, else default; raise ParameterError listing
    unknown names, missing required ones and values that fail their type or validation."""
    problems = [f"unknown parameter {name!r}" for name in given if name not in {d["name"] for d in definitions}]
    values: dict[str, Any] = {}
    for definition in definitions:
        name = definition["name"]
        if name in given:
            value, problem = _coerce(definition, given[name])
        elif "default" in definition:
            value, problem = definition["default"], None
        elif definition.get("required", False):
            value, problem = None, f"parameter {name!r} is required"
        else:
            continue
        if problem is None:
            problem = _validate(definition, value)
        if problem:
            problems.append(problem)
        else:
            values[name] = value
    if problems:
        raise ParameterError(problems)
    return values


def _coerce(definition: dict[str, Any], value: Any) -> tuple[Any, str | None]:
    name, kind = definition["name"], definition.get("type", "string")
    if kind == "bool":
        if isinstance(value, bool):
            return value, None
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true", None
        return None, f"parameter {name!r} must be true or false"
    if kind == "number":
        if isinstance(value, bool):
            return None, f"parameter {name!r} must be a number"
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None, f"parameter {name!r} must be a number"
        return (int(number) if number.is_integer() else number), None
    if isinstance(value, dict | list) or value is None:
        return None, f"parameter {name!r} must be a string"
    return str(value), None


def _validate(definition: dict[str, Any], value: Any) -> str | None:
    name = definition["name"]
    options = definition.get("options")
    if options and value not in options:
        return f"parameter {name!r} must be one of {options}"
    regex = definition.get("validation_regex")
    if regex and isinstance(value, str) and not re.fullmatch(regex, value):
        return f"parameter {name!r} must match {regex}"
    low, high = definition.get("validation_min"), definition.get("validation_max")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if low is not None and value < low:
            return f"parameter {name!r} must be at least {low}"
        if high is not None and value > high:
            return f"parameter {name!r} must be at most {high}"
    return None


def as_environment(values: dict[str, Any]) -> dict[str, str]:
    """Parameters as environment variables for the startup script (never spliced into it)."""
    return {f"CHATD_PARAM_{name.upper()}": _env_text(value) for name, value in values.items()}


def _env_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
