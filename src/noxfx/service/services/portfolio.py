"""The paper portfolio. Positions and orders arrive with the portfolio issue; until then every
account is flat: balance = equity = the paper starting balance (``risk_settings.account_balance``
or ``NOX_PAPER_BALANCE``) in the account currency."""

from __future__ import annotations

from typing import Any

from noxfx.service.db import utcnow
from noxfx.service.models import User
from noxfx.service.runtime import runtime


def paper_portfolio(user: User) -> dict[str, Any]:
    s = runtime().settings
    risk = user.risk_settings or {}
    balance = float(risk.get("account_balance") or s.paper_balance)
    return {
        "account_type": "paper",
        "currency": str(risk.get("account_currency") or s.account_currency),
        "balance": balance,
        "equity": balance,
        "unrealized_pnl": 0.0,
        "realized_pnl": 0.0,
        "margin_used": 0.0,
        "free_margin": balance,
        "positions": [],
        "open_orders": [],
        "as_of": utcnow(),
    }


__all__ = ["paper_portfolio"]
