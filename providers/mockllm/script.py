"""What a mock reply is, and how it is chosen: scripts, inline directives, defaults."""

from __future__ import annotations

import json
import re
import shlex
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from providers.mockllm.sse import QUIRKS


@dataclass
class ToolCallSpec:
    id: str
    name: str
    args_chunks: list[str]


@dataclass
class WebSearchSpec:
    """A search the provider runs itself (Anthropic `server_tool_use`, OpenAI `web_search_call`)."""

    query: str
    results: list[tuple[str, str]] = field(default_factory=list)  # (url, title)
    citations: list[tuple[int, int, int]] = field(default_factory=list)  # (start, end, result index) in Reply.text
    error_code: str = ""  # e.g. max_uses_exceeded: the search failed and has no results
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:24])  # each format adds its own prefix


SEARCH_RESULTS = (("https://example.com/first", "First result"), ("https://example.org/second", "Second result"))


@dataclass
class Reply:
    """A vendor-neutral scripted reply; the format modules render it."""

    text_chunks: list[str] = field(default_factory=list)
    chunk_delay: float = 0.0
    reasoning_chunks: list[str] = field(default_factory=list)
    signature: str = ""
    tool_calls: list[ToolCallSpec] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)
    error_status: int | None = None
    error_message: str = ""
    retry_after: str | None = None
    stall_seconds: float = 0.0
    malformed: bool = False
    truncate: bool = False
    disconnect: bool = False  # drop the connection half-way, without ending the HTTP body
    stream_error_status: int | None = None  # an error reported inside the stream, half-way
    stream_error_message: str = ""
    quirks: tuple[str, ...] = ()  # see sse.QUIRKS
    finish_reason: str | None = None
    stamp: bool = False  # each text chunk carries the time it was sent (see STAMP)
    web_search: WebSearchSpec | None = None  # a provider-executed search before the text

    @property
    def text(self) -> str:
        return "".join(self.text_chunks)

    @property
    def reasoning(self) -> str:
        return "".join(self.reasoning_chunks)

    def finish(self) -> str:
        """Neutral finish reason: stop | tool_calls | length | pause (Anthropic's pause_turn)."""
        return self.finish_reason or ("tool_calls" if self.tool_calls else "stop")


@dataclass(frozen=True)
class Conversation:
    """What a request's messages say, as far as reply selection cares."""

    last_user_text: str
    tool_result: tuple[str, str] | None  # (tool name, result text) when the last message is one
    prompt_chars: int


def split_chunks(text: str, parts: int = 3) -> list[str]:
    """Split text into up to `parts` pieces (so every reply streams in several chunks)."""
    if not text:
        return []
    size = max(1, -(-len(text) // parts))
    return [text[i : i + size] for i in range(0, len(text), size)]


def new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:16]}"


def reply_from_spec(spec: dict[str, Any]) -> Reply:
    """A reply from its JSON form (see the package docstring)."""
    text = spec.get("text", "")
    reasoning = spec.get("reasoning", "")
    error = spec.get("error") or {}
    stream_error = spec.get("stream_error") or {}
    slow = spec.get("slow") or {}
    reply = Reply(
        text_chunks=list(text) if isinstance(text, list) else split_chunks(text),
        chunk_delay=float(spec.get("chunk_delay_ms", 0)) / 1000,
        reasoning_chunks=list(reasoning) if isinstance(reasoning, list) else split_chunks(reasoning),
        signature=spec.get("signature") or ("sig-" + uuid.uuid4().hex[:12] if reasoning else ""),
        tool_calls=[_tool_call_from_spec(call) for call in spec.get("tool_calls", [])],
        usage=dict(spec.get("usage") or {}),
        error_status=error.get("status"),
        error_message=error.get("message", ""),
        retry_after=None if error.get("retry_after") is None else str(error["retry_after"]),
        stall_seconds=float(spec.get("stall_seconds", 0)),
        malformed=bool(spec.get("malformed")),
        truncate=bool(spec.get("truncate")),
        disconnect=bool(spec.get("disconnect")),
        stream_error_status=stream_error.get("status"),
        stream_error_message=stream_error.get("message", ""),
        quirks=_quirks(spec.get("quirks") or []),
        finish_reason=spec.get("finish_reason"),
    )
    search = spec.get("web_search")
    if search:
        add_web_search(reply, search.get("query", "mock search"), search.get("error", ""))
    if slow:
        _make_slow(reply, int(slow.get("chunks", 10)), float(slow.get("delay_ms", 50)) / 1000)
    if spec.get("stamp"):
        _stamp(reply)
    return reply


