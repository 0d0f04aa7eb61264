from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from providers.mockllm import MockLLMServer, start_in_thread
from providers.models import ModelConfig, Provider
from providers.services import model_config_save, provider_save
from tests.llm import reset


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    if settings.DISTRIBUTED:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL + Redis (distributed mode)")
    for item in items:
        if "distributed" in item.keywords:
            item.add_marker(skip)


def make_user(django_user_model: Any, username: str, **extra: Any) -> Any:
    return django_user_model.objects.create_user(username=username, password="pw-" + username, **extra)


def client_for(user: Any) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def alice(django_user_model: Any) -> Any:
    return make_user(django_user_model, "alice")


@pytest.fixture
def bob(django_user_model: Any) -> Any:
    return make_user(django_user_model, "bob")


@pytest.fixture
def staff(django_user_model: Any) -> Any:
    return make_user(django_user_model, "root", is_staff=True, is_superuser=True)


@pytest.fixture
def alice_api(alice: Any) -> APIClient:
    return client_for(alice)


@pytest.fixture
def bob_api(bob: Any) -> APIClient:
    return client_for(bob)


@pytest.fixture
def staff_api(staff: Any) -> APIClient:
    return client_for(staff)


@pytest.fixture
def provider(db: Any) -> Provider:
    return provider_save(provider=Provider(), api_key="sk-test-provider-key", name="openai", kind="openai")


@pytest.fixture
def model_config(provider: Provider) -> ModelConfig:
    return model_config_save(
        config=ModelConfig(),
        provider=provider,
        model="gpt-4o-mini",
        display_name="GPT-4o mini",
        is_default=True,
        input_price=Decimal("0.15"),
        output_price=Decimal("0.60"),
    )


@pytest.fixture(scope="session")
def llm_server() -> Iterator[MockLLMServer]:
    server = start_in_thread()
    yield server
    server.stop()


@pytest.fixture
def llm(llm_server: MockLLMServer) -> MockLLMServer:
    """The mock LLM, with no scripts queued and no requests recorded."""
    reset(llm_server)
    return llm_server


@pytest.fixture
def mock_model(db: Any, llm: MockLLMServer) -> ModelConfig:
    """The default model, served by mockllm over the OpenAI wire format."""
    provider = provider_save(
        provider=Provider(), api_key="mock-key", name="mockllm", kind="openai_compatible", base_url=llm.url + "/v1"
    )
    return model_config_save(
        config=ModelConfig(),
        provider=provider,
        model="mock-model",
        is_default=True,
        context_limit=100_000,
        input_price=Decimal("1"),
        output_price=Decimal("2"),
        cache_read_price=Decimal("0.1"),
        cache_write_price=Decimal("1.25"),
    )
