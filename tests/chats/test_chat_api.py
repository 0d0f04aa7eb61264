from __future__ import annotations

from typing import Any

import pytest

from chats.enums import ChatStatus
from chats.models import Chat, Message, QueuedMessage

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def _create(api: Any, content: Any = "Write a haiku about tests", **extra: Any) -> dict[str, Any]:
    response = api.post("/api/chats/", {"content": content, **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_create_chat_stores_the_user_message_and_goes_pending(alice_api: Any, model_config: Any) -> None:
    chat = _create(alice_api)
    assert chat["status"] == "pending"
    assert chat["title"] == "Write a haiku about tests"
    assert chat["model_config_id"] == model_config.id
    assert chat["root_chat_id"] == chat["id"]
    body = alice_api.get(f"/api/chats/{chat['id']}/messages/").json()
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert body["messages"][0]["parts"] == [{"type": "text", "text": "Write a haiku about tests"}]
    assert body["messages"][0]["usage"] is None
    assert body == {**body, "queued_messages": [], "has_more": False}


def test_create_without_any_model_configured_is_a_clear_400(alice_api: Any) -> None:
    response = alice_api.post("/api/chats/", {"content": "hi"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "no_model"


def test_create_with_unknown_model_config_is_400(alice_api: Any, model_config: Any) -> None:
    response = alice_api.post("/api/chats/", {"content": "hi", "model_config_id": 999}, format="json")
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid model config ID.", "code": "invalid_model_config"}


@pytest.mark.parametrize("content", ["", "  ", [], [{"type": "text", "text": ""}], None])
def test_blank_content_is_400(alice_api: Any, model_config: Any, content: Any) -> None:
    response = alice_api.post("/api/chats/", {"content": content}, format="json")
    assert response.status_code == 400
    assert Chat.objects.count() == 0


def test_list_is_own_chats_newest_first_with_filters(alice_api: Any, bob_api: Any, model_config: Any) -> None:
    first = _create(alice_api, "first chat")
    second = _create(alice_api, "second chat")
    _create(bob_api, "bob's chat")
    alice_api.delete(f"/api/chats/{first['id']}/")
    listed = alice_api.get("/api/chats/").json()
    assert [c["id"] for c in listed["results"]] == [first["id"], second["id"]]  # archiving touched `first`
    assert [c["id"] for c in alice_api.get("/api/chats/?archived=false").json()["results"]] == [second["id"]]
    assert [c["id"] for c in alice_api.get("/api/chats/?archived=true").json()["results"]] == [first["id"]]
    assert [c["title"] for c in alice_api.get("/api/chats/?q=SECOND").json()["results"]] == ["second chat"]


def test_list_uses_cursor_pagination(alice_api: Any, model_config: Any) -> None:
    for i in range(5):
        _create(alice_api, f"chat {i}")
    page = alice_api.get("/api/chats/?limit=2").json()
    seen = [c["title"] for c in page["results"]]
    while page["next"]:
        page = alice_api.get(page["next"]).json()
        seen += [c["title"] for c in page["results"]]
    assert seen == [f"chat {i}" for i in reversed(range(5))]


def test_patch_renames_and_switches_model(alice_api: Any, model_config: Any, provider: Any) -> None:
    chat = _create(alice_api)
    response = alice_api.patch(f"/api/chats/{chat['id']}/", {"title": "Renamed"}, format="json")
    assert response.status_code == 200 and response.json()["title"] == "Renamed"
    response = alice_api.patch(f"/api/chats/{chat['id']}/", {"model_config_id": 12345}, format="json")
    assert response.status_code == 400


def test_delete_archives_the_whole_tree(alice_api: Any, alice: Any, model_config: Any) -> None:
    root = Chat.objects.get(pk=_create(alice_api)["id"])
    child = Chat.objects.create(owner=alice, parent=root, root=root, title="child")
    assert alice_api.delete(f"/api/chats/{root.id}/").status_code == 204
    assert Chat.objects.filter(archived=True).count() == 2
    assert Chat.objects.get(pk=child.pk).archived


def test_send_to_an_idle_chat_inserts_and_goes_pending(alice_api: Any, model_config: Any) -> None:
    chat = _create(alice_api)
    Chat.objects.filter(pk=chat["id"]).update(status=ChatStatus.WAITING)
    response = alice_api.post(f"/api/chats/{chat['id']}/messages/", {"content": "and another"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["queued"] is False and body["message"]["role"] == "user"
    assert Chat.objects.get(pk=chat["id"]).status == ChatStatus.PENDING


def test_send_while_busy_queues_until_twenty(alice_api: Any, model_config: Any) -> None:
    chat = _create(alice_api)  # pending = busy
    for i in range(20):
        response = alice_api.post(f"/api/chats/{chat['id']}/messages/", {"content": f"q{i}"}, format="json")
        assert response.status_code == 202
        assert response.json()["queued"] is True
    response = alice_api.post(f"/api/chats/{chat['id']}/messages/", {"content": "one too many"}, format="json")
    assert response.status_code == 429
    assert response.json()["code"] == "queue_full"
    assert QueuedMessage.objects.count() == 20
    listed = alice_api.get(f"/api/chats/{chat['id']}/messages/").json()
    assert [q["parts"][0]["text"] for q in listed["queued_messages"]] == [f"q{i}" for i in range(20)]


def test_messages_page_backwards_and_forwards(alice_api: Any, alice: Any, model_config: Any) -> None:
    chat = Chat.objects.get(pk=_create(alice_api, "m0")["id"])
    for i in range(1, 7):
        Message.objects.create(chat=chat, role="user", parts=[{"type": "text", "text": f"m{i}"}])
    Message.objects.create(chat=chat, role="system", parts=[], visibility="model")
    url = f"/api/chats/{chat.id}/messages/"
    texts = lambda body: [m["parts"][0]["text"] for m in body["messages"]]  # noqa: E731
    latest = alice_api.get(url + "?limit=3").json()
    assert texts(latest) == ["m4", "m5", "m6"] and latest["has_more"]
    before = alice_api.get(url + f"?limit=3&before_id={latest['messages'][0]['id']}").json()
    assert texts(before) == ["m1", "m2", "m3"] and before["has_more"]
    after = alice_api.get(url + f"?limit=10&after_id={before['messages'][-1]['id']}").json()
    assert texts(after) == ["m4", "m5", "m6"] and not after["has_more"]
    assert alice_api.get(url + "?limit=0").status_code == 400
    assert alice_api.get(url + "?after_id=abc").status_code == 400
