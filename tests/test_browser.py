"""The browser fixture itself: Debian chromium starts and renders a local page."""


def test_chromium_renders(page, tmp_path):
    f = tmp_path / "a.html"
    f.write_text("<h1 id=x>hi</h1><script>console.log('ok')</script>")
    page.goto(f.as_uri())
    assert page.text_content("#x") == "hi"
    assert page.nox_errors == []
