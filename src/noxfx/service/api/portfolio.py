"""/portfolio: the user's paper portfolio."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from noxfx.service.auth import current_user, token_auth
from noxfx.service.schemas.market import PortfolioOut
from noxfx.service.security.permissions import roles_with
from noxfx.service.services.portfolio import paper_portfolio

bp = APIBlueprint("portfolio", __name__, url_prefix="/portfolio", tag="Portfolio")
RATE_LIMIT = "trading"


@bp.get("")
@bp.auth_required(token_auth, roles=roles_with("portfolio:read"))
@bp.output(PortfolioOut)
@bp.doc(summary="My paper portfolio: balance, equity, positions")
def portfolio() -> dict[str, Any]:
    return paper_portfolio(current_user())
