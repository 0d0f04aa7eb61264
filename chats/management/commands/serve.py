"""`serve [--host H] [--port P]`: the whole app in one process (API.md §1).

An ASGI server (HTTP + WebSocket, static files through WhiteNoise) on one event loop; in
embedded mode that loop also owns the in-memory channel layer, so chat runner threads hand
their events to it. SIGINT/SIGTERM stop accepting, finish open requests and exit cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from typing import Any

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand

from chats import runner, streaming
from providers.mockllm import start_in_thread


class _Server(uvicorn.Server):
    """Handle SIGINT/SIGTERM as a graceful stop, without re-raising them after shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


class Command(BaseCommand):
    help = "Serve chatd (HTTP + WebSocket; plus the chat workers in embedded mode)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--mockllm-port", type=int, help="Also serve the mock LLM here (demo).")

    def handle(self, *args: Any, host: str, port: int, mockllm_port: int | None, **options: Any) -> None:
        mock = start_in_thread("127.0.0.1", mockllm_port) if mockllm_port else None
        try:
            asyncio.run(self._serve(host, port))
        finally:
            if mock is not None:
                mock.stop()
        self.stdout.write("chatd stopped.")

    async def _serve(self, host: str, port: int) -> None:
        streaming.bind_loop(asyncio.get_running_loop())
        config = uvicorn.Config(
            "config.asgi:application",
            host=host,
            port=port,
            lifespan="off",
            ws="websockets-sansio",
            # Token deltas are small frames: compressing each costs serve ~12 us of CPU per delta
            # (~15 %) and a zlib context per socket, and saves a few bytes.
            ws_per_message_deflate=False,
            log_level="info",
            timeout_graceful_shutdown=10,
        )
        mode = "distributed" if settings.DISTRIBUTED else "embedded"
        self.stdout.write(f"chatd ({mode} mode) on http://{host}:{port}/", ending="\n")
        self.stdout.flush()
        if not settings.DISTRIBUTED:
            runner.start_embedded()
        try:
            await _Server(config).serve()
        finally:
            if not settings.DISTRIBUTED:
                # Runs publish through this loop while they wind down: keep it turning.
                await asyncio.get_running_loop().run_in_executor(None, runner.stop_embedded)
