"""Driving Debian's headless Chromium with Playwright: a page on a live app, a user who logs in."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_user

CHROMIUM = os.environ.get("CHATD_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
PASSWORD = "correct horse battery staple"
WAIT_MS = 30_000
CHAT_URL = re.compile(r"/chats/[0-9a-f-]{36}/$")

# Marks for a module of browser tests: in both modes, on real servers, only where Chromium is.
BROWSER_TESTS = [
    pytest.mark.core,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"),
]


@contextmanager
def browser_page(base_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    # Playwright's sync API keeps an event loop on this thread; the test's ORM reads are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 860})
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        yield page
        browser.close()


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def person(django_user_model: Any, username: str) -> Any:
    """A user who can log in through the form."""
    user = make_user(django_user_model, username)
    user.set_password(PASSWORD)
    user.save()
    return user


def log_in(page: Any, username: str) -> None:
    page.goto("/")
    assert "/login/" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)
    page.locator("html[data-ready]").wait_for(state="attached")


def open_page(page: Any, path: str) -> None:
    page.goto(path)
    page.locator("html[data-ready]").wait_for(state="attached")
