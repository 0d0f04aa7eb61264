from __future__ import annotations

import pytest

from chats.errors import InvalidInput
from chats.parts import fallback_title, input_to_parts

pytestmark = pytest.mark.core


def _no_files(file_id: object) -> tuple[str, str]:
    raise InvalidInput("no files here")


def test_a_string_becomes_one_text_part() -> None:
    assert input_to_parts("hello", resolve_file=_no_files) == [{"type": "text", "text": "hello"}]


@pytest.mark.parametrize("content", ["", "   ", [], [{"type": "text", "text": " \n"}], [{"type": "image"}], [1], 5])
def test_blank_or_malformed_content_is_refused(content: object) -> None:
    with pytest.raises(InvalidInput):
        input_to_parts(content, resolve_file=_no_files)


def test_file_parts_take_type_and_name_from_the_stored_file() -> None:
    parts = input_to_parts([{"type": "file", "file_id": "f1"}], resolve_file=lambda _id: ("image/png", "a.png"))
    assert parts == [{"type": "file", "file_id": "f1", "media_type": "image/png", "name": "a.png"}]


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("", "New Chat"),
        ("Fix the flaky test", "Fix the flaky test"),
        ("one two three four five six seven", "one two three four five six…"),
        ("x" * 100, "x" * 79 + "…"),
    ],
)
def test_fallback_title_is_the_first_six_words(text: str, title: str) -> None:
    assert fallback_title(text) == title
