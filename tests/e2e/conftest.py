"""Headless Chromium for the browser tests: Debian's /usr/bin/chromium, never a downloaded browser."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = os.environ.get("TANDEM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"


@pytest.fixture
def browser(live_server) -> Iterator[Browser]:
    """A Chromium per test, started after the test's rows exist and closed before they are flushed.

    Playwright's sync API keeps an event loop running in this thread while it is open, and
    Django refuses ORM calls from a thread with a running loop: so tests create their data in
    fixtures that come before this one, and read nothing from the database while it is open.
    """
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def off_loop():
    """Run ORM code while the browser is open: in a worker thread, which has no running event loop.

    The worker's database connection is closed before it returns, so nothing holds the test
    database open when the live server flushes it.
    """
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def run(fn, *args, **kwargs):
        def target():
            try:
                return fn(*args, **kwargs)
            finally:
                connections.close_all()

        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(target).result(timeout=60)

    return run
