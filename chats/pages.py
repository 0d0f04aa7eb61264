"""Server-rendered pages of the browser UI: a shell the JS layer (static/chats/js/) fills live."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from chats import selectors
from chats.serializers import ChatSerializer


def _app(request: HttpRequest, chat: dict[str, Any] | None) -> HttpResponse:
    desktop_enabled = getattr(settings, "CHATD_DESKTOP_ENABLED", False)
    return render(request, "chats/app.html", {"chat": chat, "desktop_enabled": desktop_enabled})


@login_required
@ensure_csrf_cookie
def index(request: HttpRequest) -> HttpResponse:
    """The chat list with the new-chat composer."""
    return _app(request, None)


@login_required
@ensure_csrf_cookie
def chat_new(request: HttpRequest) -> HttpResponse:
    return _app(request, None)


@login_required
@ensure_csrf_cookie
def chat_detail(request: HttpRequest, chat_id: str) -> HttpResponse:
    """One chat; another user's chat is a 404, as in the API."""
    chat = selectors.chat_get(user=cast(User, request.user), chat_id=chat_id)
    return _app(request, dict(ChatSerializer(chat).data))
