"""Running one chat turn on this process: acquire, run the loop, release (reference §7).

The same code runs in a Celery worker thread (distributed) and in `serve`'s thread pool
(embedded). A per-process registry of running turns lets control pings, heartbeats and
shutdown reach each turn's RunControl.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from functools import partial
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, connections

from chats import selectors, services, streaming
from chats.agent import compaction, history, prompt, title
from chats.agent.control import CancelReason, RunControl
from chats.agent.loop import Outcome, Step, Turn, TurnFailed
from chats.enums import ChatMode
from chats.errors import InvalidInput
from chats.models import Chat, Message, UserPreferences
from chats.services import runs
from chats.services.common import resolve_model_config
from chats.tools.registry import tools_for
from costs import metrics
from providers.completions import adapter_for
from providers.interface import LLMRequest, PromptMessage, ProviderError
from providers.models import ModelConfig
from providers.selectors import computer_use_model
from workspaces.models import Workspace
from workspaces.services import workspace_instructions
from workspaces.tools.base import ToolContext

logger = logging.getLogger(__name__)

_runs: dict[str, tuple[uuid.UUID, RunControl]] = {}  # run id -> (chat id, its control)
_claiming: dict[str, bool] = {}  # runs of `_runs` still claiming their chat -> whether a ping came meanwhile
_watches: dict[str, streaming.ControlWatch] = {}  # run id -> its chat's control pings
_runs_lock = threading.Lock()
_heartbeat: threading.Thread | None = None


def run_chat(chat_id: uuid.UUID | str) -> None:
    """Acquire the chat if it is pending and run its turn to the end. Never raises."""
    chat_id = uuid.UUID(str(chat_id))
    try:
        ran = _claim_and_run(chat_id)
        if ran is not None:
            run_id, outcome, error = ran
            runs.run_release(chat_id=chat_id, outcome=outcome, error=error, worker_id=run_id)
    except Exception:  # e.g. the database went away: stale recovery will hand the chat on
        logger.exception("chat %s: acquire/release failed", chat_id)
    finally:
        _give_back_connection()


def _claim_and_run(chat_id: uuid.UUID) -> tuple[str, Outcome, str | None] | None:
    """Claim the chat and run its turn: (run id, outcome, error), or None when it was not pending.

    The run watches the chat's control pings from before the claim, so a status change right
    after the claim commits cannot go unheard; the row is re-checked only if a ping came while
    claiming (see `_on_run_ping`). Unregistered before returning, so its own release is no news to it.
    """
    run_id, control = runs.new_run_id(), RunControl()
    try:
        _register(run_id, chat_id, control)
        chat = runs.run_acquire(chat_id=chat_id, worker_id=run_id)
        if chat is None:
            return None
        _claimed(run_id, chat_id, control)
        try:
            return (run_id, *_run_turn(chat, control, run_id))
        except Exception as exc:  # a bug must end in `error`, never in a chat stuck running
            logger.exception("chat %s crashed", chat_id)
            return run_id, Outcome.COMPLETED, f"chat processing failed: {type(exc).__name__}: {exc}"
    finally:
        _unregister(run_id)


def _run_turn(chat: Chat, control: RunControl, run_id: str) -> tuple[Outcome, str | None]:
    try:
        model_config = _model_config(chat)
        adapter = adapter_for(model_config)
    except (ProviderError, ValueError, InvalidInput) as exc:
        message = exc.message if isinstance(exc, ProviderError) else str(getattr(exc, "detail", exc))
        return Outcome.COMPLETED, _fail(chat, ProviderError(message, kind="config"))
    tools = tools_for(is_root=chat.parent_id is None, mode=chat.mode, workspace_id=chat.workspace_id)
    definitions = [tool.definition() for tool in tools.values()]

    def build_request(messages: list[PromptMessage]) -> LLMRequest:
        return LLMRequest(
            model=model_config.model,
            messages=prompt.recent_media_only(messages),
            tools=definitions,
            options=model_config.options,
            max_output_tokens=model_config.effective_max_output_tokens,
        )

    def persist(step: Step) -> list[PromptMessage]:
        metrics.LLM_LATENCY.labels(model_config.model).observe(step.model_ms / 1000)
        stored = runs.run_persist_step(chat=chat, step=step, model_config=model_config, worker_id=run_id)
        _give_back_connection()
        if stored is None:
            control.cancel(CancelReason.SUPERSEDED)
            return []
        if not stored.still_running:
            control.cancel(CancelReason.INTERRUPT)
        if step.tool_parts:
            _publish_diff_status(chat)
        return history.to_prompt(stored.messages)

    def emit(event: dict[str, Any]) -> None:
        if event["type"] == "retry":
            metrics.RETRIES.labels(model_config.model).inc()
        _emit(chat.pk, event)

    preferences = UserPreferences.objects.filter(user_id=chat.owner_id).first()
    compactor = compaction.Compactor(
        adapter=adapter,
        model=model_config.model,
        context_limit=model_config.context_limit,
        threshold=compaction.threshold_percent(
            model_config.compaction_threshold_percent,
            (preferences.compaction_thresholds if preferences else {}).get(str(model_config.pk)),
        ),
        emit=emit,
        store=lambda summary: runs.run_persist_summary(
            chat_id=chat.pk, summary=summary, model_config=model_config, worker_id=run_id
        ),
        reload=lambda: _prompt(chat, preferences, history.prompt_rows(chat.pk)),
    )
    turn = Turn(
        adapter=adapter,
        tools=tools,
        tool_ctx=ToolContext(
            chat.pk,
            chat.owner_id,
            chat.workspace_id,
            chat.parent_id is None,
            control.event,
            bind_workspace=partial(_bind_workspace, chat),
        ),
        control=control,
        build_request=build_request,
        persist=persist,
        emit=emit,
        compact=compactor,
    )
    rows = history.prompt_rows(chat.pk)
    title.start_if_eligible(chat, model_config, rows)
    messages = _prompt(chat, preferences, rows)
    base = history.newest_id(rows)
    streaming.set_stream_base(chat.pk, selectors.last_message_id(chat=chat) if base is None else base)
    _give_back_connection()
    try:
        return turn.run(messages), None
    except TurnFailed as failed:
        return Outcome.COMPLETED, _fail(chat, failed.error)


def _model_config(chat: Chat) -> ModelConfig:
    """The chat's model if it still exists and is enabled, else the default (reference §2.6).
    Computer-use chats always run on the model configured for computer use (reference §10.5)."""
    if chat.mode == ChatMode.COMPUTER_USE:
        config = computer_use_model()
        if config is None:
            raise InvalidInput("No Anthropic model is configured for computer use.")
        return config
    if chat.model_config_id is not None:
        config = chat.model_config  # loaded with the chat by run_acquire
        if config is not None and config.enabled and config.provider.enabled:
            return config
    return resolve_model_config(None)


def _prompt(chat: Chat, preferences: UserPreferences | None, rows: list[Message]) -> list[PromptMessage]:
    """The model's prompt from the chat's `history.prompt_rows`, with the system blocks."""
    messages = history.to_prompt(rows)
    custom = preferences.custom_prompt if preferences else ""
    workspace = Workspace.objects.filter(pk=chat.workspace_id).first() if chat.workspace_id else None
    blocks = [
        prompt.SUBAGENT_INSTRUCTION if chat.parent_id else "",
        prompt.COMPUTER_USE_INSTRUCTION if chat.mode == ChatMode.COMPUTER_USE else "",
        workspace_instructions(workspace) if workspace else "",
        prompt.user_instructions(custom) if custom and custom.strip() else "",
    ]
    return prompt.inject_system(messages, blocks)


def _bind_workspace(chat: Chat, workspace_id: uuid.UUID) -> None:
    services.chat_bind_workspace(chat_id=chat.pk, workspace_id=workspace_id)
    chat.workspace_id = workspace_id
    _give_back_connection()


def _publish_diff_status(chat: Chat) -> None:
    """Best effort: a git hiccup must not fail the turn."""
    if chat.workspace_id is None:  # kept current by _bind_workspace
        return
    try:
        services.chat_publish_diff_status(chat=chat)
    except Exception:
        logger.exception("diff status of chat %s failed", chat.pk)
    finally:
        _give_back_connection()


def _fail(chat: Chat, error: ProviderError) -> str:
    _emit(chat.pk, {"type": "error", "error": error.as_dict()})
    return error.message


def _emit(chat_id: uuid.UUID, event: dict[str, Any]) -> None:
    if event["type"] == "stream_reset":
        return  # the retry event that follows tells clients to drop the partial step
    streaming.publish_chat_events(chat_id, [{**event, "chat_id": str(chat_id)}])


def _give_back_connection() -> None:
    """Hand the connection back to the pool between short transactions (distributed mode)."""
    if settings.DISTRIBUTED:
        connection.close()
    else:
        close_old_connections()


# --- the per-process registry of running turns --------------------------------------------


def _register(run_id: str, chat_id: uuid.UUID, control: RunControl) -> None:
    """Watch a run's chat before it claims the chat (`_claimed` tells when it has)."""
    with _runs_lock:
        _runs[run_id] = (chat_id, control)
        _claiming[run_id] = False
        _start_heartbeat()
    watch = streaming.watch_control(chat_id, partial(_on_run_ping, run_id))
    with _runs_lock:
        _watches[run_id] = watch


