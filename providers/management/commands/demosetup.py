"""Offer the built-in mock LLM when no real provider is usable, so `make run` shows a working agent.

Prints the mock LLM's port on stdout when the demo provider is in use (for `serve
--mockllm-port`), nothing otherwise. Asks first when run from a terminal.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand

from providers.models import ModelConfig, Provider, ProviderKind
from providers.services import model_config_save, provider_save

DEMO_PROVIDER = "mockllm (demo)"


class Command(BaseCommand):
    help = "Set up the built-in mock LLM as the default model when no provider has a key."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--yes", action="store_true", help="Do not ask.")

    def handle(self, *args: Any, port: int, yes: bool, **options: Any) -> None:
        demo = Provider.objects.filter(name=DEMO_PROVIDER, enabled=True).first()
        usable = [p for p in Provider.objects.filter(enabled=True).exclude(name=DEMO_PROVIDER)
                  if p.unavailable_reason() is None]  # fmt: skip
        if usable:
            return
        if demo is None and not (yes or self._agrees()):
            self.stderr.write("No LLM provider configured: add one at /admin/providers/provider/.")
            return
        self._set_up(port)
        self.stdout.write(str(port))

    def _agrees(self) -> bool:
        if not sys.stdin.isatty():
            return False
        self.stderr.write(
            "No LLM provider with an API key is configured.\n"
            "Use the built-in mock LLM so you can try chatd right away? [Y/n] ",
            ending="",
        )
        return input().strip().lower() in ("", "y", "yes")

    def _set_up(self, port: int) -> None:
        provider = Provider.objects.filter(name=DEMO_PROVIDER).first() or Provider()
        provider_save(provider=provider, name=DEMO_PROVIDER, kind=ProviderKind.OPENAI_COMPATIBLE,
                      base_url=f"http://127.0.0.1:{port}/v1", enabled=True, api_key="mock")  # fmt: skip
        config = ModelConfig.objects.filter(provider=provider).first() or ModelConfig()
        is_default = not ModelConfig.objects.filter(is_default=True).exclude(pk=config.pk).exists()
        model_config_save(config=config, provider=provider, model="mock-model", display_name="Mock LLM (demo)",
                          is_default=is_default, input_price=Decimal(0), output_price=Decimal(0))  # fmt: skip
        self.stderr.write(
            f"Using the mock LLM on 127.0.0.1:{port}. Try a message like `mock: tool execute "
            '{"command": "ls"}` or `mock: slow 40 30ms`. Add a real provider in /admin/ any time.'
        )
