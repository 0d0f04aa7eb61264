from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = [pytest.mark.core, pytest.mark.django_db]

API_PATHS = [
    "/api/auth/token/",
    "/api/admin/providers/",
    "/api/admin/providers/{id}/",
    "/api/admin/model-configs/",
    "/api/admin/model-configs/{id}/",
    "/api/models/",
    "/api/chats/",
    "/api/chats/{chat_id}/",
    "/api/chats/{chat_id}/messages/",
]


def test_healthz_and_readyz() -> None:
    client = Client()
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert set(ready.json()["checks"].values()) == {"ok"}


def test_readyz_is_503_when_redis_is_unreachable(settings: Any) -> None:
    settings.DISTRIBUTED, settings.REDIS_URL = True, "redis://127.0.0.1:1/0"
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"] == "unreachable"


def test_schema_lists_every_path_so_far(alice_api: Any) -> None:
    schema = Client().get("/api/schema/?format=json").json()
    assert set(API_PATHS) <= set(schema["paths"])


def test_docs_page_renders() -> None:
    assert Client().get("/api/docs/").status_code == 200


def test_token_endpoint(alice: Any) -> None:
    client = Client()
    response = client.post("/api/auth/token/", {"username": "alice", "password": "pw-alice"})
    assert response.status_code == 200 and len(response.json()["token"]) == 40
    assert client.post("/api/auth/token/", {"username": "alice", "password": "wrong"}).status_code == 400


def test_login_page_and_index_redirect(alice: Any) -> None:
    client = Client()
    assert client.get("/").status_code == 302
    assert client.get("/login/").status_code == 200
    assert client.post("/login/", {"username": "alice", "password": "pw-alice"}).status_code == 302
    assert client.get("/").status_code == 200
