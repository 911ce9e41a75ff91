"""Alerts on the live feed: a :class:`~noxfx.stream.events.LiveListener` and its outbox worker.

Where it runs: wherever the stream runs (the ``noxfx stream`` process in server mode, the API
process in embedded mode), registered in :data:`noxfx.stream.listeners.LISTENER_FACTORIES`.

* Price rules live in memory (:class:`noxfx.alerts.engine.PriceCrossEngine`); formula rules
  (a condition of the formula language on one symbol and timeframe) are evaluated on each
  closed bar of that timeframe over the last :data:`FORMULA_BARS` bars and fire when the
  condition turns true (false on the bar before, true on the bar that closed). A background thread
  reloads them when the ``alerts`` table changed (every ``alerts_refresh_seconds``), so a quote
  never waits for the database.
* A quote that fires a rule writes, in one transaction, the firing (with an idempotency key:
  the alert id and the quote's market time) and one outbox row per channel, and marks a
  ``once`` rule ``fired``. Nothing is sent from the stream thread.
* The outbox thread delivers pending rows: ``socket`` as event ``alert`` to room ``user_{id}``
  through the stream's emitter; ``webhook`` as a signed JSON POST (:mod:`noxfx.alerts.webhooks`;
  no redirects; private addresses refused unless ``NOX_WEBHOOK_ALLOW_PRIVATE``), retried with
  exponential backoff (2^n s, at most an hour) up to :data:`MAX_ATTEMPTS`. Rows left pending by
  a crash are delivered after the restart (at least once; receivers drop repeats by key).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from noxfx.alerts.engine import Crossing, PriceCrossEngine, PriceCrossRule
from noxfx.service.alert_models import Alert, AlertDelivery, AlertFiring

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from noxfx.data.providers.base import Quote
    from noxfx.data.store import BarStore
    from noxfx.service.settings import ServiceSettings
    from noxfx.stream.events import BarEvent, Emitter
    from noxfx.stream.listeners import ListenerContext

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
_BATCH = 100
#: Bars a formula rule is evaluated on at each close (enough for sma(close, 200) and friends).
FORMULA_BARS = 600


@dataclass(frozen=True)
class FormulaRule:
    """One active formula alert (ids as strings); ``formula`` is parsed once."""

    alert_id: str
    user_id: str
    symbol: str
    timeframe: str
    expression: str
    formula: Any
    repeat: str
    cooldown_s: float
    expires_at: float | None


def _now() -> datetime:
    return datetime.now(UTC)


def _formula_rule(alert: Alert) -> FormulaRule | None:
    from noxfx.analysis.formula import parse_formula
    from noxfx.errors import NoxError

    c = alert.condition
    if c.get("type") != "formula":
        return None
    try:
        parsed = parse_formula(c["expression"])
    except (NoxError, KeyError):
        log.warning("alerts: alert %s has an unusable formula; skipped", alert.id)
        return None
    return FormulaRule(
        alert_id=str(alert.id), user_id=str(alert.user_id), symbol=alert.symbol,
        timeframe=str(c.get("timeframe", "1h")), expression=c["expression"], formula=parsed,
        repeat=alert.repeat, cooldown_s=float(alert.cooldown_seconds or 0.0),
        expires_at=alert.expires_at.timestamp() if alert.expires_at else None,
    )  # fmt: skip


def _rule(alert: Alert) -> PriceCrossRule | None:
    c = alert.condition
    if c.get("type") != "price_cross":
        return None
    expires = alert.expires_at.timestamp() if alert.expires_at else None
    return PriceCrossRule(
        alert_id=str(alert.id), user_id=str(alert.user_id), symbol=alert.symbol,
        level=float(c["level"]), direction=c.get("direction", "either"),
        price=c.get("price", "mid"), repeat="every" if alert.repeat == "every" else "once",
        cooldown_s=float(alert.cooldown_seconds or 0.0), expires_at=expires,
    )  # fmt: skip


class AlertListener:
    """Evaluates alert rules on quotes and delivers their firings (module docstring)."""

    def __init__(
        self, settings: ServiceSettings, emitter: Emitter, store: BarStore | None = None,
        db: Engine | None = None,
    ) -> None:  # fmt: skip
        from noxfx.service.db import make_engine
        from noxfx.service.security.mfa import SecretBox

        self.settings = settings
        self.emitter = emitter
        self.db = db if db is not None else make_engine(settings.effective_database_url)
        self.box = SecretBox(settings.resolved_secret_key())
        self.rules = PriceCrossEngine()
        self.store = store
        self.formulas: dict[tuple[str, str], list[FormulaRule]] = {}
        self._formula_fired: dict[str, float] = {}
        self._formula_spent: set[str] = set()
        self._lock = threading.Lock()
        self._seen: tuple[Any, ...] | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.reload()
        self._thread = threading.Thread(target=self._work, name="nox-alerts", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ rules
    def reload(self) -> bool:
        """Reload the active rules if the table changed; whether it did."""
        with Session(self.db) as s:
            seen = s.execute(select(func.count(), func.max(Alert.updated_at))
                             .where(Alert.status == "active")).one()  # fmt: skip
            if tuple(seen) == self._seen:
                return False
            alerts = s.scalars(select(Alert).where(Alert.status == "active")).all()
            rules = [r for r in (_rule(a) for a in alerts) if r is not None]
            formulas: dict[tuple[str, str], list[FormulaRule]] = {}
            for f in (_formula_rule(a) for a in alerts):
                if f is not None:
                    formulas.setdefault((f.symbol, f.timeframe), []).append(f)
        with self._lock:
            self.rules.load(rules)
            self.formulas = formulas
        self._seen = tuple(seen)
        return True

    # ------------------------------------------------------------------ the feed
    def on_quote(self, quote: Quote) -> None:
        with self._lock:
            fired = self.rules.on_quote(quote.symbol, quote.bid, quote.ask)
        for crossing in fired:
            self._record(crossing, quote)
        if fired:
            self._wake.set()

    def on_bar_closed(self, bar: BarEvent) -> None:
        """Formula rules of the bar's symbol and timeframe, on the bars up to it."""
        with self._lock:
            rules = list(self.formulas.get((bar.symbol, bar.timeframe), ()))
        if not rules or self.store is None:
            return
        bars = self._bars_to(bar)
        if len(bars) < 2:
            return
        from noxfx.analysis.formula import evaluate

        now = time.time()
        fired = False
        for rule in rules:
            if not self._formula_ready(rule, now):
                continue
            values = evaluate(rule.formula, bars)
            if not hasattr(values, "iloc") or values.ndim != 1:
                continue
            if bool(values.iloc[-1]) and not bool(values.iloc[-2]):
                self._formula_fired[rule.alert_id] = now
                if rule.repeat != "every":
                    self._formula_spent.add(rule.alert_id)
                self._record_formula(rule, bar)
                fired = True
        if fired:
            self._wake.set()

    def _formula_ready(self, rule: FormulaRule, now: float) -> bool:
        if rule.alert_id in self._formula_spent:
            return False
        if rule.expires_at is not None and now >= rule.expires_at:
            return False
        last = self._formula_fired.get(rule.alert_id)
        return last is None or now - last >= rule.cooldown_s

    def _bars_to(self, bar: BarEvent) -> Any:
        """The last :data:`FORMULA_BARS` bars up to and including ``bar`` (from the store; the
        bar itself appended when the stream does not persist)."""
        import pandas as pd

        from noxfx.errors import InsufficientData

        assert self.store is not None
        try:
            frame = self.store.read(bar.symbol, bar.timeframe, end=bar.time).iloc[-FORMULA_BARS:]
        except InsufficientData:
            frame = pd.DataFrame(columns=["open", "high", "low", "close", "volume"])
        if not len(frame) or frame.index[-1] < bar.time:
            row = pd.DataFrame({"open": [bar.open], "high": [bar.high], "low": [bar.low],
                                "close": [bar.close], "volume": [bar.volume]},
                               index=pd.DatetimeIndex([bar.time]))  # fmt: skip
            frame = pd.concat([frame[row.columns], row]) if len(frame) else row
        return frame

    def _record_formula(self, rule: FormulaRule, bar: BarEvent) -> None:
        payload = {"alert_id": rule.alert_id, "symbol": rule.symbol, "type": "formula",
                   "timeframe": rule.timeframe, "expression": rule.expression,
                   "bar_time": bar.time.isoformat(), "close": bar.close}  # fmt: skip
        self._write_firing(rule.alert_id, f"{rule.alert_id}:{bar.time.isoformat()}", payload,
                           once=rule.repeat != "every")  # fmt: skip

    def _record(self, crossing: Crossing, quote: Quote) -> None:
        rule = crossing.rule
        key = f"{rule.alert_id}:{quote.time.isoformat()}"
        payload = {
            "alert_id": rule.alert_id, "symbol": rule.symbol, "type": "price_cross",
            "level": rule.level, "direction": crossing.direction, "price_field": rule.price,
            "price": crossing.price, "bid": quote.bid, "ask": quote.ask,
            "quote_time": quote.time.isoformat(),
        }  # fmt: skip
        self._write_firing(rule.alert_id, key, payload, once=rule.repeat == "once")

    def _write_firing(self, alert_id: str, key: str, payload: dict[str, Any], once: bool) -> None:
        """The firing and its outbox rows, in one transaction (idempotent on the key)."""
        with Session(self.db) as s, s.begin():
            alert = s.get(Alert, uuid.UUID(alert_id))
            if alert is None or alert.status != "active":
                return
            if s.scalar(select(AlertFiring.id).where(AlertFiring.idempotency_key == key)):
                return
            payload = {**payload, "message": alert.message, "idempotency_key": key}
            firing = AlertFiring(alert_id=alert.id, user_id=alert.user_id, idempotency_key=key,
                                 payload=payload)  # fmt: skip
            s.add(firing)
            s.flush()
            for channel in alert.channels:
                s.add(AlertDelivery(firing_id=firing.id, channel=channel))
            if once:
                alert.status = "fired"
        log.info("alert %s fired (%s)", alert_id, key)

    # ------------------------------------------------------------------ the outbox
    def _work(self) -> None:
        refresh = self.settings.alerts_refresh_seconds
        last_reload = time.monotonic()
        while not self._stop.is_set():
            self._wake.wait(min(refresh, 0.5))
            self._wake.clear()
            try:
                if time.monotonic() - last_reload >= refresh:
                    self.reload()
                    last_reload = time.monotonic()
                self.deliver_pending()
            except Exception:
                log.exception("alerts: outbox pass failed (retried)")

    def deliver_pending(self) -> int:
        """Send the due outbox rows once; how many were sent."""
        sent = 0
        with Session(self.db) as s:
            due = s.scalars(select(AlertDelivery)
                            .where(AlertDelivery.state == "pending",
                                   AlertDelivery.next_attempt_at <= _now())
                            .order_by(AlertDelivery.id).limit(_BATCH)).all()  # fmt: skip
            for d in due:
                firing = s.get(AlertFiring, d.firing_id)
                alert = s.get(Alert, firing.alert_id) if firing else None
                if firing is None or alert is None:
                    d.state, d.last_error = "failed", "the alert was deleted"
                    continue
                d.attempts += 1
                try:
                    self._send(d.channel, alert, firing)
                except Exception as exc:
                    d.last_error = str(exc)[:500]
                    if d.attempts >= MAX_ATTEMPTS:
                        d.state = "failed"
                    else:
                        d.next_attempt_at = _now() + timedelta(seconds=min(3600, 2**d.attempts))
                else:
                    d.state, d.sent_at, d.last_error = "sent", _now(), None
                    sent += 1
                s.commit()
        return sent

    def _send(self, channel: str, alert: Alert, firing: AlertFiring) -> None:
        if channel == "socket":
            self.emitter.emit("alert", firing.payload, room=f"user_{alert.user_id}")
            return
        if channel == "webhook":
            self._post_webhook(alert, firing.payload)
            return
        raise RuntimeError(f"unknown channel {channel!r}")

    def _post_webhook(self, alert: Alert, payload: dict[str, Any]) -> None:
        import requests

        from noxfx.alerts.webhooks import body_of, check_url, sign

        if not alert.webhook_url or not alert.webhook_secret_encrypted:
            raise RuntimeError("no webhook URL or secret")
        url = check_url(alert.webhook_url, allow_private=self.settings.webhook_allow_private)
        secret = self.box.decrypt(alert.webhook_secret_encrypted)
        if secret is None:
            raise RuntimeError("the webhook secret cannot be decrypted (secret key changed)")
        body = body_of(payload)
        r = requests.post(url, data=body, headers=sign(secret, body), timeout=5,
                          allow_redirects=False)  # fmt: skip
        if not 200 <= r.status_code < 300:
            raise RuntimeError(f"webhook answered {r.status_code}")

    def close(self) -> None:
        self._stop.set()
        self._wake.set()


def alert_listener(context: ListenerContext) -> AlertListener | None:
    """The factory the stream calls (None when the database has no alerts table yet)."""
    from sqlalchemy import inspect

    from noxfx.service.db import make_engine
    from noxfx.service.settings import ServiceSettings

    settings = context.settings
    if not isinstance(settings, ServiceSettings):
        settings = ServiceSettings()
    engine = make_engine(settings.effective_database_url)
    if not inspect(engine).has_table("alerts"):
        log.warning("alerts: no alerts table (run `noxfx db upgrade`); alerts are off")
        engine.dispose()
        return None
    return AlertListener(settings, context.emitter, context.store, db=engine)


__all__ = ["MAX_ATTEMPTS", "AlertListener", "alert_listener"]
