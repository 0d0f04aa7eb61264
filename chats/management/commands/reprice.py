"""`manage.py reprice --start … --end … [--model-config ID] [--dry-run]`: recompute past costs at
the current prices, in the ledger (costs) and on the assistant messages (chats) alike."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from chats.models import Message
from costs.models import UsageEntry
from costs.services import usage_reprice


def _when(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        raise CommandError(f"not a date or datetime: {value!r}")
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)


def _update_messages(entries: list[UsageEntry]) -> None:
    by_message = {entry.message_id: entry for entry in entries if entry.message_id is not None}
    messages = list(Message.objects.filter(pk__in=by_message).only("id"))
    for message in messages:
        message.cost_micros, message.pricing = by_message[message.pk].cost_micros, by_message[message.pk].pricing
    Message.objects.bulk_update(messages, ["cost_micros", "pricing"])


class Command(BaseCommand):
    help = "Recompute the cost of model steps in [start, end) from the current model prices."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--start", required=True, type=_when, help="ISO date or datetime (UTC if naive).")
        parser.add_argument("--end", required=True, type=_when, help="Exclusive.")
        parser.add_argument("--model-config", type=int, dest="model_config_id")
        parser.add_argument("--dry-run", action="store_true", help="Report what would change; write nothing.")

    def handle(self, *args: Any, start: datetime, end: datetime, model_config_id: int | None, dry_run: bool,
               **options: Any) -> None:  # fmt: skip
        if start >= end:
            raise CommandError("--start must be before --end")
        changes = usage_reprice(
            start=start, end=end, model_config_id=model_config_id, dry_run=dry_run, on_changed=_update_messages
        )
        verb = "would change" if dry_run else "changed"
        if not changes:
            self.stdout.write("No costs changed.")
        for change in changes:
            self.stdout.write(
                f"{change.model}: {change.count} steps {verb}, "
                f"total {change.old_total_micros} -> {change.new_total_micros} micro-dollars"
            )
