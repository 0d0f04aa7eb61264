"""Fakes for Web Push tests: a local HTTP server standing in for a browser vendor's push
service, and a browser with a real P-256 key pair and auth secret that decrypts what arrives."""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from chats import push


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def notification(chat: Any, *, title: str, body: str, status: str = "waiting") -> dict[str, Any]:
    """The payload a browser decrypts when `chat` finished: what the service worker shows."""
    return {
        "title": title,
        "body": body,
        "tag": f"chat-{chat.pk}",
        "data": {"url": f"/chats/{chat.pk}/", "chat_id": str(chat.pk), "status": status},
    }


class PushService:
    """Records every push posted to it; answers 201, or the status set for an endpoint."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status_for: dict[str, int] = {}
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                service.received.append(
                    {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                )
                self.send_response(service.status_for.get(self.path, 201))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def endpoint(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/push/{name}"

    def to(self, browser: Browser) -> list[dict[str, Any]]:
        return [r for r in self.received if r["path"] == browser.path]


class Browser:
    """What a browser keeps for its subscription: the private key and the auth secret."""

    def __init__(self, service: PushService, name: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.endpoint = service.endpoint(name)
        self.path = f"/push/{name}"

    def subscription(self) -> dict[str, Any]:
        public = self.key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        keys = {"p256dh": b64url(public), "auth": b64url(self.auth)}
        return {"endpoint": self.endpoint, "expirationTime": None, "keys": keys}

    def decrypt(self, push_request: dict[str, Any]) -> dict[str, Any]:
        plain = http_ece.decrypt(push_request["body"], private_key=self.key, auth_secret=self.auth, version="aes128gcm")
        return dict(json.loads(plain))


def serve_push(monkeypatch: pytest.MonkeyPatch) -> Iterator[PushService]:
    """For a `push_service` fixture: a running stand-in, HTTP endpoints allowed, stopped after."""
    monkeypatch.setenv("CHATD_PUSH_ALLOW_HTTP", "true")  # the stand-in speaks plain HTTP on a local port
    service = PushService()
    yield service
    push.flush()
    service.server.shutdown()
    service.server.server_close()


def subscribe(api: Any, browser: Browser) -> None:
    response = api.post("/api/push/subscriptions/", browser.subscription(), format="json")
    assert response.status_code == 201, response.content
