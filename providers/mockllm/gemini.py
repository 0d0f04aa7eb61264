"""Gemini wire format (`:streamGenerateContent?alt=sse` and `:generateContent`).

Gemini sends each function call whole, so tool arguments are not split across chunks.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

from providers.mockllm.script import Conversation, Reply, usage_for
from providers.mockllm.sse import Frame, paced, sse

MALFORMED = b'data: {"candidates": [{"content": \n\n'
FINISH = {"stop": "STOP", "tool_calls": "STOP", "length": "MAX_TOKENS"}
STATUSES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    429: "RESOURCE_EXHAUSTED",
    503: "UNAVAILABLE",
}


def conversation(body: dict[str, Any]) -> Conversation:
    contents = body.get("contents") or []
    user_texts = [t for c in contents if c.get("role", "user") == "user" and (t := _text(c))]
    tool_result = None
    last_parts = contents[-1].get("parts", []) if contents else []
    responses = [p["functionResponse"] for p in last_parts if "functionResponse" in p]
    if responses:
        tool_result = (responses[-1].get("name", "tool"), json.dumps(responses[-1].get("response", {})))
    return Conversation(user_texts[-1] if user_texts else "", tool_result, len(json.dumps(contents)))


def _text(content: dict[str, Any]) -> str:
    return "".join(p.get("text", "") for p in content.get("parts", []) if not p.get("thought"))


def usage(reply: Reply, conv: Conversation) -> dict[str, int]:
    u = usage_for(reply, conv)
    prompt = u["input_tokens"] + u["cache_read_tokens"]
    return {
        "promptTokenCount": prompt,
        "cachedContentTokenCount": u["cache_read_tokens"],
        "candidatesTokenCount": u["output_tokens"] - u["reasoning_tokens"],
        "thoughtsTokenCount": u["reasoning_tokens"],
        "totalTokenCount": prompt + u["output_tokens"],
    }


def _chunk(body: dict[str, Any], parts: list[dict[str, Any]], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if extra and "finishReason" in extra:
        candidate["finishReason"] = extra["finishReason"]
    result = {
        "candidates": [candidate],
        "modelVersion": body.get("model", "gemini-mock"),
        "responseId": uuid.uuid4().hex,
    }
    if extra and "usageMetadata" in extra:
        result["usageMetadata"] = extra["usageMetadata"]
    return result


def _parts(reply: Reply) -> Iterator[list[dict[str, Any]]]:
    for piece in reply.reasoning_chunks:
        yield [{"text": piece, "thought": True}]
    for piece in reply.text_chunks:
        yield [{"text": piece}]
    calls = [
        {"functionCall": {"id": c.id, "name": c.name, "args": json.loads("".join(c.args_chunks))}}
        for c in reply.tool_calls
    ]
    if calls:
        yield calls


def stream(reply: Reply, conv: Conversation, body: dict[str, Any]) -> Iterator[Frame]:
    model = {"model": body.get("model", "gemini-mock")}
    yield from paced((sse(_chunk(model, parts)) for parts in _parts(reply)), reply.chunk_delay)
    final = {"finishReason": FINISH.get(reply.finish(), reply.finish()), "usageMetadata": usage(reply, conv)}
    yield sse(_chunk(model, [], final))


def complete(reply: Reply, conv: Conversation, body: dict[str, Any]) -> dict[str, Any]:
    parts = [part for chunk in _parts(reply) for part in chunk]
    final = {"finishReason": FINISH.get(reply.finish(), reply.finish()), "usageMetadata": usage(reply, conv)}
    return _chunk({"model": "gemini-mock"}, parts, final)


def stream_error(status: int, message: str) -> bytes:
    """A failure reported inside a 200 stream: a chunk carrying an `error`."""
    return sse(error(status, message))


def error(status: int, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": STATUSES.get(status, "INTERNAL")}}
