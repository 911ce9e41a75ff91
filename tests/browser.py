"""A real headless Chromium for the browser tests (Debian ``chromium``, driven by Playwright).

``make test`` installs Debian's chromium when it is missing (``scripts/ensure_chromium.sh``);
Playwright never downloads a browser here: it launches ``/usr/bin/chromium``. A test using the
``page`` fixture FAILS (never skips) when chromium is not installed. Console errors and page
errors are collected on ``page.nox_errors`` so tests can assert there were none.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail(
            "Debian chromium is not installed: run scripts/ensure_chromium.sh (make test does)"
        )
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        yield context
        context.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh tab; ``page.nox_errors`` lists console errors and uncaught page errors."""
    tab = browser.new_page()
    errors: list[str] = []
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.nox_errors = errors
    yield tab
    tab.close()
