"""`manage.py mockllm`: run the scripted fake LLM server (see providers.mockllm)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from providers.mockllm import MockLLMServer


class Command(BaseCommand):
    help = "Run a scripted fake OpenAI/Anthropic/Gemini server; prints READY <port> when listening."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=0, help="0 picks a free port")

    def handle(self, *args: Any, **options: Any) -> None:
        server = MockLLMServer(options["host"], options["port"])
        self.stdout.write(f"READY {server.port}")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
