"""Server-sent events read straight off a streaming HTTP response, as plain strings.

The SDKs build and send stream requests and raise their HTTP status errors, but their
streams turn every event into typed pydantic models: with openai that costs ~0.1 ms of CPU
per delta, eight times the `json.loads` of its data. So the OpenAI (Chat Completions,
Responses) and Anthropic adapters read the body here and decode each event's data themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import httpx2

from providers.adapters.common import malformed
from providers.interface import ProviderError


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    event: str  # "" when the event has no `event:` field
    data: str


def read_events(response: httpx2.Response) -> Iterator[ServerSentEvent]:
    """The events of a streaming response. Raises ProviderError (retryable) when the
    connection fails or times out while reading (the openai SDK's stream did so too; the
    anthropic one let the httpx error through)."""
    try:
        yield from events(response.iter_bytes())
    except httpx2.TimeoutException as exc:
        raise ProviderError("request to the provider timed out", kind="timeout", retryable=True) from exc
    except httpx2.RequestError as exc:
        raise ProviderError(f"connection error: {exc}", kind="connection", retryable=True) from exc


def events(chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
    """Events as the SSE spec frames them: an event ends at a blank line, its `data:` lines are
    joined with newlines; comments, `id:`, `retry:` and unknown fields are skipped, and an
    event the stream ends in the middle of is dropped."""
    event = b""
    data: list[bytes] = []
    for line in lines(chunks):
        if not line:
            if data or event:
                yield _decoded(event, data)
                event, data = b"", []
            continue
        name, _, value = line.partition(b":")
        if value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            data.append(value)
        elif name == b"event":
            event = value


def lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Lines without their ends (CRLF, LF or CR), wherever the chunks split them."""
    pending = b""  # the start of a line whose end has not arrived yet
    after_cr = False  # the last chunk ended with CR: a LF starting the next one belongs to it
    for chunk in chunks:
        if after_cr and chunk[:1] == b"\n":
            chunk, after_cr = chunk[1:], False
        if not chunk:
            continue
        after_cr = chunk[-1] == 13
        text = pending + chunk if pending else chunk
        found = text.splitlines()
        pending = b"" if chunk[-1] in b"\r\n" else found.pop()
        yield from found
    if pending:
        yield pending


def _decoded(event: bytes, data: list[bytes]) -> ServerSentEvent:
    try:
        return ServerSentEvent(event.decode(), b"\n".join(data).decode())
    except UnicodeDecodeError as exc:
        raise malformed(f"event data is not UTF-8: {exc}") from exc
