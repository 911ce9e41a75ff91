"""Scan requests: plans for several pairs, ranked (a job: see ``GET /jobs/{id}``)."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import List, String
from apiflask.validators import Length, OneOf

from noxfx.timeframes import TIMEFRAMES


class ScanIn(Schema):
    symbols = List(String(validate=Length(min=3, max=40)), load_default=None, allow_none=True,
                   validate=Length(min=1, max=70),
                   metadata={"description": "Pairs to scan (default: every pair with stored "
                             "bars).", "example": ["EURUSD", "GBPUSD"]})  # fmt: skip
    timeframe = String(load_default="1h", validate=OneOf(list(TIMEFRAMES)))
    risk_tolerance = String(load_default="medium", validate=OneOf(["low", "medium", "high"]))


__all__ = ["ScanIn"]
