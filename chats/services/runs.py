"""A worker's writes on the chats it runs (reference §3, §7, §8.4).

Every write re-checks ownership under the row lock: a worker that lost its chat (interrupt,
edit, takeover by another worker after a stale heartbeat) must not write anything more.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from chats import push, streaming
from chats.agent import compaction
from chats.agent.compaction import Summary
from chats.agent.control import CancelReason
from chats.agent.loop import Outcome, Step
from chats.enums import ChatStatus, Role, Visibility
from chats.models import Chat, Message, PushSubscription, QueuedMessage
from chats.serializers import message_event, status_event
from chats.services.common import lock_chat, promote_queued, set_status, sidebar_chat
from costs import services as costs
from costs.pricing import cost_micros, prices_snapshot
from providers.models import ModelConfig

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def new_run_id() -> str:
    """The identity a run writes under: this process, plus one run of it. Two runs of the same
    chat in one process (an edit whose new run lands where the old one still winds down) must
    not pass each other's ownership checks."""
    return f"{WORKER_ID}:{uuid.uuid4().hex[:8]}"


def run_acquire(*, chat_id: uuid.UUID, worker_id: str | None = None) -> Chat | None:
    """Claim a pending chat (compare-and-set) as `worker_id` (a new run id by default); None
    when it is not pending (any more). The returned chat's `worker_id` is the run's identity;
    its `model_config` (with the provider) is loaded."""
    worker_id = worker_id or new_run_id()
    with transaction.atomic():
        # The turn's model config and provider come along (not locked), sparing the turn a query.
        claimable = Chat.objects.select_for_update(of=("self",)).select_related("model_config__provider")
        chat = claimable.filter(pk=chat_id, status=ChatStatus.PENDING, archived=False).first()
        if chat is None:
            return None
        now = timezone.now()
        recovered = chat.recovered
        Chat.objects.filter(pk=chat.pk).update(
            status=ChatStatus.RUNNING, worker_id=worker_id, started_at=now, heartbeat_at=now, updated_at=now,
            last_error=None, recovered=False,
        )  # fmt: skip
        chat.status, chat.worker_id, chat.started_at, chat.heartbeat_at = ChatStatus.RUNNING, worker_id, now, now
        chat.updated_at, chat.last_error, chat.recovered = now, None, False
        event, sidebar = status_event(chat, recovered=recovered), sidebar_chat(chat)
        transaction.on_commit(lambda: streaming.publish_chat_events(chat.id, [event]))
        transaction.on_commit(lambda: streaming.publish_sidebar_event(chat.owner_id, "status_change", sidebar))
    return chat


def run_check(*, chat_id: uuid.UUID, worker_id: str, using: str = DEFAULT_DB_ALIAS) -> CancelReason | None:
    """None while the run is still ours; otherwise why it must stop."""
    row = Chat.objects.using(using).filter(pk=chat_id).values("status", "worker_id").first()
    if row is None:
        return CancelReason.SUPERSEDED
    if row["status"] == ChatStatus.RUNNING and row["worker_id"] == worker_id:
        return None
    return CancelReason.INTERRUPT if row["status"] == ChatStatus.WAITING else CancelReason.SUPERSEDED


def run_heartbeat(*, chat_id: uuid.UUID, worker_id: str) -> bool:
    """Prove the run is alive; False when the chat is no longer ours (0 rows updated)."""
    return worker_id in run_heartbeats(runs={worker_id: chat_id})


def run_heartbeats(*, runs: dict[str, uuid.UUID], using: str = DEFAULT_DB_ALIAS) -> set[str]:
    """One heartbeat for all of a process's runs ({run id: chat id}), in two statements on
    database alias `using` (the worker's heartbeat thread passes its own connection's).

    Returns the run ids whose chat is still theirs; the others were taken away and must stop.
    """
    if not runs:
        return set()
    pairs = Q()
    for run_id, chat_id in runs.items():
        pairs |= Q(pk=chat_id, worker_id=run_id)
    ours = Chat.objects.using(using).filter(pairs, status=ChatStatus.RUNNING)
    ours.update(heartbeat_at=timezone.now())
    return {run_id for run_id in ours.values_list("worker_id", flat=True) if run_id}


@dataclass(frozen=True)
class Persisted:
    messages: list[Message]
    still_running: bool


