from __future__ import annotations

import os
import time
from typing import Any

import pytest
from django.test import Client

from workspaces.models import Workspace, WorkspaceTemplate

pytestmark = [pytest.mark.core]

SHAPE = {"id", "name", "template_id", "status", "directory", "created_at"}


@pytest.fixture
def local_template(db: Any, settings: Any, tmp_path: Any) -> WorkspaceTemplate:
    settings.CHATD_WORKSPACE_ROOT = tmp_path
    return WorkspaceTemplate.objects.create(name="plain", parameters=[{"name": "size", "type": "number"}])


@pytest.mark.django_db
def test_everyone_reads_templates_only_staff_write(alice_api: Any, staff_api: Any, local_template: Any) -> None:
    listed = alice_api.get("/api/workspace-templates/").json()
    assert [t["name"] for t in listed] == ["plain"] and listed[0]["backend"] == "local"
    body = {"name": "ssh-box", "backend": "ssh", "settings": {"host": "h"}, "startup_script": "true"}
    assert alice_api.post("/api/workspace-templates/", body, format="json").status_code == 403
    assert alice_api.delete(f"/api/workspace-templates/{local_template.id}/").status_code == 403
    assert staff_api.post("/api/workspace-templates/", body, format="json").status_code == 201
    bad = {"name": "bad", "parameters": [{"name": "x", "type": "color"}]}
    assert staff_api.post("/api/workspace-templates/", bad, format="json").status_code == 400


@pytest.mark.django_db
def test_workspace_lifecycle(alice_api: Any, bob_api: Any, local_template: Any) -> None:
    created = alice_api.post("/api/workspaces/", {"template_id": str(local_template.id), "name": "w1"}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert set(body) == SHAPE and body["status"] == "running" and body["template_id"] == str(local_template.id)
    assert os.path.isdir(body["directory"])
    url = f"/api/workspaces/{body['id']}/"
    assert alice_api.get(url).json()["name"] == "w1"
    assert [w["id"] for w in alice_api.get("/api/workspaces/").json()] == [body["id"]]
    assert alice_api.post(url + "stop/").json()["status"] == "stopped"
    assert alice_api.post(url + "start/").json()["status"] == "running"
    for call in (bob_api.get, bob_api.delete, lambda u: bob_api.post(u + "start/")):
        assert call(url).status_code == 404
    assert bob_api.get("/api/workspaces/").json() == []
    assert alice_api.delete(url).status_code == 204
    assert alice_api.get(url).status_code == 404 and not os.path.exists(body["directory"])
    assert Workspace.objects.get().status == "deleted"


@pytest.mark.django_db
def test_create_rejects_bad_input(alice_api: Any, local_template: Any) -> None:
    bad = alice_api.post(
        "/api/workspaces/", {"template_id": str(local_template.id), "parameters": {"size": "big"}}, format="json"
    )
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_parameters"
    missing = alice_api.post("/api/workspaces/", {"template_id": "8d1c5ad5-3a8f-4d67-9a55-3d6a4b0b7a11"}, format="json")
    assert missing.status_code == 400 and missing.json()["code"] == "invalid_template"


@pytest.mark.django_db(transaction=True)
def test_startup_script_runs_in_the_background(alice_api: Any, settings: Any, tmp_path: Any) -> None:
    settings.CHATD_WORKSPACE_ROOT = tmp_path
    template = WorkspaceTemplate.objects.create(name="slow", startup_script="sleep 0.3; touch done")
    body = alice_api.post("/api/workspaces/", {"template_id": str(template.id)}, format="json").json()
    assert body["status"] == "starting"
    deadline = time.monotonic() + 10
    while alice_api.get(f"/api/workspaces/{body['id']}/").json()["status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert os.path.exists(os.path.join(body["directory"], "done"))


@pytest.mark.django_db
def test_schema_lists_the_workspace_endpoints() -> None:
    paths = set(Client().get("/api/schema/?format=json").json()["paths"])
    assert {
        "/api/workspace-templates/",
        "/api/workspace-templates/{id}/",
        "/api/workspaces/",
        "/api/workspaces/{workspace_id}/",
        "/api/workspaces/{workspace_id}/start/",
        "/api/workspaces/{workspace_id}/stop/",
    } <= paths
