from __future__ import annotations

from typing import Any

import pytest
from channels.layers import InMemoryChannelLayer
from channels_redis.core import RedisChannelLayer
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils.module_loading import import_string

from providers.models import ModelConfig

pytestmark = [pytest.mark.core, pytest.mark.django_db]


@pytest.mark.skipif(settings.DISTRIBUTED, reason="embedded mode only")
def test_embedded_sqlite_uses_wal_immediate_transactions_and_a_busy_timeout() -> None:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 10_000
    assert connection.transaction_mode == "IMMEDIATE"


def test_mode_follows_redis_url() -> None:
    layer = import_string(settings.CHANNEL_LAYERS["default"]["BACKEND"])
    if settings.DISTRIBUTED:
        assert issubclass(layer, RedisChannelLayer)
        assert connection.vendor == "postgresql" and "pool" in connection.settings_dict["OPTIONS"]
        assert settings.CELERY_TASK_ACKS_LATE
    else:
        assert layer is InMemoryChannelLayer
        assert connection.vendor == "sqlite"


def test_the_secret_key_is_generated_once_into_the_data_dir() -> None:
    key_file = settings.DATA_DIR / "secret_key"
    assert key_file.read_text().strip() == settings.SECRET_KEY
    assert key_file.stat().st_mode & 0o077 == 0


def test_admin_adds_a_priced_model_config(staff: Any, provider: Any) -> None:
    browser = Client()
    browser.force_login(staff)
    form = {
        "provider": provider.id, "model": "claude-sonnet-4-5", "display_name": "", "enabled": "on",
        "is_default": "on", "context_limit": 200000, "max_output_tokens": "", "compaction_threshold_percent": 70,
        "options": "{}", "input_price": "3", "output_price": "15", "cache_read_price": "0.30",
        "cache_write_price": "3.75",
    }  # fmt: skip
    response = browser.post("/admin/providers/modelconfig/add/", form)
    assert response.status_code == 302, response.content[:2000]
    config = ModelConfig.objects.get(model="claude-sonnet-4-5")
    assert str(config.cache_write_price) == "3.750000" and config.is_default
    listing = browser.get("/admin/providers/modelconfig/").content.decode()
    assert "$3.75 / 1M" in listing and "$15 / 1M" in listing
