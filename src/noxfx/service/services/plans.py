"""Trading plans for the API: generate (cached per data version and request), store per user,
read back (another user's plan is a 404)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select

from noxfx.service.db import db
from noxfx.service.errors import NotFound
from noxfx.service.models import Plan, User
from noxfx.service.runtime import runtime
from noxfx.service.services.market import cached, resolve
from noxfx.service.services.serialize import dumps


def plan_document(body: dict[str, Any]) -> dict[str, Any]:
    """The TradingPlan for ``body`` (see :class:`~noxfx.service.schemas.plans.PlanIn`)."""
    result: dict[str, Any] = json.loads(_plan_json(body))
    return result


def _cache_key(kind: str, body: dict[str, Any]) -> tuple[str, str, str]:
    """(cache key, symbol, timeframe) of a plan request (see :func:`market.cached`)."""
    inst, tf = resolve(body["symbol"], body.get("timeframe", "1h"))
    parts = [inst.symbol, tf.name, body.get("risk_tolerance", "medium"), body.get("balance"),
             body.get("account_currency", "USD"), body.get("risk_pct"), body.get("swap_long"),
             body.get("swap_short")]  # fmt: skip
    return f"{kind}:" + ":".join(str(p) for p in parts), inst.symbol, tf.name


def _plan_json(body: dict[str, Any]) -> bytes:
    key, symbol, timeframe = _cache_key("plan", body)
    return cached(symbol, key, runtime().settings.cache_ttl_analysis_seconds,
                  lambda: dumps(_generate(symbol, timeframe, body)))  # fmt: skip


def _generate(symbol: str, timeframe: str, body: dict[str, Any]) -> dict[str, Any]:
    from noxfx.plans.generator import PlanRequest
    from noxfx.workflows import plan_for

    request = PlanRequest(
        symbol=symbol, timeframe=timeframe, balance=float(body.get("balance", 10_000.0)),
        account_currency=str(body.get("account_currency", "USD")),
        risk_pct=body.get("risk_pct"), risk_tolerance=str(body.get("risk_tolerance", "medium")),
        swap_long=body.get("swap_long"), swap_short=body.get("swap_short"),
    )  # fmt: skip
    return plan_for(runtime().store, request).as_dict()


def trading_strategy(body: dict[str, Any]) -> dict[str, Any]:
    """The specification's shape: ``{strategy: plan, confidence_score, ...}``."""
    plan = plan_document(body)
    return {"symbol": plan["symbol"], "timeframe": plan["timeframe"],
            "direction": plan["direction"], "confidence_score": plan["confidence_score"],
            "strategy": plan}  # fmt: skip


def trading_strategy_json(body: dict[str, Any]) -> bytes:
    """:func:`trading_strategy` as JSON bytes, cached like the plan (the hot path of
    ``POST /trading-strategy``: no parse and re-serialisation per request)."""
    key, symbol, _ = _cache_key("strategy", body)
    return cached(symbol, key, runtime().settings.cache_ttl_analysis_seconds,
                  lambda: dumps(trading_strategy(body)))  # fmt: skip


def create_plan(user: User, body: dict[str, Any]) -> Plan:
    doc = plan_document(body)
    plan = Plan(user_id=user.id, symbol=doc["symbol"], timeframe=doc["timeframe"], data=doc)
    db.session.add(plan)
    db.session.commit()
    return plan


def list_plans(user: User, limit: int = 50, offset: int = 0) -> list[Plan]:
    stmt = (select(Plan).where(Plan.user_id == user.id).order_by(Plan.created_at.desc())
            .limit(limit).offset(offset))  # fmt: skip
    return list(db.session.scalars(stmt))


def get_plan(user: User, plan_id: uuid.UUID) -> Plan:
    plan = db.session.get(Plan, plan_id)
    if plan is None or plan.user_id != user.id:
        raise NotFound(f"No plan {plan_id}.")
    return plan


__all__ = [
    "create_plan",
    "get_plan",
    "list_plans",
    "plan_document",
    "trading_strategy",
    "trading_strategy_json",
]
