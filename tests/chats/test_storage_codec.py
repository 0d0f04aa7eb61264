from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chats.enums import Role
from chats.models import Chat, Message
from chats.storage_codec import decode_json, decode_text, encode_json, encode_text

pytestmark = pytest.mark.core

# Strings heavy in the characters the codec cares about, plus any Unicode scalar value.
tricky_text = st.text(
    alphabet=st.sampled_from(["\x00", "\ue000", "\ue001", "a", "é", "😀"]) | st.characters(codec="utf-8")
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | tricky_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(tricky_text, children, max_size=4),
    max_leaves=12,
)


@given(tricky_text)
def test_any_string_round_trips_and_never_contains_nul_when_encoded(text: str) -> None:
    encoded = encode_text(text)
    assert "\x00" not in encoded
    assert decode_text(encoded) == text


def test_unpaired_escape_is_kept_when_decoding() -> None:
    assert decode_text("a\ue000b") == "a\ue000b"


def test_lone_surrogates_become_replacement_characters() -> None:
    assert encode_text("x\ud800y") == "x\ufffdy"


@given(json_values)
def test_json_values_round_trip_keys_included(value: Any) -> None:
    assert decode_json(encode_json(value)) == value


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    parts=st.lists(st.fixed_dictionaries({"type": st.just("text"), "text": tricky_text}), min_size=1, max_size=3),
    extra=json_values,
)
def test_message_parts_round_trip_through_the_database(alice: Any, parts: list[dict[str, Any]], extra: Any) -> None:
    chat = Chat.objects.create(owner=alice)
    stored = [*parts, {"type": "tool_result", "tool_call_id": "c1", "tool_name": "t", "result": extra}]
    message = Message.objects.create(chat=chat, role=Role.TOOL, parts=stored)
    assert Message.objects.get(pk=message.pk).parts == stored
