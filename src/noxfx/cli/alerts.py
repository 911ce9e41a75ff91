"""``noxfx alerts add|list|pause|resume|rm|history``: price alerts through the running API.

Alerts belong to an account, so these commands talk to the API (``--api``, default
``$NOX_API_URL`` or http://127.0.0.1:8000) with an access token (``--token`` /
``$NOX_API_TOKEN``) or by logging in (``--email`` / ``$NOX_API_EMAIL`` with
``$NOX_API_PASSWORD``, else a password prompt). The alert fires wherever the stream runs:
inside ``make run`` / ``noxfx serve`` (embedded replay) or in ``noxfx stream`` (server mode).
"""

from __future__ import annotations

import os
from typing import Any

import typer

from noxfx.cli._output import emit_json, print_table

app = typer.Typer(help="Price alerts (through the running API).", no_args_is_help=True)

_API = typer.Option(None, "--api", help="API base URL (default $NOX_API_URL or :8000).")
_TOKEN = typer.Option(None, "--token", help="Access token (default $NOX_API_TOKEN).")
_EMAIL = typer.Option(None, "--email", help="Log in as this user (default $NOX_API_EMAIL).")
_JSON = typer.Option(False, "--json", help="Print JSON.")


class _Api:
    def __init__(self, api: str | None, token: str | None, email: str | None) -> None:
        self.base = (api or os.environ.get("NOX_API_URL") or "http://127.0.0.1:8000").rstrip("/")
        self.token = token or os.environ.get("NOX_API_TOKEN") or self._login(email)

    def _login(self, email: str | None) -> str:
        from noxfx.errors import InvalidInput

        email = email or os.environ.get("NOX_API_EMAIL")
        if not email:
            raise InvalidInput("Give --token (or NOX_API_TOKEN) or --email (or NOX_API_EMAIL).")
        password = os.environ.get("NOX_API_PASSWORD") or typer.prompt("Password", hide_input=True)
        body = self.call("POST", "/auth/login", {"email": email, "password": password}, auth=False)
        token: str = body["access_token"]
        return token

    def call(self, method: str, path: str, body: Any = None, auth: bool = True) -> Any:
        import requests

        from noxfx.errors import InvalidInput, NoxError

        headers = {"Authorization": f"Bearer {self.token}"} if auth else {}
        try:
            r = requests.request(method, f"{self.base}/api/v1{path}", json=body, headers=headers,
                                 timeout=30)  # fmt: skip
        except requests.RequestException as exc:
            raise NoxError(f"Cannot reach the API at {self.base}: {exc.__class__.__name__}. "
                           "Is `noxfx serve` (or `make run`) running?") from None  # fmt: skip
        if r.status_code >= 400:
            detail = r.json().get("detail", r.text) if r.content else r.reason
            raise InvalidInput(f"{method} {path}: {r.status_code} {detail}")
        return r.json() if r.content else None


@app.command("add")
def add(
    symbol: str = typer.Argument(..., help="Pair, e.g. EURUSD."),
    price_cross: float = typer.Option(..., "--price-cross", help="Level the price crosses."),
    direction: str = typer.Option("either", "--direction", help="up, down or either."),
    price: str = typer.Option("mid", "--price", help="bid, ask or mid."),
    webhook: str | None = typer.Option(None, "--webhook", help="Also POST it here (signed)."),
    repeat: str = typer.Option("once", "--repeat", help="once or every."),
    cooldown: float = typer.Option(0.0, "--cooldown", help="Seconds between repeats."),
    message: str = typer.Option("", "--message", help="Text sent with the alert."),
    api: str | None = _API, token: str | None = _TOKEN, email: str | None = _EMAIL,
    json_out: bool = _JSON,
) -> None:  # fmt: skip
    """Create a price-cross alert; with --webhook the signing secret is printed once."""
    body: dict[str, Any] = {
        "symbol": symbol, "repeat": repeat, "cooldown_seconds": cooldown, "message": message,
        "condition": {"type": "price_cross", "level": price_cross, "direction": direction,
                      "price": price},
        "channels": ["socket", "webhook"] if webhook else ["socket"], "webhook_url": webhook,
    }  # fmt: skip
    made = _Api(api, token, email).call("POST", "/alerts", body)
    if json_out:
        emit_json(made)
        return
    typer.echo(f"alert {made['id']}: {made['symbol']} {direction} through {price_cross} ({price})")
    if made.get("webhook_secret"):
        typer.echo(f"webhook secret (shown once): {made['webhook_secret']}")


@app.command("list")
def list_(api: str | None = _API, token: str | None = _TOKEN, email: str | None = _EMAIL,
          json_out: bool = _JSON) -> None:  # fmt: skip
    """My alerts, newest first."""
    rows = _Api(api, token, email).call("GET", "/alerts")
    if json_out:
        emit_json(rows)
        return
    print_table([{"id": r["id"], "symbol": r["symbol"], "level": r["condition"].get("level"),
                  "direction": r["condition"].get("direction"), "status": r["status"],
                  "channels": ",".join(r["channels"])} for r in rows], title="Alerts")  # fmt: skip


def _status(alert_id: str, status: str, api: str | None, token: str | None,
            email: str | None) -> None:  # fmt: skip
    done = _Api(api, token, email).call("PATCH", f"/alerts/{alert_id}", {"status": status})
    typer.echo(f"alert {done['id']}: {done['status']}")


@app.command("pause")
def pause(alert_id: str = typer.Argument(...), api: str | None = _API,
          token: str | None = _TOKEN, email: str | None = _EMAIL) -> None:  # fmt: skip
    """Pause an alert."""
    _status(alert_id, "paused", api, token, email)


@app.command("resume")
def resume(alert_id: str = typer.Argument(...), api: str | None = _API,
           token: str | None = _TOKEN, email: str | None = _EMAIL) -> None:  # fmt: skip
    """Resume a paused alert."""
    _status(alert_id, "active", api, token, email)


@app.command("rm")
def rm(alert_id: str = typer.Argument(...), api: str | None = _API,
       token: str | None = _TOKEN, email: str | None = _EMAIL) -> None:  # fmt: skip
    """Delete an alert and its history."""
    _Api(api, token, email).call("DELETE", f"/alerts/{alert_id}")
    typer.echo(f"alert {alert_id}: deleted")


@app.command("history")
def history(alert_id: str = typer.Argument(...), api: str | None = _API,
            token: str | None = _TOKEN, email: str | None = _EMAIL,
            json_out: bool = _JSON) -> None:  # fmt: skip
    """When the alert fired, and each channel's delivery state."""
    rows = _Api(api, token, email).call("GET", f"/alerts/{alert_id}/firings")
    if json_out:
        emit_json(rows)
        return
    print_table([{"fired_at": r["fired_at"], "price": r["payload"].get("price"),
                  "direction": r["payload"].get("direction"),
                  "deliveries": ", ".join(f"{d['channel']} {d['state']}"
                                          for d in r["deliveries"])}
                 for r in rows], title=f"Firings of {alert_id}")  # fmt: skip


__all__ = ["app"]
