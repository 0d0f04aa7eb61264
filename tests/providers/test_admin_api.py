from __future__ import annotations

from typing import Any

import pytest

from providers.models import ModelConfig, Provider

pytestmark = [pytest.mark.core, pytest.mark.django_db]

KEY = "sk-live-THIS-MUST-NEVER-LEAK-1234567890"


def test_provider_key_is_write_only_and_encrypted_at_rest(staff_api: Any) -> None:
    response = staff_api.post(
        "/api/admin/providers/", {"name": "OpenAI", "kind": "openai", "api_key": KEY}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert "api_key" not in body and body["has_api_key"] is True
    provider = Provider.objects.get(pk=body["id"])
    assert KEY not in provider.api_key_encrypted
    assert provider.effective_api_key() == KEY
    assert KEY not in repr(provider) and KEY not in str(provider)


def test_patch_without_key_keeps_it_and_empty_key_clears_it(staff_api: Any) -> None:
    pid = staff_api.post(
        "/api/admin/providers/", {"name": "a", "kind": "anthropic", "api_key": KEY}, format="json"
    ).json()["id"]
    assert staff_api.patch(f"/api/admin/providers/{pid}/", {"enabled": False}, format="json").json()["has_api_key"]
    assert (
        staff_api.patch(f"/api/admin/providers/{pid}/", {"api_key": ""}, format="json").json()["has_api_key"] is False
    )


def test_provider_kind_is_validated(staff_api: Any) -> None:
    response = staff_api.post("/api/admin/providers/", {"name": "x", "kind": "bedrock"}, format="json")
    assert response.status_code == 400 and "kind" in response.json()


def test_model_config_prices_are_decimal_strings_per_million(staff_api: Any, provider: Provider) -> None:
    payload = {
        "provider": provider.id, "model": "gpt-4o", "input_price": "2.5", "output_price": "10",
        "cache_read_price": "1.25", "cache_write_price": None, "is_default": True,
    }  # fmt: skip
    body = staff_api.post("/api/admin/model-configs/", payload, format="json").json()
    assert body["input_price"] == "2.500000" and body["cache_write_price"] is None
    assert body["compaction_threshold_percent"] == 70 and body["max_output_tokens"] is None
    assert (
        staff_api.post("/api/admin/model-configs/", {**payload, "input_price": "-1"}, format="json").status_code == 400
    )


def test_one_default_model_config_at_a_time(staff_api: Any, provider: Provider) -> None:
    first = staff_api.post(
        "/api/admin/model-configs/", {"provider": provider.id, "model": "a", "is_default": True}, format="json"
    ).json()
    second = staff_api.post(
        "/api/admin/model-configs/", {"provider": provider.id, "model": "b", "is_default": True}, format="json"
    ).json()
    assert list(ModelConfig.objects.filter(is_default=True).values_list("id", flat=True)) == [second["id"]]
    assert staff_api.get(f"/api/admin/model-configs/{first['id']}/").json()["is_default"] is False


def test_threshold_over_100_is_refused(staff_api: Any, provider: Provider) -> None:
    response = staff_api.post(
        "/api/admin/model-configs/",
        {"provider": provider.id, "model": "a", "compaction_threshold_percent": 101},
        format="json",
    )
    assert response.status_code == 400 and "compaction_threshold_percent" in response.json()


def test_models_catalog_reports_availability(alice_api: Any, model_config: ModelConfig, settings: Any) -> None:
    settings.CHATD_PROVIDER_ENV_KEYS = {}
    Provider.objects.create(name="keyless", kind="anthropic")
    Provider.objects.create(name="local-vllm", kind="openai_compatible", base_url="http://127.0.0.1:9/v1")
    Provider.objects.create(name="off", kind="google", enabled=False)
    body = alice_api.get("/api/models/").json()
    by_name = {p["provider"]: p for p in body["providers"]}
    assert set(by_name) == {"openai", "keyless", "local-vllm"}
    assert by_name["openai"]["available"] is True
    assert by_name["openai"]["models"] == [
        {
            "id": model_config.id,
            "model": "gpt-4o-mini",
            "display_name": "GPT-4o mini",
            "context_limit": 200000,
            "is_default": True,
        }
    ]
    assert (by_name["keyless"]["available"], by_name["keyless"]["unavailable_reason"]) == (False, "missing_api_key")
    assert by_name["local-vllm"]["available"] is True


def test_env_preset_key_makes_a_keyless_provider_available(alice_api: Any, settings: Any, db: Any) -> None:
    settings.CHATD_PROVIDER_ENV_KEYS = {"anthropic": "sk-ant-env"}
    Provider.objects.create(name="anthropic", kind="anthropic")
    assert alice_api.get("/api/models/").json()["providers"][0]["available"] is True