def _claimed(run_id: str, chat_id: uuid.UUID, control: RunControl) -> None:
    """The run owns its chat now. A ping that came while it claimed may be about a change
    after the claim (pings before it were for the previous state): check the row once."""
    with _runs_lock:
        pinged = _claiming.pop(run_id)
    if pinged:
        _check_row(run_id, chat_id, control)


def _unregister(run_id: str) -> None:
    with _runs_lock:
        _runs.pop(run_id, None)
        _claiming.pop(run_id, None)
        watch = _watches.pop(run_id, None)
    if watch is not None:
        watch.stop()


@contextlib.contextmanager
def status_changes(chat_id: uuid.UUID) -> Iterator[threading.Event]:
    """An event set whenever the chat's status changes (e.g. a sub-agent a tool waits for)."""
    changed = threading.Event()
    watch = streaming.watch_control(chat_id, changed.set)
    try:
        yield changed
    finally:
        watch.stop()


def _on_run_ping(run_id: str) -> None:
    """The run's chat changed: cancel the run if the row is no longer the run's to write."""
    with _runs_lock:
        run = _runs.get(run_id)
        if run is None or run[1].cancelled:
            return
        if run_id in _claiming:  # not ours yet: checking now would see someone else's chat
            _claiming[run_id] = True
            return
    _check_row(run_id, *run)


