"""Issue 14, inputs: what the outside review sent, each answered with a 4xx problem (never a 500,
never a server path), on SQLite and PostgreSQL; and JSON log lines written once."""

from __future__ import annotations

import json
import logging
import logging.config
from pathlib import Path
from typing import Any

import pytest

from tests.service.conftest import (
    PASSWORD,
    assert_problem,
    bearer,
    make_admin,
    new_user,
    register,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


JSON = {"Content-Type": "application/json"}


def post_raw(client: Any, url: str, body: str, headers: dict[str, str] | None = None) -> Any:
    return client.post(url, data=body.encode("utf-8", "surrogatepass"),
                       headers={**JSON, **(headers or {})})  # fmt: skip


def assert_4xx_problem(response: Any) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, (response.status_code, response.data[:300])
    body = assert_problem(response, response.status_code)
    text = json.dumps(body)
    assert "/tmp" not in text and "Traceback" not in text and 'File "' not in text, text
    return body


# ---------------------------------------------------------------------------- JSON shape
@pytest.mark.parametrize("url", ["/api/v1/auth/login", "/api/v1/auth/register"])
def test_json_nested_a_thousand_levels_deep(client: Any, url: str) -> None:
    body = "[" * 1000 + "]" * 1000  # 2 KB
    assert_4xx_problem(post_raw(client, url, body))
    nested = '{"email": "a@example.com", "password": ' + "[" * 1000 + "]" * 1000 + "}"
    assert_4xx_problem(post_raw(client, url, nested))


def test_deep_json_on_an_authenticated_route(client: Any) -> None:
    _, tokens = new_user(client)
    body = '{"preferences": ' + '{"a": ' * 1000 + "1" + "}" * 1001
    r = client.patch(
        "/api/v1/users/me", data=body, headers={**JSON, **bearer(tokens["access_token"])}
    )
    assert_4xx_problem(r)


def test_integers_over_4300_digits(client: Any) -> None:
    _, tokens = new_user(client)
    huge = "9" * 5000
    body = '{"risk_settings": {"max_open_positions": ' + huge + "}}"
    r = client.patch(
        "/api/v1/users/me", data=body, headers={**JSON, **bearer(tokens["access_token"])}
    )
    assert_4xx_problem(r)
    login = '{"email": "a@example.com", "password": "x", "n": ' + huge + "}"
    assert_4xx_problem(post_raw(client, "/api/v1/auth/login", login))
    assert_4xx_problem(client.get(f"/api/v1/market-data/EURUSD?timeframe=1h&limit={huge}"))


# ---------------------------------------------------------------------------- strings
@pytest.mark.parametrize("bad", ["\\ud800", "\\udfff", "\\u0000"])
def test_lone_surrogate_or_nul_in_a_password(client: Any, bad: str) -> None:
    register(client, "surrogate@example.com")
    password = "correct horse " + bad + " battery"
    for url, body in [
        ("/api/v1/auth/login", f'{{"email": "surrogate@example.com", "password": "{password}"}}'),
        ("/api/v1/auth/register", f'{{"email": "new@example.com", "password": "{password}"}}'),
        ("/api/v1/auth/password-reset/confirm",
         f'{{"token": "abc{bad}", "password": "{password}"}}'),
    ]:  # fmt: skip
        assert_4xx_problem(post_raw(client, url, body))


def test_lone_surrogate_or_nul_in_a_token(client: Any) -> None:
    for bad in ("\\ud83d", "\\u0000"):
        for url, field in [
            ("/api/v1/auth/verify-email", "token"),
            ("/api/v1/auth/refresh", "refresh_token"),
            ("/api/v1/auth/login/mfa", "mfa_token"),
        ]:
            r = post_raw(client, url, f'{{"{field}": "tok{bad}en", "code": "123456"}}')
            assert_4xx_problem(r)
    r = client.get("/api/v1/users/me", headers={"Authorization": "Bearer abc\x00def"})
    assert_4xx_problem(r)


@pytest.mark.parametrize("bad", ["\\u0000", "\\ud800"])
def test_nul_or_surrogate_in_stored_profile_strings(client: Any, bad: str) -> None:
    _, tokens = new_user(client)
    h = {**JSON, **bearer(tokens["access_token"])}
    for body in [
        f'{{"display_name": "Ann{bad}"}}',
        f'{{"preferences": {{"language": "en{bad}"}}}}',
        f'{{"preferences": {{"notifications": {{"k{bad}": true}}}}}}',
    ]:
        assert_4xx_problem(client.patch("/api/v1/users/me", data=body, headers=h))
    me = client.get("/api/v1/users/me", headers=bearer(tokens["access_token"])).get_json()
    assert me["display_name"] == "" and me["preferences"] == {}


def test_nul_in_a_registration_display_name(client: Any) -> None:
    body = json.dumps({"email": "nul@example.com", "password": PASSWORD, "display_name": "a\x00b"})
    assert_4xx_problem(post_raw(client, "/api/v1/auth/register", body))


@pytest.mark.parametrize("bad", ["\\u0000", "\\udc00"])
def test_nul_or_surrogate_in_job_params_and_strategy_descriptions(
    market_app: Any, bad: str
) -> None:
    from noxfx.service.services.admin import set_role

    client = market_app.test_client()
    email, _ = new_user(client)
    with market_app.app_context():
        set_role(email, "analyst")
    h = {**JSON, **bearer(login_again(client, email))}
    spec = ('{"name": "rsi_dip", "description": "buy the dip' + bad + '", "parameters": {"n": '
            '{"default": 14, "min": 2, "max": 50}}, "entry_long": "rsi(close, n) < 30", '
            '"exit_long": "rsi(close, n) > 55", "direction": "long"}')  # fmt: skip
    for url, body in [
        ("/api/v1/jobs", '{"kind": "backtest", "params": {"strategy_spec": ' + spec
         + ', "symbol": "GBPUSD", "start": "2020-01-01"}}'),
        ("/api/v1/backtests", '{"strategy_spec": ' + spec + ', "symbol": "GBPUSD"}'),
        ("/api/v1/jobs", '{"kind": "backtest", "params": {"strategy": "sma_cross", '
         '"symbol": "EURUSD", "note' + bad + '": 1}}'),
    ]:  # fmt: skip
        assert_4xx_problem(client.post(url, data=body, headers=h))
    jobs = client.get("/api/v1/jobs", headers=h).get_json()
    assert not (jobs.get("items") if isinstance(jobs, dict) else jobs)


def login_again(client: Any, email: str) -> str:
    """A fresh access token (the role change voided the earlier one)."""
    r = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    return str(r.get_json()["access_token"])


def test_nul_in_query_parameters_and_headers(app: Any, client: Any) -> None:
    email, _ = new_user(client)
    make_admin(app, email)
    admin = bearer(login_again(client, email))
    assert_4xx_problem(client.get("/api/v1/admin/users?q=a%00b", headers=admin))
    r = client.post(
        "/api/v1/auth/login",
        json={"email": "a@example.com", "password": "whatever at all"},
        headers={"User-Agent": "evil\x00agent"},
    )
    assert_4xx_problem(r)


# ---------------------------------------------------------------------------- dates, paths
@pytest.mark.parametrize(
    "value", ["1500-01-01", "1677-09-21", "0001-01-01", "9999-12-31", "2262-04-11T20:00:00-05:00"]
)
def test_dates_outside_the_timestamp_range(market_app: Any, value: str) -> None:
    client = market_app.test_client()
    for name in ("start", "end"):
        r = client.get(f"/api/v1/market-data/EURUSD?timeframe=1h&{name}={value}")
        body = assert_4xx_problem(r)
        assert "home" not in body["detail"] and "parquet" not in body["detail"]


def test_dates_outside_the_range_in_a_backtest(market_app: Any) -> None:
    from noxfx.service.services.admin import set_role

    client = market_app.test_client()
    email, _ = new_user(client)
    with market_app.app_context():
        set_role(email, "analyst")
    h = bearer(login_again(client, email))
    run = {"strategy": "sma_cross", "symbol": "EURUSD", "timeframe": "1h", "start": "1500-01-01"}
    assert_4xx_problem(client.post("/api/v1/backtests", json=run, headers=h))


def test_a_broken_store_answers_without_its_path(make_app: Any, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "bars" / "EURUSD").mkdir(parents=True)
    (home / "bars" / "EURUSD" / "1h.parquet").write_bytes(b"PAR1 not really a parquet file")
    client = make_app(home=home).test_client()
    r = client.get("/api/v1/market-data/EURUSD?timeframe=1h")
    assert r.status_code >= 400
    body = assert_problem(r, r.status_code)
    text = json.dumps(body)
    assert str(tmp_path) not in text and "/tmp" not in text and "parquet" not in text, text


# ---------------------------------------------------------------------------- logs
def test_json_log_lines_are_written_once_under_gunicorn(capsys: pytest.CaptureFixture[str]) -> None:
    """gunicorn configures logging (its defaults merged with ours) before each worker builds
    the app, which configures logging again: every line must still come out once."""
    from gunicorn.glogging import CONFIG_DEFAULTS

    from noxfx.service.observability import configure_logging
    from noxfx.service.server import _GUNICORN_LOGGING

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        logging.config.dictConfig({**CONFIG_DEFAULTS, **_GUNICORN_LOGGING})
        configure_logging("INFO", json_lines=True)
        logging.getLogger("noxfx.service.test").warning("written-once-marker")
        out = capsys.readouterr()
        lines = [ln for ln in (out.out + out.err).splitlines() if "written-once-marker" in ln]
        assert len(lines) == 1, lines
        assert json.loads(lines[0])["message"] == "written-once-marker"
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
