"""The prompt rows, and what they tell about the history without another query."""

from __future__ import annotations

from typing import Any

import pytest

from chats import selectors, services
from chats.agent import history, title
from chats.agent.compaction import Summary
from chats.enums import Role
from chats.models import Message
from chats.services import runs

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def _answer(chat: Any, text: str) -> Message:
    return Message.objects.create(chat=chat, role=Role.ASSISTANT, parts=[{"type": "text", "text": text}])


def test_the_newest_prompt_row_is_the_newest_message_of_an_uncompacted_chat(alice: Any, mock_model: Any) -> None:
    chat = services.chat_create(owner=alice, content="first")
    assert history.newest_id(history.prompt_rows(chat.pk)) == selectors.last_message_id(chat=chat)
    _answer(chat, "one")
    first = chat.messages.get(role=Role.USER)
    services.chat_interrupt(chat=chat)
    services.message_edit(chat=chat, user=alice, message_id=first.pk, content="again")  # deletes two rows
    assert Message.objects.filter(chat=chat, deleted=True).count() == 2
    assert history.newest_id(history.prompt_rows(chat.pk)) == selectors.last_message_id(chat=chat)


def test_a_compacted_history_does_not_tell_its_newest_message(alice: Any, mock_model: Any) -> None:
    chat = services.chat_create(owner=alice, content="first")
    run = runs.run_acquire(chat_id=chat.pk)
    assert run is not None
    summary = Summary("call-1", "SUMMARY: all of it", 50, 60.0, 600, 1000)
    assert runs.run_persist_summary(chat_id=chat.pk, summary=summary, model_config=None, worker_id=str(run.worker_id))
    rows = history.prompt_rows(chat.pk)
    assert rows[-1].id < selectors.last_message_id(chat=chat)  # the marker rows come after the summary
    assert history.newest_id(rows) is None


def test_the_prompt_the_title_check_and_the_newest_id_need_no_more_than_the_rows(
    alice: Any, mock_model: Any, django_assert_num_queries: Any
) -> None:
    chat = services.chat_create(owner=alice, content="first")
    _answer(chat, "one")
    rows = history.prompt_rows(chat.pk)
    with django_assert_num_queries(0):
        assert [m.role for m in history.to_prompt(rows)] == ["system", "system", "user", "assistant"]
        assert history.newest_id(rows) == rows[-1].id
        assert title.eligible_text(chat, rows) is None  # answered: no query to find out


def test_an_unanswered_chat_is_still_offered_a_title(alice: Any, mock_model: Any) -> None:
    chat = services.chat_create(owner=alice, content="Fix the flaky login test please")
    assert title.eligible_text(chat, history.prompt_rows(chat.pk)) == "Fix the flaky login test please"