def _check_row(run_id: str, chat_id: uuid.UUID, control: RunControl) -> None:
    """Cancel the run if its chat's row says it is no longer the run's to write."""
    try:
        reason = runs.run_check(chat_id=chat_id, worker_id=run_id)
    finally:
        _give_back_connection()
    if reason is not None:
        control.cancel(reason)


def _start_heartbeat() -> None:
    global _heartbeat
    if _heartbeat is None or not _heartbeat.is_alive():
        _heartbeat = threading.Thread(target=_heartbeat_loop, name="chatd-heartbeat", daemon=True)
        _heartbeat.start()


def _heartbeat_loop() -> None:
    while True:
        time.sleep(settings.CHATD_HEARTBEAT_SECONDS)
        with _runs_lock:
            claimed = {run_id: run for run_id, run in _runs.items() if run_id not in _claiming}
        heartbeat(claimed)


HEARTBEAT_DB = "heartbeat"  # settings.DATABASES: the same database, one connection outside the pool


def heartbeat(beating: dict[str, tuple[uuid.UUID, RunControl]]) -> None:
    """Prove these runs ({run id: (chat id, control)}) alive; cancel those whose chat was taken.

    Runs on the heartbeat thread's own connection, so it never waits for a pooled one: the
    pool may be busy with a burst of claims, and a late heartbeat reads as a dead worker.
    """
    db = connections[HEARTBEAT_DB]
    try:
        if beating:
            ours = runs.run_heartbeats(runs={run: chat_id for run, (chat_id, _) in beating.items()}, using=HEARTBEAT_DB)
            for run_id in beating.keys() - ours:
                chat_id, control = beating[run_id]
                reason = runs.run_check(chat_id=chat_id, worker_id=run_id, using=HEARTBEAT_DB)
                control.cancel(reason or CancelReason.SUPERSEDED)
    except Exception:  # the database is away: runs carry on; stale recovery decides later
        logger.exception("heartbeat failed")
        db.close()  # perhaps broken: the next beat connects afresh
    finally:
        if not _runs:
            db.close()  # an idle process holds no connection


def shutdown_runs(timeout: float = 30.0) -> None:
    """Stop every turn on this process; they release their chats to `pending` for others."""
    for _, control in list(_runs.values()):
        control.cancel(CancelReason.SHUTDOWN)
    deadline = time.monotonic() + timeout
    while _runs and time.monotonic() < deadline:
        time.sleep(0.05)
