"""File parts in vendor shapes where the vendor has limits of its own."""

from __future__ import annotations

import pytest

from providers.adapters.anthropic import MAX_IMAGE_BYTES, anthropic_messages
from providers.interface import PromptMessage

pytestmark = pytest.mark.core


def test_anthropic_gets_a_note_instead_of_an_image_over_its_limit() -> None:
    big = {"type": "file", "file_id": "f1", "media_type": "image/png", "name": "huge.png",
           "data": b"\x89PNG" + b"\x00" * MAX_IMAGE_BYTES}  # fmt: skip
    small = {**big, "file_id": "f2", "name": "small.png", "data": b"\x89PNG\x00"}
    _, messages = anthropic_messages([PromptMessage("user", [big, small])])
    blocks = messages[0]["content"]
    assert blocks[0]["type"] == "text" and "huge.png omitted" in blocks[0]["text"]
    assert blocks[1]["type"] == "image" and blocks[1]["source"]["media_type"] == "image/png"
