"""Anthropic's computer tool on the wire: the versioned tool, its beta header, screenshots as
image tool results; other vendors get an ordinary function and text."""

from __future__ import annotations

import base64
import json

import pytest

from chats.agent.prompt import recent_media_only
from providers.adapters.anthropic import params as anthropic_params
from providers.adapters.openai import chat_messages
from providers.interface import LLMRequest, PromptMessage, ToolDefinition
from providers.options import validate_options

pytestmark = [pytest.mark.core]

COMPUTER = ToolDefinition(
    "computer",
    "Use the desktop.",
    {"type": "object", "properties": {"action": {"type": "string"}}, "required": ["action"]},
    native={"type": "computer", "display_width_px": 1024, "display_height_px": 640},
)
PNG = b"\x89PNG\r\n\x1a\n" + b"pixels"


def screenshot_result(call_id: str, data: bytes | None = PNG) -> dict:
    part = {
        "type": "tool_result", "tool_call_id": call_id, "tool_name": "computer",
        "result": {"text": "clicked", "file_id": "f-" + call_id, "media_type": "image/png"},
        "is_error": False, "provider_executed": False, "is_media": True,
    }  # fmt: skip
    return {**part, "data": data} if data is not None else part


def conversation(*call_ids: str) -> list[PromptMessage]:
    messages = [PromptMessage("user", [{"type": "text", "text": "click it"}])]
    for call_id in call_ids:
        call = {"type": "tool_call", "tool_call_id": call_id, "tool_name": "computer",
                "args": {"action": "screenshot"}, "provider_executed": False}  # fmt: skip
        messages += [PromptMessage("assistant", [call]), PromptMessage("tool", [screenshot_result(call_id)])]
    return messages


@pytest.mark.parametrize(
    ("version", "beta"),
    [("computer_20250124", "computer-use-2025-01-24"), ("computer_20251124", "computer-use-2025-11-24")],
)
def test_anthropic_gets_its_computer_tool_in_the_configured_version(version: str, beta: str) -> None:
    options = validate_options("anthropic", {"computer_use": version})
    sent = anthropic_params(LLMRequest("claude", conversation(), tools=[COMPUTER], options=options))
    tool = sent["tools"][0]
    assert {k: tool[k] for k in ("type", "name", "display_width_px", "display_height_px")} == {
        "type": version, "name": "computer", "display_width_px": 1024, "display_height_px": 640,
    }  # fmt: skip
    assert "input_schema" not in tool
    assert sent["extra_headers"] == {"anthropic-beta": beta}


def test_no_beta_header_without_the_computer_tool() -> None:
    plain = ToolDefinition("echo", "Echo.", {"type": "object"})
    assert "extra_headers" not in anthropic_params(LLMRequest("claude", conversation(), tools=[plain]))
    with pytest.raises(ValueError):
        validate_options("anthropic", {"computer_use": "computer_19990101"})


def test_a_screenshot_goes_to_anthropic_as_an_image_in_the_tool_result() -> None:
    sent = anthropic_params(LLMRequest("claude", conversation("c1"), tools=[COMPUTER]))
    block = sent["messages"][-1]["content"][0]
    assert block["type"] == "tool_result" and block["tool_use_id"] == "c1"
    text, image = block["content"]
    assert text["text"] == "clicked"
    assert image["type"] == "image" and image["source"]["media_type"] == "image/png"
    assert base64.b64decode(image["source"]["data"]) == PNG


def test_other_vendors_get_a_function_and_the_screenshot_as_text() -> None:
    messages = chat_messages(conversation("c1"))
    tool_message = messages[-1]
    assert tool_message["role"] == "tool" and json.loads(tool_message["content"])["file_id"] == "f-c1"


def test_only_the_latest_screenshots_keep_their_bytes() -> None:
    trimmed = recent_media_only(conversation("c1", "c2", "c3", "c4", "c5"), keep=3)
    kept = [p["tool_call_id"] for m in trimmed for p in m.parts if p.get("data")]
    assert kept == ["c3", "c4", "c5"]
    sent = anthropic_params(LLMRequest("claude", trimmed, tools=[COMPUTER]))
    contents = [b["content"] for m in sent["messages"] for b in m["content"] if b["type"] == "tool_result"]
    assert [isinstance(c, list) for c in contents] == [False, False, True, True, True]
