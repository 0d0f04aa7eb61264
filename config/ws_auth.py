"""WebSocket authentication by `Authorization: Token <key>` (API clients); tokens never go in URLs."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import OriginValidator
from django.conf import settings
from rest_framework.authtoken.models import Token


@database_sync_to_async
def _user_for_token(key: str) -> Any:
    token = Token.objects.select_related("user").filter(key=key).first()
    return token.user if token and token.user.is_active else None


class TokenAuthMiddleware(BaseMiddleware):
    """Runs inside AuthMiddlewareStack: a valid token header overrides the session user."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        headers = dict(scope.get("headers", []))
        scheme, _, key = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        if scheme.lower() == "token" and key.strip():
            user = await _user_for_token(key.strip())
            if user is not None:
                scope = {**scope, "user": user}
        return await super().__call__(scope, receive, send)


class BrowserOriginValidator(OriginValidator):
    """Refuse cross-site browser sockets (cookie auth) but admit API clients, which send no Origin.

    Browsers always send `Origin` on WebSocket handshakes, so a missing one is not a browser.
    """

    def valid_origin(self, parsed_origin: Any) -> bool:
        return parsed_origin is None or bool(self.validate_origin(parsed_origin))


def origin_validated(application: Any) -> BrowserOriginValidator:
    return BrowserOriginValidator(application, settings.ALLOWED_HOSTS)  # host patterns match any port
