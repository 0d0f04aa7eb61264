"""Run the middleware stack in one thread per request under ASGI.

Django runs every middleware that can be async (all MiddlewareMixin ones) on the event loop,
handing each process_request / process_response to a thread and back, and adapts between
sync and async wherever neighbours differ (WhiteNoise is sync only). With sync views that was
about fifteen switches between the loop and threads per request. A sync-only middleware at
the bottom of the stack makes every middleware above it run sync, so Django adapts once at
the top (one thread hop) and once at the bottom (into its async core, which runs the view in
a thread).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase


class SyncStackMiddleware:
    """Keep it LAST in settings.MIDDLEWARE: it does nothing but be sync only."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)
