"""Headless Chromium for tests: Debian's ``/usr/bin/chromium`` driven by Playwright's sync API.

Playwright's own browser downloads are not used (the network is closed); the system Chromium is
launched with flags that keep it off the network (no component updates, sync, QUIC or background
requests), each launch in a fresh temporary profile. Tests that need it skip with the reason when
Playwright or Chromium is missing.

In a test module::

    from tests.helpers.browser import BrowserPage, chromium, open_page, screenshot

    @pytest.fixture(scope="module")
    def browser():
        with chromium() as b:
            yield b

    def test_when_...(browser):
        with open_page(browser) as page:
            page.goto(url)
            ...
            assert page.errors == []

:func:`serve_app` runs any ASGI app with uvicorn in a thread on a free loopback port.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.helpers.servers import AppServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

CHROMIUM = Path(os.environ.get("ETHOS_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
REPO_ROOT = Path(__file__).resolve().parents[2]


def artifacts_dir() -> Path:
    """Where tests leave screenshots: ``$ETHOS_TEST_ARTIFACTS``, default ``build/test-artifacts/`` in the repo."""
    configured = os.environ.get("ETHOS_TEST_ARTIFACTS", "")
    path = Path(configured) if configured else REPO_ROOT / "build" / "test-artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG of ``page`` as ``<artifacts>/<name>.png`` and return its path."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name)
    path = artifacts_dir() / f"{safe}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """Launch headless Chromium; skip the test (with the reason) when Playwright or Chromium is missing."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install playwright); browser tests skipped")
    executable = CHROMIUM if CHROMIUM.is_file() else shutil.which("chromium")
    if executable is None:
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium); browser tests skipped")
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=str(executable), args=list(CHROMIUM_ARGS))
        except Error as exc:
            pytest.skip(f"Chromium at {executable} did not start: {str(exc).splitlines()[0]}")
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class BrowserPage:
    """A page and every problem it reported: console errors, uncaught page errors, failed requests."""

    page: Page
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    """Every URL the page requested, in order (to prove it made no outside requests)."""

    def requests_outside(self, origin: str) -> list[str]:
        """The requested URLs that do not start with ``origin`` (``data:`` and ``blob:`` URLs aside)."""
        return [u for u in self.requests if not u.startswith((origin, "data:", "blob:"))]

    @property
    def errors(self) -> list[str]:
        """All problems, each prefixed by its kind."""
        return (
            [f"console: {e}" for e in self.console_errors]
            + [f"page error: {e}" for e in self.page_errors]
            + [f"request failed: {e}" for e in self.failed_requests]
        )

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} ({message.location.get('url', '')})")


@contextlib.contextmanager
def open_page(browser: Browser, *, width: int = 1280, height: int = 900) -> Iterator[BrowserPage]:
    """A fresh page in its own context that records console errors, page errors and failed requests."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    watched = BrowserPage(page)
    page.on("console", watched._on_console)
    page.on("pageerror", lambda exc: watched.page_errors.append(str(exc)))
    page.on("requestfailed", lambda req: watched.failed_requests.append(f"{req.url}: {req.failure}"))
    page.on("request", lambda req: watched.requests.append(req.url))
    try:
        yield watched
    finally:
        context.close()


@contextlib.contextmanager
def serve_app(app: Any) -> Iterator[AppServer]:
    """Run ``app`` on a free loopback port for the duration of the block."""
    with AppServer(app) as server:
        yield server
