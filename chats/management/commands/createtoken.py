"""`createtoken USERNAME [--staff] [--password PW]`: the API token, alone on the last line."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Create the user if missing and print its API token alone on the last line (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--staff", action="store_true", help="Make the user staff and superuser.")
        parser.add_argument("--password", help="Set this password (otherwise a new user gets none).")

    def handle(self, *args: Any, username: str, staff: bool, password: str | None, **options: Any) -> None:
        with transaction.atomic():
            user, created = get_user_model().objects.get_or_create(username=username)
            if created and password is None:
                user.set_unusable_password()
            if password is not None:
                user.set_password(password)
            if staff:
                user.is_staff = user.is_superuser = True
            user.save()
            token, _ = Token.objects.get_or_create(user=user)
        if created:
            self.stderr.write(f"Created user {username}{' (staff)' if staff else ''}.")
        self.stdout.write(token.key)
