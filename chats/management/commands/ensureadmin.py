"""Create the first admin user if there is none, printing its password once."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Create a superuser (default name 'admin') with a random password unless one exists."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default="admin")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        users = get_user_model().objects
        if users.filter(is_superuser=True).exists():
            return
        password = secrets.token_urlsafe(12)
        user = users.create_superuser(username=username, password=password, email="")
        token = Token.objects.create(user=user)
        self.stdout.write(
            "\n".join(
                [
                    "Created the admin user (shown once, keep it):",
                    f"  username: {username}",
                    f"  password: {password}",
                    f"  API token: {token.key}",
                ]
            )
        )
