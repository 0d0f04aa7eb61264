"""Web push from real turns (reference §13): a root chat that finishes or fails notifies its
owner; an interrupt, an auto-promoted queue and a sub-agent do not."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chats import push, runner, services, worker
from chats.enums import ChatStatus, Role
from chats.models import Chat, Message
from providers.mockllm import MockLLMServer
from tests.chats.conftest import Recorder, wait_for, wait_status
from tests.chats.push_fakes import Browser, PushService, notification, subscribe
from tests.llm import recorded, script

pytestmark = [pytest.mark.core, pytest.mark.django_db(transaction=True)]


def finish(chat: Chat) -> Chat:
    """Run the chat's pending turn here, then wait for the notifications it handed over."""
    worker.run_chat(chat.pk)
    push.flush()
    chat.refresh_from_db()
    return chat


def test_a_finished_chat_pushes_a_summary_the_browser_decrypts(
    alice: Any, alice_api: Any, mock_model: Any, llm: MockLLMServer, push_service: PushService
) -> None:
    browser = Browser(push_service, "alice-laptop")
    subscribe(alice_api, browser)
    script(llm, {"text": "Here are three haiku about green tests."}, stream=True)
    script(llm, {"text": '"Wrote three haiku about passing tests."'}, stream=False, match="Chat title")
    chat = finish(services.chat_create(owner=alice, content="Write haiku about tests", title="Haiku about tests"))
    assert chat.status == ChatStatus.WAITING

    [delivered] = push_service.to(browser)
    summary = "Wrote three haiku about passing tests."
    assert browser.decrypt(delivered) == notification(chat, title="Haiku about tests", body=summary)
    # The summary is of the answer this turn produced.
    summary_request = next(r["body"] for r in recorded(llm) if "Chat title" in json.dumps(r["body"]))
    assert "Here are three haiku about green tests." in json.dumps(summary_request)


def test_each_finish_replaces_the_chats_previous_notification(
    alice: Any, alice_api: Any, mock_model: Any, llm: MockLLMServer, push_service: PushService
) -> None:
    browser = Browser(push_service, "tab")
    subscribe(alice_api, browser)
    chat = finish(services.chat_create(owner=alice, content="mock: text first answer", title="One chat"))
    services.message_send(chat=chat, user=alice, content="mock: text second answer")
    finish(chat)
    other = finish(services.chat_create(owner=alice, content="mock: text other", title="Other chat"))
    tags = [browser.decrypt(r)["tag"] for r in push_service.to(browser)]
    assert tags == [f"chat-{chat.pk}", f"chat-{chat.pk}", f"chat-{other.pk}"]


def test_an_error_pushes_the_error(
    alice: Any, alice_api: Any, mock_model: Any, llm: MockLLMServer, push_service: PushService
) -> None:
    browser = Browser(push_service, "desk")
    subscribe(alice_api, browser)
    script(llm, {"error": {"status": 400, "message": "context window exceeded"}}, stream=True)
    chat = finish(services.chat_create(owner=alice, content="Break please", title="Broken"))
    assert chat.status == ChatStatus.ERROR and chat.last_error
    payload = browser.decrypt(push_service.to(browser)[0])
    assert payload["body"] == chat.last_error and "context window exceeded" in payload["body"]
    assert payload["data"]["status"] == "error"


def test_no_push_on_interrupt_nor_for_sub_agents(
    alice: Any,
    alice_api: Any,
    mock_model: Any,
    llm: MockLLMServer,
    push_service: PushService,
    events: Recorder,
    inline_runner: None,
) -> None:
    browser = Browser(push_service, "quiet")
    subscribe(alice_api, browser)
    chat = services.chat_create(owner=alice, content="mock: slow 200 20ms", title="Interrupted")
    wait_for(lambda: len(events.of(chat.pk, "message_part")) >= 3, what="streaming to start")
    services.chat_interrupt(chat=chat)
    # Once the partial answer is stored the run has taken the interrupt; then let it release.
    wait_for(lambda: Message.objects.filter(chat=chat, role=Role.ASSISTANT).exists(), what="the partial answer")
    runner.stop_embedded()
    assert wait_status(chat, "waiting").last_error is None
    child = services.chat_create(owner=alice, content="mock: text child report", parent=chat)
    assert finish(child).status == ChatStatus.WAITING
    assert push_service.received == []
    # The same browser does hear about the root chat finishing normally.
    services.message_send(chat=chat, user=alice, content="mock: text all done")
    finish(chat)
    assert [browser.decrypt(r)["data"]["chat_id"] for r in push_service.to(browser)] == [str(chat.pk)]
