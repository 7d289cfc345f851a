"""Debian's chromium driven by Playwright, for the site's and the hub's browser tests.

Playwright launches the system browser through `executable_path`: nothing is
downloaded (never `playwright install`); `./kit test` installs chromium with apt.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from playwright.sync_api import Browser, sync_playwright


@contextlib.contextmanager
def system_chromium(path: str) -> Iterator[Browser]:
    """The chromium at PATH, headless, closed afterwards."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, headless=True)
        try:
            yield browser
        finally:
            browser.close()
