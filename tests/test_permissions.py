"""Other users' objects are 404; admin endpoints are 403 for non-staff; anonymous is 401."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

pytestmark = [pytest.mark.core, pytest.mark.django_db]


@pytest.fixture
def alices_chat(alice_api: Any, model_config: Any) -> dict[str, Any]:
    return alice_api.post("/api/chats/", {"content": "secret plans"}, format="json").json()


def test_bob_gets_404_on_everything_of_alices(bob_api: Any, alice_api: Any, alices_chat: dict[str, Any]) -> None:
    chat = f"/api/chats/{alices_chat['id']}/"
    assert bob_api.get(chat).status_code == 404
    assert bob_api.patch(chat, {"title": "mine"}, format="json").status_code == 404
    assert bob_api.delete(chat).status_code == 404
    assert bob_api.get(chat + "messages/").status_code == 404
    assert bob_api.post(chat + "messages/", {"content": "hi"}, format="json").status_code == 404
    assert bob_api.get("/api/chats/").json()["results"] == []
    assert alice_api.get(chat).json()["title"] == "secret plans"  # untouched


def test_malformed_chat_ids_are_404(alice_api: Any) -> None:
    assert alice_api.get("/api/chats/not-a-uuid/").status_code == 404


@pytest.mark.parametrize("path", ["/api/admin/providers/", "/api/admin/model-configs/"])
def test_non_staff_get_403_on_admin_endpoints(alice_api: Any, path: str) -> None:
    assert alice_api.get(path).status_code == 403
    response = alice_api.post(path, {}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


@pytest.mark.parametrize("path", ["/api/chats/", "/api/models/", "/api/admin/providers/"])
def test_anonymous_is_401(path: str) -> None:
    response = APIClient().get(path)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
