"""Server-rendered pages of the browser UI."""

from __future__ import annotations

from typing import cast

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from chats import selectors


@login_required
def index(request: HttpRequest) -> HttpResponse:
    chats = selectors.chat_list(user=cast(User, request.user), archived=False)[:100]
    return render(request, "chats/index.html", {"chats": chats})
