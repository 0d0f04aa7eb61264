"""Web Push to a chat's owner when a root chat's run ends (reference §13).

`chat_finished` is called after the release commits, on the worker's thread; everything slow
(the summary model call, the push services) happens on a small pool of this process, so a
turn never waits for a browser's push service. Finished: the body is a one-sentence summary
of the agent's last message by a cheap model. Error: the body is the error. Interrupts,
auto-promoted queues and sub-agents send nothing (the caller decides).
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import re
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.db import connection
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from chats.agent import title as titles
from chats.enums import Role
from chats.models import Chat, Message, PushSubscription
from chats.parts import parts_text
from config import vapid
from providers.completions import complete_text
from providers.interface import ProviderError
from providers.models import ModelConfig

logger = logging.getLogger(__name__)

FINISHED_FALLBACK = "Agent has finished running."
ERROR_FALLBACK = "Agent encountered an error."
SUMMARY_TIMEOUT_SECONDS = 30
SUMMARY_MAX_TOKENS = 256
MAX_BODY_CHARS = 100
LAST_MESSAGE_CHARS = 4000
SEND_TIMEOUT_SECONDS = 10
TTL_SECONDS = 24 * 3600  # a browser offline for longer does not need to hear about it
GONE = (404, 410)  # the push service says the subscription no longer exists
SUMMARY_PROMPT = (
    "You write the text of a phone notification about a coding agent's work. In one plain sentence "
    "of at most 100 characters, say what the agent did or found, from its final message. No markdown, "
    "quotes, emoji or preamble."
)

_senders = ThreadPoolExecutor(max_workers=4, thread_name_prefix="chat-push")
_pending: set[Future[None]] = set()
_pending_lock = threading.Lock()


def chat_finished(*, chat_id: uuid.UUID, owner_id: int, error: str | None) -> None:
    """Notify the owner's browsers that the run ended (`error` set: it failed). Never raises."""
    try:
        if not PushSubscription.objects.filter(user_id=owner_id).exists():
            return  # nobody listens: skip the summary call too
    except Exception:
        logger.exception("push subscriptions of user %s could not be read", owner_id)
        return
    future = _senders.submit(_notify, chat_id, error)
    with _pending_lock:
        _pending.add(future)
    future.add_done_callback(_forget)


def _forget(future: Future[None]) -> None:
    with _pending_lock:
        _pending.discard(future)


def flush(timeout: float = 60) -> None:
    """Wait for the notifications already handed over (a clean shutdown; tests)."""
    with _pending_lock:
        futures = list(_pending)
    wait(futures, timeout=timeout)


def public_key() -> str:
    """The VAPID public key browsers subscribe with (`applicationServerKey`), base64url."""
    point = _vapid().public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return _b64url(point)


def _notify(chat_id: uuid.UUID, error: str | None) -> None:
    try:
        chat = Chat.objects.select_related("model_config__provider").get(pk=chat_id)
        body = (error or ERROR_FALLBACK) if error is not None else summary(chat)
        payload = notification(chat, body=body, failed=error is not None)
        for subscription in PushSubscription.objects.filter(user_id=chat.owner_id):
            _send(subscription, payload, topic=chat.id.hex)
    except Exception:
        logger.exception("push for chat %s failed", chat_id)
    finally:
        connection.close()  # this pool thread's own connection


def notification(chat: Chat, *, body: str, failed: bool) -> dict[str, Any]:
    """What the service worker shows. One tag per chat, so a new one replaces the last."""
    return {
        "title": chat.title,
        "body": body,
        "tag": f"chat-{chat.id}",
        "data": {"url": f"/chats/{chat.id}/", "chat_id": str(chat.id), "status": "error" if failed else "waiting"},
    }


def summary(chat: Chat) -> str:
    """One sentence about the agent's last message, by a cheap model; the fallback on failure."""
    last = Message.objects.user_visible().filter(chat=chat, role=Role.ASSISTANT).order_by("-id").values("parts").first()
    text = parts_text(last["parts"]).strip() if last else ""
    model = _summary_model(chat)
    if not text or model is None:
        return FINISHED_FALLBACK
    prompt = f"Chat title: {chat.title}\n\nThe agent's last message:\n{text[-LAST_MESSAGE_CHARS:]}"
    try:
        return clip(_complete(model, prompt)) or FINISHED_FALLBACK
    except (ProviderError, ValueError) as exc:
        logger.info("push summary for chat %s failed: %s", chat.pk, exc)
        return FINISHED_FALLBACK


def _summary_model(chat: Chat) -> ModelConfig | None:
    fallback = chat.model_config or ModelConfig.objects.select_related("provider").filter(is_default=True).first()
    return titles.title_model(fallback) if fallback is not None else None


def _complete(model: ModelConfig, prompt: str) -> str:
    return complete_text(
        model,
        system=SUMMARY_PROMPT,
        text=prompt,
        max_output_tokens=SUMMARY_MAX_TOKENS,
        timeout_seconds=SUMMARY_TIMEOUT_SECONDS,
    )


def clip(text: str) -> str:
    """One line, no wrapping quotes, at most 100 characters (cut at a word, with an ellipsis)."""
    line = re.sub(r"\s+", " ", text).strip().strip(titles.QUOTES).strip()
    if len(line) <= MAX_BODY_CHARS:
        return line
    cut = line[: MAX_BODY_CHARS - 1].rsplit(" ", 1)[0].rstrip(" ,;:")
    return f"{cut}…"


def _send(subscription: PushSubscription, payload: dict[str, Any], *, topic: str) -> None:
    """Encrypt and post one push; a subscription the push service calls gone is deleted."""
    try:
        webpush(
            subscription.info(),
            data=json.dumps(payload),
            vapid_private_key=_vapid(),
            vapid_claims={"sub": vapid.subject()},
            ttl=TTL_SECONDS,
            # Topic: a push still queued at the push service for this chat is replaced.
            headers={"Topic": topic, "Urgency": "normal"},
            timeout=SEND_TIMEOUT_SECONDS,
        )
    except WebPushException as exc:
        if exc.status_code in GONE:
            PushSubscription.objects.filter(pk=subscription.pk).delete()
            logger.info("push subscription %s expired (%s): deleted", subscription.pk, exc.status_code)
        else:
            logger.warning("push to %s failed with status %s", _host(subscription), exc.status_code)
    except requests.RequestException as exc:
        logger.warning("push to %s failed: %s", _host(subscription), type(exc).__name__)


def _host(subscription: PushSubscription) -> str:
    """Endpoint URLs carry the browser's token: log only where they point."""
    return urlsplit(subscription.endpoint).netloc


@functools.cache
def _vapid() -> Vapid:
    return Vapid.from_string(private_key=vapid.private_key())


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")
