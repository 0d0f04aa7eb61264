"""Encryption at rest for provider API keys (Fernet: AES-128-CBC + HMAC-SHA256)."""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


@cache
def _fernet(material: str) -> Fernet:
    try:
        return Fernet(material.encode())
    except ValueError:
        # Not a Fernet key itself (e.g. SECRET_KEY): derive one, bound to this purpose.
        digest = hashlib.sha256(b"chatd.provider-api-key:" + material.encode()).digest()
        return Fernet(base64.urlsafe_b64encode(digest))


def _key_material() -> str:
    return settings.CHATD_ENCRYPTION_KEY or settings.SECRET_KEY


def encrypt(plaintext: str) -> str:
    return _fernet(_key_material()).encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """Raises ValueError (never echoing the token) when the key changed or the data is bad."""
    try:
        return _fernet(_key_material()).decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("stored API key cannot be decrypted with the current encryption key") from None
