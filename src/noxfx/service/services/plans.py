"""Trading plans for the API: generate (cached per data version and request), store per user,
read back (another user's plan is a 404)."""

from __future__ import annotations

import json
import uuid
from dataclasses import astuple, fields
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from noxfx.service.db import db
from noxfx.service.errors import NotFound
from noxfx.service.models import Plan, User
from noxfx.service.runtime import runtime
from noxfx.service.services.market import cached, resolve
from noxfx.service.services.serialize import dumps

if TYPE_CHECKING:
    from noxfx.plans.generator import PlanRequest


def plan_document(body: dict[str, Any]) -> dict[str, Any]:
    """The TradingPlan for ``body`` (see :class:`~noxfx.service.schemas.plans.PlanIn`)."""
    result: dict[str, Any] = json.loads(_plan_json(body))
    return result


def plan_request(body: dict[str, Any]) -> PlanRequest:
    """The :class:`~noxfx.plans.generator.PlanRequest` of an API body: every field the request
    defines, by its own name (the single definition; the schema only validates)."""
    from noxfx.plans.generator import PlanRequest

    inst, tf = resolve(body["symbol"], body.get("timeframe", "1h"))
    given = {f.name: body[f.name] for f in fields(PlanRequest)
             if f.name in body and body[f.name] is not None}  # fmt: skip
    given.update(symbol=inst.symbol, timeframe=tf.name)
    if "account_currency" in given:
        given["account_currency"] = str(given["account_currency"]).upper()
    return PlanRequest(**given)


def _cache_key(kind: str, request: PlanRequest) -> str:
    """The cache key of a plan request: every field of it and the champion model it reads
    (a promoted model makes a new key; new bars do too, see :func:`market.cached`)."""
    champion = runtime().models.champion(request.symbol, request.timeframe)
    return f"{kind}:" + ":".join(str(v) for v in (*astuple(request), champion))


def _plan_json(body: dict[str, Any]) -> bytes:
    from noxfx.workflows import plan_for

    request, rt = plan_request(body), runtime()
    return cached(request.symbol, _cache_key("plan", request),
                  runtime().settings.cache_ttl_analysis_seconds,
                  lambda: dumps(plan_for(rt.store, request, rt.models).as_dict()))  # fmt: skip


def trading_strategy(body: dict[str, Any]) -> dict[str, Any]:
    """The specification's shape: ``{strategy: plan, confidence_score, ...}``."""
    plan = plan_document(body)
    return {"symbol": plan["symbol"], "timeframe": plan["timeframe"],
            "direction": plan["direction"], "confidence_score": plan["confidence_score"],
            "strategy": plan}  # fmt: skip


def trading_strategy_json(body: dict[str, Any]) -> bytes:
    """:func:`trading_strategy` as JSON bytes, cached like the plan (the hot path of
    ``POST /trading-strategy``: no parse and re-serialisation per request)."""
    request = plan_request(body)
    return cached(request.symbol, _cache_key("strategy", request),
                  runtime().settings.cache_ttl_analysis_seconds,
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
