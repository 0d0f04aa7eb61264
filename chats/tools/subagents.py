"""Sub-agent tools (reference §11): a root chat delegates work to child chats and waits for them.

Children share the owner, workspace and model of their parent, run through the same queue and
workers, and never get these tools themselves (depth 1).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from django.db import close_old_connections

from chats import services, worker
from chats.enums import BUSY_STATUSES, BusyBehavior, ChatStatus, Role
from chats.models import Chat, Message, QueuedMessage
from chats.parts import parts_text
from chats.tools import recordings
from config.api_errors import APIError
from workspaces.tools.base import Tool, ToolContext, ToolResult

DEFAULT_WAIT_SECONDS = 300
FALLBACK_POLL_SECONDS = 5.0  # status pings wake the wait; this only covers a lost ping
CHAT_ID = {"type": "string", "description": "The sub-agent's chat id (from spawn_agent)."}


class _SubagentTool(Tool):
    root_only = True

    def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        try:
            return self.act(args, ctx)
        except APIError as exc:
            return ToolResult.error(str(exc.detail))
        finally:
            close_old_connections()  # tool threads are short-lived: give the connection back

    def act(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        raise NotImplementedError

    @staticmethod
    def child(ctx: ToolContext, chat_id: str) -> Chat | ToolResult:
        """The caller's own sub-agent, or an error result the model can read."""
        try:
            child_id = uuid.UUID(str(chat_id))
        except ValueError:
            return ToolResult.error(f"chat_id must be a UUID, got {chat_id!r}")
        child = Chat.objects.filter(pk=child_id, parent_id=ctx.chat_id).first()
        if child is None:
            return ToolResult.error(f"{chat_id} is not a sub-agent of this chat")
        return child


class _SpawnTool(_SubagentTool):
    """A tool that starts a sub-agent of the calling root chat; subclasses say how (`spawn`)."""

    parameters = {
        "type": "object",
        "properties": {
            "prompt": {"type": "string", "minLength": 1, "description": "The complete task, with all context."},
            "title": {"type": "string", "description": "A short title for the sub-agent's chat."},
        },
        "required": ["prompt"],
        "additionalProperties": False,
    }

    def act(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        parent = Chat.objects.select_related("owner").get(pk=ctx.chat_id)
        if parent.parent_id is not None:
            return ToolResult.error("delegated chats cannot create child subagents")
        child = self.spawn(parent, args, ctx)
        if isinstance(child, ToolResult):
            return child
        return ToolResult({"chat_id": str(child.pk), "title": child.title, "status": child.status})

    def spawn(self, parent: Chat, args: dict[str, Any], ctx: ToolContext) -> Chat | ToolResult:
        raise NotImplementedError


class _ChildTool(_SubagentTool):
    """A tool acting on one of the caller's sub-agents, named by `chat_id`."""

    def act(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        child = self.child(ctx, args["chat_id"])
        return child if isinstance(child, ToolResult) else self.act_on(child, args, ctx)

    def act_on(self, child: Chat, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        raise NotImplementedError


def _busy(child: Chat) -> bool:
    """Running, about to run, or stopped with a queued message it will run next (interrupt)."""
    child.refresh_from_db(fields=["status", "title", "last_error"])
    busy = child.status in BUSY_STATUSES or (
        child.status == ChatStatus.WAITING and QueuedMessage.objects.filter(chat=child).exists()
    )
    close_old_connections()
    return busy


def _sleep_until_change(changed: Any, ctx: ToolContext, deadline: float) -> None:
    """Until a status ping, an interrupt, the deadline or the fallback poll, whichever is first."""
    wake_at = min(deadline, time.monotonic() + FALLBACK_POLL_SECONDS)
    while not (changed.is_set() or ctx.cancelled.is_set()) and time.monotonic() < wake_at:
        changed.wait(0.2)
    changed.clear()


def _report(child: Chat) -> str:
    """The text of the child's latest visible assistant message."""
    last = Message.objects.user_visible().filter(chat=child, role=Role.ASSISTANT).order_by("-id").first()
    return parts_text(last.parts).strip() if last else ""


class SpawnAgent(_SpawnTool):
    name = "spawn_agent"
    description = (
        "Delegate a self-contained task to a new sub-agent that works in parallel, in the same workspace. "
        "Returns its chat_id; collect its report with wait_agent."
    )

    def spawn(self, parent: Chat, args: dict[str, Any], ctx: ToolContext) -> Chat | ToolResult:
        return services.chat_create(
            owner=parent.owner, content=args["prompt"], model_config_id=parent.model_config_id,
            workspace_id=ctx.workspace_id, parent=parent, title=args.get("title"),
        )  # fmt: skip


class WaitAgent(_ChildTool):
    name = "wait_agent"
    description = "Wait until a sub-agent has finished and return its final report."
    parameters = {
        "type": "object",
        "properties": {
            "chat_id": CHAT_ID,
            "timeout_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600},
        },
        "required": ["chat_id"],
        "additionalProperties": False,
    }

    def act_on(self, child: Chat, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        deadline = time.monotonic() + float(args.get("timeout_seconds", DEFAULT_WAIT_SECONDS))
        recording = recordings.recording_begin(child)  # computer-use children only
        with worker.status_changes(child.pk) as changed:
            while _busy(child):
                if ctx.cancelled.is_set():
                    return ToolResult.error("interrupted while waiting for the sub-agent", chat_id=str(child.pk))
                if time.monotonic() >= deadline:
                    return ToolResult.error(
                        "timed out waiting for delegated subagent completion", chat_id=str(child.pk)
                    )
                _sleep_until_change(changed, ctx, deadline)
        result = {"chat_id": str(child.pk), "title": child.title, "report": _report(child), "status": child.status}
        if recording:
            result.update(recordings.recording_finish(child))
        if child.status == ChatStatus.ERROR:
            return ToolResult({**result, "error": child.last_error or "agent reached error status"}, is_error=True)
        return ToolResult(result)


class MessageAgent(_ChildTool):
    name = "message_agent"
    description = "Send a follow-up message to a sub-agent; with interrupt=true it stops its current work first."
    parameters = {
        "type": "object",
        "properties": {
            "chat_id": CHAT_ID,
            "message": {"type": "string", "minLength": 1},
            "interrupt": {"type": "boolean"},
        },
        "required": ["chat_id", "message"],
        "additionalProperties": False,
    }

    def act_on(self, child: Chat, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        interrupt = bool(args.get("interrupt"))
        behavior = BusyBehavior.INTERRUPT if interrupt else BusyBehavior.QUEUE
        services.message_send(chat=child, user=child.owner, content=args["message"], busy_behavior=behavior)
        child.refresh_from_db(fields=["status"])
        return ToolResult(
            {"chat_id": str(child.pk), "title": child.title, "status": child.status, "interrupted": interrupt}
        )


class CloseAgent(_ChildTool):
    name = "close_agent"
    description = "Stop a sub-agent that is no longer needed."
    parameters = {
        "type": "object",
        "properties": {"chat_id": CHAT_ID},
        "required": ["chat_id"],
        "additionalProperties": False,
    }

    def act_on(self, child: Chat, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        child = services.chat_interrupt(chat=child)
        return ToolResult({"chat_id": str(child.pk), "title": child.title, "terminated": True, "status": child.status})


def subagent_tools() -> list[Tool]:
    return [SpawnAgent(), WaitAgent(), MessageAgent(), CloseAgent()]
