from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.authtoken.models import Token

pytestmark = [pytest.mark.core, pytest.mark.django_db]


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_createtoken_prints_the_token_alone_on_the_last_line_and_is_idempotent() -> None:
    first = _run("createtoken", "carol", "--staff", "--password", "s3cret-pass")
    token = first.strip().splitlines()[-1]
    assert token == Token.objects.get(user__username="carol").key
    user = get_user_model().objects.get(username="carol")
    assert user.is_staff and user.is_superuser and user.check_password("s3cret-pass")
    assert _run("createtoken", "carol").strip().splitlines()[-1] == token


def test_ensureadmin_creates_one_admin_once() -> None:
    output = _run("ensureadmin")
    assert "password:" in output
    assert get_user_model().objects.filter(is_superuser=True).count() == 1
    assert _run("ensureadmin") == ""
