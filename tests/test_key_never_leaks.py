"""The provider API key appears in no response body, admin page or log line."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import Client

from providers.models import Provider

pytestmark = [pytest.mark.core, pytest.mark.django_db]

KEY = "sk-proj-LEAKCANARY-7f3a9c"


def test_key_never_appears_anywhere(staff: Any, staff_api: Any, alice_api: Any, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    bodies: list[bytes] = []
    created = staff_api.post("/api/admin/providers/", {"name": "p", "kind": "openai", "api_key": KEY}, format="json")
    bodies.append(created.content)
    pid = created.json()["id"]
    bodies.append(
        staff_api.post("/api/admin/providers/", {"name": "p", "kind": "nope", "api_key": KEY}, format="json").content
    )
    bodies.append(
        staff_api.patch(
            f"/api/admin/providers/{pid}/", {"api_key": KEY, "base_url": "not a url"}, format="json"
        ).content
    )
    staff_api.post("/api/admin/model-configs/", {"provider": pid, "model": "gpt-4o", "is_default": True}, format="json")
    for path in ["/api/admin/providers/", f"/api/admin/providers/{pid}/", "/api/admin/model-configs/", "/api/schema/"]:
        bodies.append(staff_api.get(path).content)
    bodies.append(alice_api.get("/api/models/").content)

    browser = Client()
    browser.force_login(staff)
    change_url = f"/admin/providers/provider/{pid}/change/"
    bodies.append(
        browser.post(
            change_url, {"name": "p", "kind": "openai", "base_url": "", "enabled": "on", "api_key": KEY}
        ).content
    )
    for path in [
        "/admin/providers/provider/",
        change_url,
        "/admin/providers/provider/add/",
        "/admin/providers/modelconfig/",
    ]:
        response = browser.get(path)
        assert response.status_code == 200
        bodies.append(response.content)

    assert Provider.objects.get(pk=pid).effective_api_key() == KEY  # it is stored...
    for body in bodies:
        assert KEY.encode() not in body  # ...but never shown
    assert KEY not in caplog.text


def test_admin_saves_the_key_encrypted(staff: Any) -> None:
    browser = Client()
    browser.force_login(staff)
    response = browser.post(
        "/admin/providers/provider/add/",
        {"name": "a", "kind": "anthropic", "base_url": "", "enabled": "on", "api_key": KEY},
    )
    assert response.status_code == 302
    provider = Provider.objects.get(name="a")
    assert KEY not in provider.api_key_encrypted and provider.effective_api_key() == KEY
