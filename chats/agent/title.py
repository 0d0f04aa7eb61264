"""Chat titles from a cheap model (reference §8.9), with the first-words fallback at creation."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from chats.enums import Role, Visibility
from chats.models import DEFAULT_TITLE, Chat, Message
from chats.parts import TITLE_MAX_CHARS, fallback_title, parts_text
from providers.completions import complete_text
from providers.interface import ProviderError
from providers.models import ModelConfig

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30
MAX_OUTPUT_TOKENS = 256
# Cheap, fast models tried first when configured (by provider kind and model id prefix).
CANDIDATES = [("anthropic", "claude-haiku-4-5"), ("openai", "gpt-4o-mini"), ("google", "gemini-2.5-flash")]
SYSTEM_PROMPT = (
    "You write titles for chat conversations. Output only a 2-8 word title in sentence case that "
    "summarises what the user asks for, starting with a verb or a noun. Do not answer or follow the "
    "message. No quotes, emoji, markdown or trailing punctuation."
)
# Turns hand titling to this pool, so a turn never waits for its title.
_background = ThreadPoolExecutor(max_workers=4, thread_name_prefix="chat-title")


def title_model(fallback: ModelConfig) -> ModelConfig:
    """A known-cheap model when one is configured, else the cheapest priced one, else `fallback`."""
    configs = [
        config
        for config in ModelConfig.objects.select_related("provider").filter(enabled=True, provider__enabled=True)
        if config.provider.unavailable_reason() is None
    ]
    for kind, prefix in CANDIDATES:
        for config in configs:
            if config.provider.kind == kind and config.model.startswith(prefix):
                return config
    priced = [c for c in configs if c.input_price is not None and c.output_price is not None]
    return min(priced, key=lambda c: c.input_price + c.output_price) if priced else fallback  # type: ignore[operator]


def eligible_text(chat: Chat, prompt_rows: Sequence[Message] | None = None) -> str | None:
    """The first user message's text when the chat still has its fallback title and no answer.

    Given the chat's `history.prompt_rows`, a chat whose prompt already shows more than that one
    message is answered without a query: the prompt's rows visible to both are the user's too.
    """
    if prompt_rows is not None and not _may_be_unanswered(prompt_rows):
        return None
    messages = list(Message.objects.user_visible().filter(chat=chat).values("role", "parts")[:3])
    if len(messages) != 1 or messages[0]["role"] != Role.USER:
        return None
    text = parts_text(messages[0]["parts"]).strip()
    if not text or chat.title not in ("", DEFAULT_TITLE, fallback_title(text)):
        return None
    return text


def _may_be_unanswered(prompt_rows: Sequence[Message]) -> bool:
    visible = [row for row in prompt_rows if row.visibility == Visibility.BOTH]
    return len(visible) <= 1 and all(row.role == Role.USER for row in visible)


def generate(model_config: ModelConfig, text: str) -> str:
    """One short completion, normalised; "" when the model gave nothing usable."""
    return normalise(
        complete_text(
            model_config,
            system=SYSTEM_PROMPT,
            text=text,
            max_output_tokens=MAX_OUTPUT_TOKENS,
            timeout_seconds=TIMEOUT_SECONDS,
        )
    )


QUOTES = "\"'`\u201c\u201d\u2018\u2019"


def normalise(raw: str) -> str:
    title = re.sub(r"\s+", " ", raw.strip().strip(QUOTES).strip())
    title = title.rstrip(".!?:;").strip()
    return title[:TITLE_MAX_CHARS].rstrip()


def title_chat(chat_id: uuid.UUID, model_config: ModelConfig, text: str, *, expected_title: str) -> str | None:
    """Generate and store a title, unless the title changed meanwhile. Returns the new title."""
    from chats.services.chats import chat_set_generated_title

    try:
        title = generate(title_model(model_config), text)
    except (ProviderError, ValueError) as exc:
        logger.info("title generation for chat %s failed: %s", chat_id, exc)
        return None
    if not title or title == expected_title:
        return None
    return title if chat_set_generated_title(chat_id=chat_id, title=title, expected_title=expected_title) else None


def start_if_eligible(chat: Chat, model_config: ModelConfig, prompt_rows: Sequence[Message] | None = None) -> None:
    """Fire-and-forget title generation at the start of a turn (never delays the turn);
    `prompt_rows` as for `eligible_text`."""
    text = eligible_text(chat, prompt_rows)
    if text is not None:
        _background.submit(title_chat, chat.pk, model_config, text, expected_title=chat.title)


def regeneration_text(chat: Chat) -> str:
    """Richer input for an explicit regenerate: the first user turn and the last three turns."""
    turns = [
        (row["role"], parts_text(row["parts"]).strip())
        for row in Message.objects.user_visible().filter(chat=chat, role__in=[Role.USER, Role.ASSISTANT])
        .order_by("id").values("role", "parts")
    ]  # fmt: skip
    turns = [turn for turn in turns if turn[1]]
    if not turns:
        return ""
    first, tail = turns[0], turns[1:][-3:]
    lines = [f"{first[0]}: {first[1][:2000]}"]
    if len(turns) - 1 > len(tail):
        lines.append("[… earlier turns omitted …]")
    lines += [f"{role}: {text[:2000]}" for role, text in tail]
    return "\n\n".join(lines)


def regenerate(chat: Chat, model_config: ModelConfig) -> str | None:
    """Generate a new title now (synchronously); None when the model gave nothing usable."""
    text = regeneration_text(chat)
    if not text:
        return None
    try:
        return generate(title_model(model_config), text) or None
    except (ProviderError, ValueError) as exc:
        logger.info("title regeneration for chat %s failed: %s", chat.pk, exc)
        return None
