"""Fixtures for running real turns in the test process: an inline runner, recorded events,
and simple registered tools."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chats import runner, streaming
from chats.models import Chat
from chats.tools import registry
from tests.chats.push_fakes import PushService, serve_push
from workspaces.tools.base import Tool, ToolContext, ToolResult


class Recorder:
    """Every chat and sidebar event published, in order (thread-safe)."""

    def __init__(self) -> None:
        self.chat: list[dict[str, Any]] = []
        self.sidebar: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def of(self, chat_id: Any, kind: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self.chat if e["chat_id"] == str(chat_id) and kind in (None, e["type"])]


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()

    def chat_events(chat_id: Any, batch: list[dict[str, Any]]) -> None:
        with recorder._lock:
            recorder.chat.extend({**e, "chat_id": str(chat_id)} for e in batch)

    def sidebar_event(user_id: int, kind: str, chat: dict[str, Any]) -> None:
        with recorder._lock:
            recorder.sidebar.append({"kind": kind, "chat": chat})

    monkeypatch.setattr(streaming, "publish_chat_events", chat_events)
    monkeypatch.setattr(streaming, "publish_sidebar_event", sidebar_event)
    return recorder


@pytest.fixture
def inline_runner() -> Iterator[None]:
    """Pending chats run on threads of the test process, as in embedded `serve`."""
    runner.start_embedded(sweep=False)
    yield
    runner.stop_embedded()


class Echo(Tool):
    name = "echo"
    description = "Return the text it is given."
    parameters = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        return ToolResult({"echo": args["text"]})


@pytest.fixture
def echo_tool() -> Iterator[Echo]:
    tool = Echo()
    registry.TOOL_SOURCES.append(lambda: [tool])
    yield tool
    registry.TOOL_SOURCES.pop()


def wait_for(predicate: Callable[[], Any], *, timeout: float = 30, what: str = "condition") -> Any:
    """Poll until `predicate()` is truthy; a deadline, not a timing assertion."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def wait_status(chat: Chat, *statuses: str, timeout: float = 30) -> Chat:
    def reached() -> Chat | None:
        chat.refresh_from_db()
        return chat if chat.status in statuses else None

    return wait_for(reached, timeout=timeout, what=f"chat {chat.pk} to be {statuses} (is {chat.status})")


@pytest.fixture
def push_service(monkeypatch: pytest.MonkeyPatch) -> Iterator[PushService]:
    """A local stand-in for a browser push service (see push_fakes)."""
    yield from serve_push(monkeypatch)
