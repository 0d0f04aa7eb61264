"""Driving `mockllm` from tests: queue scripted replies, read what the server received."""

from __future__ import annotations

from typing import Any

import httpx

from providers.mockllm import MockLLMServer


def script(
    server: MockLLMServer, *replies: dict[str, Any], match: str | None = None, stream: bool | None = None
) -> None:
    """Queue replies for requests whose last user text contains `match`; `stream` True/False
    keeps them for streaming (chat turns) or non-streaming (titles, summaries) calls."""
    body = {"match": match, "stream": stream, "replies": list(replies)}
    httpx.post(server.url + "/_mock/script", json=body).raise_for_status()


def recorded(server: MockLLMServer) -> list[dict[str, Any]]:
    return list(httpx.get(server.url + "/_mock/requests").json()["requests"])


def reset(server: MockLLMServer) -> None:
    httpx.post(server.url + "/_mock/reset").raise_for_status()
