"""The built site in a real browser: Debian's chromium, headless, driven by Playwright.

The site is served over HTTP on loopback (a thread in this process), as a reader
would get it from a web server: Material's search runs in a web worker, which a
file:// page cannot start. No browser is downloaded: Playwright launches the system
chromium through `executable_path`; `./kit test` installs it (tools/prerequisites).
"""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.browser import system_chromium

INSTALL_HINT = (
    "Debian's chromium is needed for the real-browser test of the course site and is "
    "not installed. `./kit test` installs it (tools/prerequisites test); by hand: "
    "apt-get install -y chromium. Do not run `playwright install`: the test drives the "
    "system chromium."
)
PAGES = {
    "home": "",
    "notebook": "mlp-fashion-mnist/02-tensorflow-mlp/",
    "results": "results/",
}


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Keep the test output free of one access-log line per request."""


@pytest.fixture(scope="module")
def chromium_path() -> str:
    """The system chromium; missing is a failure with the fix, never a skip."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    return path


@pytest.fixture(scope="module")
def site_url(built_site: Path) -> Iterator[str]:
    """The built site over HTTP on 127.0.0.1 (a free port), for this module's tests."""
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Browser]:
    with system_chromium(chromium_path) as browser:
        yield browser


def _open(browser: Browser, url: str) -> tuple[Page, list[str]]:
    """Open a page; collect console errors, page errors, failed and 4xx/5xx requests."""
    page = browser.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(f"console error: {message.text}") if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "requestfailed",
        lambda request: problems.append(f"request failed: {request.url} {request.failure}"),
    )
    page.on(
        "response",
        lambda response: (
            problems.append(f"HTTP {response.status}: {response.url}")
            if response.status >= 400
            else None
        ),
    )
    page.goto(url, wait_until="networkidle")
    return page, problems


def _images(page: Page) -> list[dict]:
    return page.evaluate(
        """() => Array.from(document.images).map(image => ({
            src: image.currentSrc || image.src,
            complete: image.complete,
            width: image.naturalWidth,
        }))"""
    )


@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads_without_errors_and_with_its_images(
    browser: Browser, site_url: str, name: str
) -> None:
    page, problems = _open(browser, site_url + PAGES[name])
    try:
        images = _images(page)
        broken = [image["src"] for image in images if not image["complete"] or image["width"] == 0]
        assert not broken, f"images that did not load on the {name} page: {broken}"
        assert not problems, f"the {name} page reported: {problems}"
        assert page.locator("h1").first.is_visible()
        if name == "results":
            assert len(images) >= 2, "the results page should show its two figures"
            assert page.locator("table").count() >= 3
        if name == "notebook":
            assert page.get_by_text("YOUR CODE HERE").count() > 0
            assert page.locator(".jp-Cell, .jp-CodeCell").count() > 5
    finally:
        page.close()


def test_search_finds_pages(browser: Browser, site_url: str) -> None:
    page, problems = _open(browser, site_url)
    try:
        # The header's search box, as a reader uses it (typed, not filled in one go).
        search_box = page.locator("input.md-search__input")
        search_box.click()
        search_box.press_sequentially("confusion", delay=20)
        results = page.locator(".md-search-result__item")
        results.first.wait_for(state="visible", timeout=15_000)
        assert results.count() > 0
        links = [
            results.nth(index).locator("a").first.get_attribute("href")
            for index in range(results.count())
        ]
        assert any("results" in link or "mlp-fashion-mnist" in link for link in links), links
        search_box.fill("")
        search_box.press_sequentially("calibration", delay=20)
        page.locator(".md-search-result__item").first.wait_for(state="visible", timeout=15_000)
        first = page.locator(".md-search-result__item a").first.get_attribute("href")
        assert "instructor-guide" in first
        assert not problems, f"searching reported: {problems}"
    finally:
        page.close()
