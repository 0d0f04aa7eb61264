"""The SSE reader: lines however the body is split, events as the spec frames them."""

from __future__ import annotations

import pytest

from providers.adapters.sse import ServerSentEvent, events, lines
from providers.interface import ProviderError

pytestmark = pytest.mark.core

BODY = (
    b": a comment\r\n"
    b"event: first\r\n"
    b'data: {"a": 1,\r\n'
    b'data: "b": 2}\r\n'
    b"id: 7\r\n"
    b"retry: 100\r\n"
    b"\r\n"
    b"data: cr only\r"
    b"\r"
    b"data: plain\n"
    b"unknown: field\n"
    b"data:no space\n"
    b"\n"
)
EXPECTED = [
    ServerSentEvent("first", '{"a": 1,\n"b": 2}'),
    ServerSentEvent("", "cr only"),
    ServerSentEvent("", "plain\nno space"),
]


def test_events_join_data_lines_and_skip_comments_and_other_fields() -> None:
    assert list(events([BODY])) == EXPECTED


def test_events_do_not_depend_on_where_the_body_is_split() -> None:
    for at in range(1, len(BODY)):
        assert list(events([BODY[:at], b"", BODY[at:]])) == EXPECTED, f"split at {at}"


def test_events_read_byte_by_byte_are_the_same() -> None:
    assert list(events(BODY[i : i + 1] for i in range(len(BODY)))) == EXPECTED


def test_a_crlf_split_after_its_cr_is_one_line_end() -> None:
    assert list(lines([b"a\r", b"\nb\r", b"\n", b"\n"])) == [b"a", b"b", b""]


def test_an_event_the_stream_ends_in_the_middle_of_is_dropped() -> None:
    assert list(events([b'data: whole\n\ndata: {"cut'])) == [ServerSentEvent("", "whole")]


def test_data_that_is_not_utf8_is_malformed() -> None:
    with pytest.raises(ProviderError) as caught:
        list(events([b"data: \xff\xfe\n\n"]))
    assert caught.value.kind == "malformed"
