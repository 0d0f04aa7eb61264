"""Web Push (VAPID) configuration from the environment (README, "Configuration").

`chats` checks it when the app loads (`ChatsConfig.ready`), so a bad key fails at start-up
like any setting; the push code reads it through these functions.
"""

from __future__ import annotations

import base64
import functools
import os
from pathlib import Path

import environ
from django.conf import settings
from py_vapid import Vapid

from config.env import env


@functools.cache
def private_key() -> str:
    """The signing key: `CHATD_VAPID_PRIVATE_KEY` (a base64url P-256 private key), else one
    generated once and kept in the data dir, like the secret key.

    Browsers bind their subscriptions to its public half, so every process of a deployment
    must share it: set the variable, or share the data dir.
    """
    if value := env.str("CHATD_VAPID_PRIVATE_KEY", default=""):
        try:
            Vapid.from_string(private_key=value)
        except Exception as exc:
            raise environ.ImproperlyConfigured(f"CHATD_VAPID_PRIVATE_KEY is not a P-256 private key: {exc}") from exc
        return value
    key_file = Path(settings.DATA_DIR) / "vapid_private_key"
    if not key_file.exists():
        vapid = Vapid()
        vapid.generate_keys()
        raw = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
        _write_once(key_file, base64.urlsafe_b64encode(raw).decode().rstrip("="))
    return key_file.read_text().strip()


def subject() -> str:
    """Who push services may contact about our pushes (a `mailto:` or `https:` URL)."""
    return env.str("CHATD_VAPID_SUBJECT", default="mailto:chatd@localhost")


def allow_http() -> bool:
    """Push services are HTTPS; plain-HTTP endpoints only for local push servers and tests."""
    return env.bool("CHATD_PUSH_ALLOW_HTTP", default=False)


def _write_once(path: Path, text: str) -> None:
    """Create a 0600 file with `text` unless it exists: two processes starting together agree."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(text)
    temporary.chmod(0o600)
    try:
        os.link(temporary, path)  # atomic, and fails when another process got there first
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
