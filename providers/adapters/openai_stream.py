"""OpenAI streams (Chat Completions and Responses) read as the SDK reads them, without its models."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx2

from providers.adapters.common import malformed
from providers.adapters.sse import read_events
from providers.retry import error_from_text


def stream_data(response: httpx2.Response) -> Iterator[dict[str, Any]]:
    """Each event's decoded data, up to `data: [DONE]`. Data carrying an `error` raises it
    as a ProviderError with the message the SDK's APIError had (servers report failures
    mid-stream that way)."""
    for event in read_events(response):
        if event.data.startswith("[DONE]"):
            return
        data = json.loads(event.data)
        if not isinstance(data, dict):
            raise malformed(f"stream data is not an object: {event.data[:200]}")
        if data.get("error"):
            raise error_from_text(error_message(data["error"], "An error occurred during streaming"))
        yield data


def error_message(body: object, fallback: str) -> str:
    """The message of an error body (`{"error": {"message": …}}` or the inner object)."""
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
    return fallback
