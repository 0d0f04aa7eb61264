"""Web push (reference §13): subscriptions over the API, and what `push.chat_finished` sends,
decrypted by a fake browser from a local stand-in for the push service."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid02

from chats import push, services
from chats.enums import Role
from chats.models import Chat, Message, PushSubscription
from config import vapid
from providers.mockllm import MockLLMServer
from tests.chats.push_fakes import Browser, PushService, b64url, notification, subscribe
from tests.llm import recorded, script

pytestmark = [pytest.mark.core, pytest.mark.django_db(transaction=True)]


def answered_chat(owner: Any, answer: str = "Done: the tests pass now.", title: str = "Fix the tests") -> Chat:
    """A root chat whose agent has answered, as a finished run leaves it."""
    chat = services.chat_create(owner=owner, content="Fix the tests", title=title)
    Message.objects.create(chat=chat, role=Role.ASSISTANT, parts=[{"type": "text", "text": answer}])
    return chat


def finished(chat: Chat, error: str | None = None) -> None:
    push.chat_finished(chat_id=chat.pk, owner_id=chat.owner_id, error=error)
    push.flush()


def test_a_finished_chat_pushes_a_summary_the_browser_decrypts(
    alice: Any, alice_api: Any, mock_model: Any, llm: MockLLMServer, push_service: PushService
) -> None:
    browser = Browser(push_service, "alice-laptop")
    subscribe(alice_api, browser)
    script(llm, {"text": '"Fixed the failing tests."'}, stream=False, match="Chat title")
    chat = answered_chat(alice, answer="I fixed the two failing tests; all 40 pass now.", title="Fix the tests")
    finished(chat)

    [delivered] = push_service.to(browser)
    assert browser.decrypt(delivered) == notification(chat, title="Fix the tests", body="Fixed the failing tests.")
    headers = delivered["headers"]
    assert headers["content-encoding"] == "aes128gcm"
    assert headers["topic"] == chat.pk.hex  # a push still queued for this chat is replaced
    assert int(headers["ttl"]) > 0
    # Signed with our VAPID key, the one browsers get from the API.
    public_key = alice_api.get("/api/push/vapid-public-key/").json()["public_key"]
    assert f"k={public_key}" in headers["authorization"] and Vapid02.verify(headers["authorization"])
    # The model summarised the title and the agent's last message.
    summary_request = json.dumps(next(r["body"] for r in recorded(llm) if "Chat title" in json.dumps(r["body"])))
    assert "Chat title: Fix the tests" in summary_request and "all 40 pass now" in summary_request


def test_a_long_summary_is_cut_to_one_short_line(
    alice: Any, alice_api: Any, mock_model: Any, llm: MockLLMServer, push_service: PushService
) -> None:
    browser = Browser(push_service, "tab")
    subscribe(alice_api, browser)
    script(llm, {"text": "Refactored " + "the module and " * 20 + "done."}, stream=False, match="Chat title")
    finished(answered_chat(alice))
    body = browser.decrypt(push_service.to(browser)[0])["body"]
    assert len(body) <= push.MAX_BODY_CHARS and body.endswith("…") and "\n" not in body


def test_a_failed_summary_falls_back_to_a_plain_sentence(
    alice: Any, alice_api: Any, mock_model: Any, llm: MockLLMServer, push_service: PushService
) -> None:
    browser = Browser(push_service, "phone")
    subscribe(alice_api, browser)
    script(llm, {"error": {"status": 400, "message": "no summaries today"}}, stream=False, match="Chat title")
    finished(answered_chat(alice))
    assert browser.decrypt(push_service.to(browser)[0])["body"] == push.FINISHED_FALLBACK


def test_an_error_is_the_body_without_asking_a_model(
    alice: Any, alice_api: Any, mock_model: Any, llm: MockLLMServer, push_service: PushService
) -> None:
    browser = Browser(push_service, "desk")
    subscribe(alice_api, browser)
    chat = answered_chat(alice)
    finished(chat, error="The model refused: context window exceeded.")
    payload = browser.decrypt(push_service.to(browser)[0])
    assert payload["body"] == "The model refused: context window exceeded."
    assert payload["data"]["status"] == "error"
    finished(chat, error="")
    assert browser.decrypt(push_service.to(browser)[1])["body"] == push.ERROR_FALLBACK
    assert not recorded(llm)


def test_without_subscriptions_nothing_is_summarised(alice: Any, mock_model: Any, llm: MockLLMServer) -> None:
    finished(answered_chat(alice))
    assert not [r for r in recorded(llm) if "Chat title" in json.dumps(r["body"])]


@pytest.mark.parametrize(("status", "kept"), [(410, False), (404, False), (500, True)])
def test_a_subscription_the_push_service_calls_gone_is_deleted(
    alice: Any, alice_api: Any, mock_model: Any, push_service: PushService, status: int, kept: bool
) -> None:
    gone, alive = Browser(push_service, "old"), Browser(push_service, "new")
    subscribe(alice_api, gone)
    subscribe(alice_api, alive)
    push_service.status_for[gone.path] = status
    finished(answered_chat(alice), error="boom")
    assert len(push_service.to(gone)) == 1 and len(push_service.to(alive)) == 1
    assert PushSubscription.objects.filter(endpoint=gone.endpoint).exists() is kept
    assert PushSubscription.objects.filter(endpoint=alive.endpoint).exists()


def test_subscribing_again_refreshes_and_the_last_user_of_a_browser_gets_its_pushes(
    alice: Any, bob: Any, alice_api: Any, bob_api: Any, mock_model: Any, push_service: PushService
) -> None:
    browser = Browser(push_service, "shared")
    subscribe(alice_api, browser)
    subscribe(alice_api, browser)
    assert PushSubscription.objects.get().user == alice
    subscribe(bob_api, browser)  # bob signed in on the same browser
    assert PushSubscription.objects.get().user == bob
    finished(answered_chat(alice, title="Alice's"), error="x")
    assert push_service.received == []
    finished(answered_chat(bob, title="Bob's"), error="x")
    assert browser.decrypt(push_service.to(browser)[0])["title"] == "Bob's"


def test_unsubscribe_is_own_subscriptions_only(alice_api: Any, bob_api: Any, push_service: PushService) -> None:
    browser = Browser(push_service, "b")
    subscribe(alice_api, browser)
    assert bob_api.delete("/api/push/subscriptions/", {"endpoint": browser.endpoint}, format="json").status_code == 404
    response = alice_api.delete("/api/push/subscriptions/", {"endpoint": browser.endpoint}, format="json")
    assert response.status_code == 204
    assert not PushSubscription.objects.exists()
    subscribe(alice_api, browser)
    assert alice_api.delete(f"/api/push/subscriptions/?endpoint={browser.endpoint}").status_code == 204


def test_bad_subscriptions_are_400(alice_api: Any, push_service: PushService, monkeypatch: pytest.MonkeyPatch) -> None:
    browser = Browser(push_service, "x")
    good = browser.subscription()
    bad_key = {**good, "keys": {**good["keys"], "p256dh": b64url(b"\x04" * 10)}}
    bad_auth = {**good, "keys": {**good["keys"], "auth": "not base64 !!"}}
    for body in (bad_key, bad_auth, {"endpoint": good["endpoint"]}, {**good, "endpoint": "not a url"}):
        assert alice_api.post("/api/push/subscriptions/", body, format="json").status_code == 400
    # Real push services speak HTTPS; plain HTTP only when the deployment allows it.
    monkeypatch.setenv("CHATD_PUSH_ALLOW_HTTP", "false")
    response = alice_api.post("/api/push/subscriptions/", good, format="json")
    assert response.status_code == 400 and "endpoint" in response.json()
    https = {**good, "endpoint": "https://push.example.com/send/abc"}
    assert alice_api.post("/api/push/subscriptions/", https, format="json").status_code == 201


def test_the_vapid_public_key_is_the_half_of_the_configured_key(alice_api: Any, settings: Any) -> None:
    key_file = settings.DATA_DIR / "vapid_private_key"
    assert key_file.read_text().strip() == vapid.private_key()  # generated once, at start-up
    key = alice_api.get("/api/push/vapid-public-key/").json()["public_key"]
    point = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    assert len(point) == 65 and point[0] == 4
    expected = Vapid02.from_string(private_key=vapid.private_key()).public_key
    assert point == expected.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