def add_web_search(reply: Reply, query: str, error_code: str = "") -> None:
    """One provider-executed search for `query`, and the answer text: a sentence citing each of
    its two results, or (with an error code) a short apology and no results."""
    search = WebSearchSpec(query, error_code=error_code)
    if error_code:
        reply.text_chunks = split_chunks("The web search failed.")
    else:
        search.results = list(SEARCH_RESULTS)
        text = f"Here is what I found about {query}. "
        for index, (_, title) in enumerate(search.results):
            sentence = f"{title} says so. "
            search.citations.append((len(text), len(text) + len(sentence) - 1, index))
            text += sentence
        reply.text_chunks = split_chunks(text.rstrip())
    reply.web_search = search


def cited_segments(reply: Reply) -> list[tuple[str, int | None]]:
    """The reply's text cut at its citation spans: (text, cited result index or None)."""
    text, at = reply.text, 0
    segments: list[tuple[str, int | None]] = []
    for start, end, result in reply.web_search.citations if reply.web_search else []:
        if start > at:
            segments.append((text[at:start], None))
        segments.append((text[start:end], result))
        at = end
    if at < len(text):
        segments.append((text[at:], None))
    return segments


def _quirks(names: list[str]) -> tuple[str, ...]:
    unknown = set(names) - QUIRKS
    if unknown:
        raise ValueError(f"unknown quirks {sorted(unknown)}; known: {sorted(QUIRKS)}")
    return tuple(names)


def _tool_call_from_spec(call: dict[str, Any]) -> ToolCallSpec:
    chunks = call.get("args_chunks") or split_chunks(json.dumps(call.get("arguments", {})))
    return ToolCallSpec(call.get("id") or new_call_id(), call["name"], chunks or ["{}"])


def _make_slow(reply: Reply, chunks: int, delay: float) -> None:
    reply.text_chunks = reply.text_chunks or [f"chunk {i} " for i in range(chunks)]
    reply.chunk_delay = delay


# A stamped chunk ends with "@<epoch seconds, 6 decimals> ": the server writes the time at the
# moment the chunk goes onto the socket, so a client on the same machine can tell how long the
# chunk took to reach it (benchmarks). The placeholder survives every wire format's JSON as is.
STAMP = "{{sent_at}}"
STAMP_BYTES = STAMP.encode()


def _stamp(reply: Reply) -> None:
    reply.stamp = True
    reply.text_chunks = [f"{chunk}@{STAMP} " for chunk in reply.text_chunks]


def send_time() -> str:
    """What a stamp says: now, as epoch seconds with microseconds."""
    return f"{time.time():.6f}"


# Blanks, not \s, after the verb: a bare `mock: stamp` must not swallow the next line.
DIRECTIVE = re.compile(r"^\s*mock:[ \t]*(\w+)[ \t]*(.*)$", re.MULTILINE)


def reply_from_directives(text: str) -> Reply | None:
    """A reply from `mock: …` lines in the last user message, or None when there are none."""
    found = DIRECTIVE.findall(text)
    if not found:
        return None
    reply = Reply()
    for verb, rest in found:
        _apply_directive(reply, verb.lower(), rest.strip())
    if not (reply.text_chunks or reply.tool_calls or reply.error_status):
        reply.text_chunks = split_chunks("Mock reply.")
    if reply.stamp:  # after every directive, so `stamp` may come on any line
        _stamp(reply)
    return reply


