"""The VAPID key: from the environment when given, else generated once into the data dir."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import environ
import pytest
from py_vapid import Vapid02

from config import vapid

pytestmark = pytest.mark.core


@pytest.fixture
def fresh(settings: object, tmp_path: Path) -> Iterator[Path]:
    settings.DATA_DIR = tmp_path  # type: ignore[attr-defined]
    vapid.private_key.cache_clear()
    yield tmp_path
    vapid.private_key.cache_clear()


def test_a_key_is_generated_once_into_the_data_dir(fresh: Path) -> None:
    key = vapid.private_key()
    assert Vapid02.from_string(private_key=key).public_key is not None
    key_file = fresh / "vapid_private_key"
    assert key_file.read_text() == key and oct(key_file.stat().st_mode & 0o777) == "0o600"
    vapid.private_key.cache_clear()
    assert vapid.private_key() == key


def test_the_environment_wins_and_a_bad_key_fails_loudly(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    given = Vapid02()
    given.generate_keys()
    raw = given.private_key.private_numbers().private_value.to_bytes(32, "big")
    value = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    monkeypatch.setenv("CHATD_VAPID_PRIVATE_KEY", value)
    assert vapid.private_key() == value
    assert not (fresh / "vapid_private_key").exists()
    vapid.private_key.cache_clear()
    monkeypatch.setenv("CHATD_VAPID_PRIVATE_KEY", "not-a-key")
    with pytest.raises(environ.ImproperlyConfigured, match="CHATD_VAPID_PRIVATE_KEY"):
        vapid.private_key()