def run_persist_step(*, chat: Chat, step: Step, model_config: ModelConfig | None, worker_id: str) -> Persisted | None:
    """Store a step of the run's `chat` atomically: one assistant row with usage and cost, one
    row per tool result.

    Allowed while we own the chat, or once a user interrupt made it `waiting` (the history is
    intact, so the partial answer belongs in it). None when the write must not happen.
    The ownership check is the first statement, an UPDATE that touches `updated_at` only where
    the row allows the write: it takes the row lock a SELECT FOR UPDATE would, and waits for a
    concurrent status change as one would, in one statement instead of two. Only the chat's
    immutable fields (id, owner, root) are read from `chat`.
    """
    with transaction.atomic():
        now, chat_row = timezone.now(), Chat.objects.filter(pk=chat.pk)
        owned = bool(chat_row.filter(status=ChatStatus.RUNNING, worker_id=worker_id).update(updated_at=now))
        if not owned and not chat_row.filter(status=ChatStatus.WAITING).update(updated_at=now):
            return None
        assistant = _assistant_row(chat, step, model_config)
        rows = [row for row in [assistant, *_tool_rows(chat, step, model_config)] if row.parts]
        Message.objects.bulk_create(rows)
        _record_usage(chat, step, assistant, stored=bool(assistant.parts))
        events = [message_event(row) for row in rows]
        transaction.on_commit(lambda: streaming.publish_chat_events(chat.id, events))
    return Persisted(rows, still_running=owned)


def _assistant_row(chat: Chat, step: Step, model_config: ModelConfig | None) -> Message:
    usage = step.usage
    counts = {
        "input_tokens": usage.input_tokens if usage else None,
        "output_tokens": usage.output_tokens if usage else None,
        "reasoning_tokens": usage.reasoning_tokens if usage else None,
        "cache_read_tokens": usage.cache_read_tokens if usage else None,
        "cache_write_tokens": usage.cache_write_tokens if usage else None,
    }
    prices = model_config.prices() if model_config else {}
    return Message(
        chat=chat,
        role=Role.ASSISTANT,
        parts=step.assistant_parts,
        visibility=Visibility.BOTH,
        model_config=model_config,
        **{field: count or None for field, count in counts.items()},  # zero stored as NULL
        usage_raw=usage.raw if usage else None,
        context_limit=model_config.context_limit if model_config else None,
        cost_micros=cost_micros(counts, prices) if prices else None,
        pricing=prices_snapshot(prices) if prices else None,
        runtime_ms=step.runtime_ms,
    )


def _record_usage(chat: Chat, step: Step, assistant: Message, *, stored: bool) -> None:
    """The step's ledger entry; the root chat's last step (no tool calls) ends the turn."""
    costs.usage_record(
        user_id=chat.owner_id,
        chat_id=chat.pk,
        root_chat_id=chat.root_chat_id,
        message_id=assistant.pk if stored else None,
        model_config=assistant.model_config,
        tokens={field: getattr(assistant, field) for field in costs.TOKEN_FIELDS},
        cost_micros=assistant.cost_micros,
        pricing=assistant.pricing,
        usage_raw=assistant.usage_raw,
        ends_turn=chat.root_chat_id == chat.pk and (step.interrupted or not step.tool_parts),
    )


def _tool_rows(chat: Chat, step: Step, model_config: ModelConfig | None) -> list[Message]:
    return [
        Message(chat=chat, role=Role.TOOL, parts=[part], visibility=Visibility.BOTH, model_config=model_config)
        for part in step.tool_parts
    ]


def run_release(*, chat_id: uuid.UUID, outcome: Outcome, worker_id: str, error: str | None = None) -> None:
    """End a run (reference §3): waiting (promoting the next queued message), error, or back
    to pending on shutdown. Does nothing when another worker took the chat or someone already
    made it pending."""
    with transaction.atomic():
        chat = _lock_for_release(chat_id)
        ours = chat.status == ChatStatus.RUNNING and chat.worker_id == worker_id
        if (chat.status == ChatStatus.RUNNING and not ours) or chat.status == ChatStatus.PENDING:
            return
        if outcome in (Outcome.SHUTDOWN, Outcome.SUPERSEDED):
            if ours:
                set_status(chat, ChatStatus.PENDING)
            return
        if error is not None:
            if ours:
                set_status(chat, ChatStatus.ERROR, error=error)
                _push_when_committed(chat, error=error)
            return
        # Waiting, unless a queued message runs next; an interrupted run finds the chat waiting.
        if chat.status != ChatStatus.WAITING and set_status(chat, ChatStatus.WAITING, unless_queued=True):
            if outcome != Outcome.INTERRUPTED:
                _push_when_committed(chat, error=None)
            return
        promote_next_queued(chat)