def _apply_directive(reply: Reply, verb: str, rest: str) -> None:
    if verb == "text":
        reply.text_chunks = split_chunks(rest)
    elif verb == "reasoning":
        reply.reasoning_chunks, reply.signature = split_chunks(rest), "sig-" + uuid.uuid4().hex[:12]
    elif verb == "tool":
        name, _, args = rest.partition(" ")
        reply.tool_calls.append(ToolCallSpec(new_call_id(), name, split_chunks(args.strip() or "{}")))
    elif verb == "websearch":
        add_web_search(reply, rest or "mock search")
    elif verb == "slow":
        count, _, delay = rest.partition(" ")
        _make_slow(reply, int(count or 10), float(delay.strip().removesuffix("ms") or 50) / 1000)
    elif verb == "stall":
        reply.stall_seconds = float(rest.removesuffix("s") or 1)
    elif verb == "error":
        words = shlex.split(rest)
        reply.error_status = int(words[0]) if words else 500
        reply.retry_after = words[1] if len(words) > 1 else None
    elif verb == "stream_error":
        words = shlex.split(rest)
        reply.stream_error_status = int(words[0]) if words else 500
    elif verb == "quirks":
        reply.quirks = _quirks(rest.split())
    elif verb == "usage":
        names = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens")
        reply.usage = dict(zip(names, (int(n) for n in rest.split()), strict=False))
    elif verb in ("malformed", "truncate", "disconnect", "stamp"):
        setattr(reply, verb, True)


def default_reply(conversation: Conversation) -> Reply:
    """Unscripted: answer a tool result with a short summary, anything else with an echo."""
    if conversation.tool_result is not None:
        name, result = conversation.tool_result
        snippet = result if len(result) <= 200 else result[:200] + "…"
        return Reply(text_chunks=split_chunks(f"The tool {name} returned: {snippet}"))
    directed = reply_from_directives(conversation.last_user_text)
    if directed is not None:
        return directed
    said = conversation.last_user_text.strip()[:200] or "nothing"
    return Reply(text_chunks=split_chunks(f"Mock reply to: {said}"))


def usage_for(reply: Reply, conversation: Conversation) -> dict[str, int]:
    """Neutral usage (input excludes cache; output includes reasoning), scripted or estimated."""
    output = (len(reply.text) + len(reply.reasoning) + sum(len("".join(c.args_chunks)) for c in reply.tool_calls)) // 4
    usage = {
        "input_tokens": max(1, conversation.prompt_chars // 4),
        "output_tokens": max(1, output),
        "reasoning_tokens": len(reply.reasoning) // 4,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
    }
    usage.update(reply.usage)
    return usage


class ScriptBook:
    """Queued scripted replies, consumed FIFO by requests whose last user text matches."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: list[tuple[str | None, bool | None, deque[dict[str, Any]]]] = []

    def add(self, match: str | None, replies: list[dict[str, Any]], stream: bool | None = None) -> None:
        """`stream` limits the replies to streaming (True) or non-streaming (False) requests."""
        for spec in replies:
            reply_from_spec(spec)  # reject a bad spec when it is queued, not when it is used
        with self._lock:
            self._scripts.append((match, stream, deque(replies)))

    def reset(self) -> None:
        with self._lock:
            self._scripts.clear()

    def take(self, last_user_text: str, stream: bool) -> Reply | None:
        with self._lock:
            for match, only_stream, replies in self._scripts:
                if replies and (match is None or match in last_user_text) and only_stream in (None, stream):
                    spec = replies.popleft()
                    self._scripts = [s for s in self._scripts if s[2]]
                    return reply_from_spec(spec)
        return None


_FIND = re.compile(r"\{\{find (\d+) (.+?)\}\}")


def fill_from_request(reply: Reply, request_text: str) -> Reply:
    """Resolve `{{find N REGEX}}` in scripted tool-call arguments from the request itself.

    The N-th match's first group of REGEX in the raw request body replaces the placeholder, so a
    script can pass on an id an earlier tool returned (e.g. a sub-agent's chat_id).
    """
    for call in reply.tool_calls:
        joined = "".join(call.args_chunks)
        if "{{find " in joined:
            filled = _FIND.sub(lambda m: _nth_match(m.group(2), int(m.group(1)), request_text), joined)
            call.args_chunks = split_chunks(filled)
    return reply


def _nth_match(pattern: str, index: int, text: str) -> str:
    found = re.findall(pattern, text)
    return str(found[index]) if index < len(found) else ""
