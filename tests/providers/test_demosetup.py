from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command

from providers.models import ModelConfig, Provider

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def _demosetup(*args: str) -> str:
    out = io.StringIO()
    call_command("demosetup", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def test_without_any_usable_provider_the_mock_llm_becomes_the_default(settings: Any) -> None:
    settings.CHATD_PROVIDER_ENV_KEYS = {}
    Provider.objects.create(name="keyless", kind="anthropic")
    assert _demosetup("--yes", "--port", "9911") == "9911"
    config = ModelConfig.objects.get(is_default=True)
    assert (config.provider.base_url, config.provider.kind, config.input_price) == (
        "http://127.0.0.1:9911/v1", "openai_compatible", 0
    )  # fmt: skip
    assert _demosetup("--port", "9911") == "9911"  # kept on later runs, without asking
    assert Provider.objects.count() == 2


def test_not_offered_when_a_real_provider_works(provider: Provider) -> None:
    assert _demosetup("--yes") == ""
    assert not Provider.objects.filter(name="mockllm (demo)").exists()


def test_not_set_up_without_a_terminal_to_ask(settings: Any) -> None:
    settings.CHATD_PROVIDER_ENV_KEYS = {}
    assert _demosetup() == ""
    assert not Provider.objects.exists()