def _lock_for_release(chat_id: uuid.UUID) -> Chat:
    """`lock_chat`, also reading whether the owner has push subscriptions (`owner_subscribed`),
    so that a release with nobody to notify spends no query on it."""
    subscribed = Exists(PushSubscription.objects.filter(user_id=OuterRef("owner_id")))
    return Chat.objects.select_for_update(of=("self",)).annotate(owner_subscribed=subscribed).get(pk=chat_id)


def _push_when_committed(chat: Chat, *, error: str | None) -> None:
    """A root chat's run ended by itself (not an interrupt, nothing queued): tell the owner
    (if any browser of theirs is subscribed; `chat` comes from `_lock_for_release`)."""
    if chat.parent_id is None and getattr(chat, "owner_subscribed", True):
        transaction.on_commit(partial(push.chat_finished, chat_id=chat.pk, owner_id=chat.owner_id, error=error))


def promote_next_queued(chat: Chat) -> bool:
    """Pop the oldest queued message into the history and go pending. Caller holds the lock."""
    queued = QueuedMessage.objects.filter(chat=chat).order_by("id").first()
    if queued is None:
        return False
    promote_queued(chat, queued)
    return True


def chats_recover_stale(*, stale_after: timedelta, spare_worker: str | None = None) -> list[uuid.UUID]:
    """Running chats whose worker stopped proving it is alive go back to pending (visibly).

    The runs of process `spare_worker` are left alone (this process's own, when it knows it is alive).
    """
    recovered = []
    cutoff = timezone.now() - stale_after
    with transaction.atomic():
        stale = Chat.objects.select_for_update(skip_locked=True).filter(
            status=ChatStatus.RUNNING, heartbeat_at__lt=cutoff
        )
        if spare_worker is not None:
            stale = stale.exclude(worker_id__startswith=f"{spare_worker}:")
        for chat in stale[:100]:
            Chat.objects.filter(pk=chat.pk).update(recovered=True)
            set_status(chat, ChatStatus.PENDING)
            recovered.append(chat.pk)
    return recovered


def chats_unclaimed(*, older_than: timedelta) -> list[uuid.UUID]:
    """Pending chats nobody picked up (a lost task message, or no runner when they were made)."""
    cutoff = timezone.now() - older_than
    with transaction.atomic():
        pending = Chat.objects.select_for_update(skip_locked=True).filter(
            status=ChatStatus.PENDING, archived=False, updated_at__lt=cutoff
        )
        return list(pending.order_by("updated_at").values_list("pk", flat=True)[:100])


def chats_promote_orphaned_queues(*, older_than: timedelta) -> list[uuid.UUID]:
    """Waiting chats left with a queue (their worker died between an interrupt and its release)."""
    cutoff = timezone.now() - older_than
    promoted = []
    with transaction.atomic():
        orphans = Chat.objects.select_for_update(skip_locked=True).filter(
            status=ChatStatus.WAITING,
            archived=False,
            updated_at__lt=cutoff,
            pk__in=QueuedMessage.objects.values("chat_id"),
        )
        for chat in orphans[:100]:
            if promote_next_queued(chat):
                promoted.append(chat.pk)
    return promoted


def run_persist_summary(
    *, chat_id: uuid.UUID, summary: Summary, model_config: ModelConfig | None, worker_id: str
) -> bool:
    """Store a compaction as three compressed rows in one transaction (reference §8.8):
    the hidden summary the model continues from, and the visible marker call and result."""
    with transaction.atomic():
        chat = lock_chat(chat_id)
        if not (chat.status == ChatStatus.RUNNING and chat.worker_id == worker_id):
            return False
        call = compaction.call_part(summary.call_id, summary.threshold_percent)
        result = compaction.result_part(summary.call_id, compaction.summary_result(summary), is_error=False)
        common = {"chat": chat, "compressed": True, "model_config": model_config}
        hidden = Message(role=Role.USER, visibility=Visibility.MODEL, **common,
                         parts=[{"type": "text", "text": compaction.SUMMARY_PREAMBLE + summary.text}])  # fmt: skip
        marker = Message(role=Role.ASSISTANT, visibility=Visibility.USER, parts=[call], **common)
        outcome = Message(role=Role.TOOL, visibility=Visibility.BOTH, parts=[result], **common)
        Message.objects.bulk_create([hidden, marker, outcome])
        events = [message_event(marker), message_event(outcome)]
        transaction.on_commit(lambda: streaming.publish_chat_events(chat.id, events))
    return True
