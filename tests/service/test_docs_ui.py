"""``/docs`` in a real headless Chromium (issue 13): Swagger UI reads the OpenAPI 3.1 document
and renders its operations, with every asset served by the app itself (no CDN)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server


@pytest.fixture
def live_url(app: Any) -> Iterator[str]:
    """The app served on a free local port by a werkzeug server thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


def test_docs_render_the_operations_offline(page: Any, live_url: str) -> None:
    foreign: list[str] = []

    def only_local(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).netloc == urlsplit(live_url).netloc or url.startswith("data:"):
            route.continue_()
        else:
            foreign.append(url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(f"{live_url}/docs")
    page.wait_for_selector(".opblock", timeout=30_000)
    text = page.inner_text("body")
    assert "Unable to render this definition" not in text
    summaries = page.locator(".opblock-summary-path").all_inner_texts()
    assert len(summaries) > 20, summaries
    assert any("/api/v1/auth/login" in s.replace("\u200b", "") for s in summaries), summaries
    assert page.locator(".info .title").inner_text().startswith("NOX API")
    assert foreign == [], foreign
    assert [e for e in page.nox_errors if "favicon" not in e] == []
