"""Typed helpers that turn environment variables into settings, failing loudly at start-up."""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ

env = environ.Env()


def data_dir() -> Path:
    """The directory holding the SQLite file, the generated secret and uploads."""
    path = Path(env.str("CHATD_DATA_DIR", default=".chatd")).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_key(directory: Path) -> str:
    """`SECRET_KEY` from the environment, else one generated once and kept in the data dir."""
    if value := env.str("SECRET_KEY", default=""):
        return value
    key_file = directory / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


REDIS_DBS_PER_DEPLOYMENT = 4


def redis_db(url: str, db: int) -> str:
    """The same Redis server with another database number, so broker, layer and cache never mix.

    The database number in ``url`` picks a block of four (``/0`` → 0-3, ``/1`` → 4-7, …), so two
    deployments (or two test runs) can share one Redis server without stealing each other's tasks.
    """
    parts = urlsplit(url)
    base = parts.path.strip("/")
    block = int(base) if base.isdigit() else 0
    number = block * REDIS_DBS_PER_DEPLOYMENT + db
    return urlunsplit((parts.scheme, parts.netloc, f"/{number}", parts.query, parts.fragment))


def positive_int(name: str, default: int) -> int:
    value = env.int(name, default=default)
    if value <= 0:
        raise environ.ImproperlyConfigured(f"{name} must be a positive integer, got {value}")
    return value


def desktop_geometry(name: str, default: str) -> str:
    """A `WIDTHxHEIGHT` desktop size, checked now so a typo fails at start-up, not at first use."""
    from workspaces.desktop.geometry import parse_geometry  # plain module: no Django models

    value = env.str(name, default=default)
    try:
        parse_geometry(value)
    except ValueError as exc:
        raise environ.ImproperlyConfigured(f"{name}: {exc}") from exc
    return value
