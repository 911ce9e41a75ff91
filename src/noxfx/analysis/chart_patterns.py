"""Chart patterns found on ATR-scaled zigzag pivots, with breakout, target and status.

Conventions:

* Bars are indexed by their UTC **open** time; prices are quote-currency prices; every
  tolerance is a multiple of the ATR at the bar where the pattern became visible (see
  :class:`~noxfx.analysis._chart_rules.PatternRules`).
* A pattern is a run of consecutive confirmed zigzag pivots (:mod:`noxfx.analysis.zigzag`).
  It becomes visible (``first_visible_bar``) at the bar that confirmed its last pivot, and
  everything about it except its status is decided from bars up to that bar. Detection on
  ``bars[:t + 1]`` therefore reports exactly the patterns of a run on the full history whose
  ``first_visible_bar <= t``, with the same fields; only ``status`` (and ``status_*``) evolve.
* ``breakout_level`` is the breakout line (neckline, trendline or horizontal level) **at the
  first visible bar**; sloped lines continue at ``breakout_slope`` price per bar
  (:meth:`ChartPattern.breakout_at`). ``target`` is the measured move from that level:
  ``breakout_level + height`` for bullish patterns, ``- height`` for bearish ones.
* ``status``: ``forming`` until a bar **closes** beyond the breakout line (``confirmed``) or
  trades beyond the invalidation line (``failed``, e.g. above the head of a head and
  shoulders), whichever comes first from the first visible bar on. A pattern that does neither
  by ``expiry_bar`` (its own length again, and never past a triangle's apex) is ``failed``
  with ``status_reason='expired'``, as is one whose breakout and invalidation lines cross (past
  a pennant's apex). A pattern already invalidated (or crossed) on the bar that reveals it is
  not reported: the reversal that confirms a narrow triangle's last pivot often breaks it.
* ``direction`` is ``bullish`` or ``bearish``: continuation patterns without a built-in bias
  (rectangle, symmetric triangle) take the direction of the leg that led into them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from noxfx.analysis import _chart_rules as rules_mod
from noxfx.analysis._bar_input import AsOf, FloatArray, bars_as_of, price_arrays
from noxfx.analysis._chart_rules import Hits, PatternRules, Pivots
from noxfx.analysis.zigzag import DEFAULT_ATR_PERIOD, Zigzag, atr_series, zigzag_arrays
from noxfx.analysis.zigzag_nb import (
    STATUS_CONFIRMED,
    STATUS_EXPIRED,
    STATUS_INVALIDATED,
    pattern_status_nb,
)
from noxfx.errors import InvalidInput

Direction = Literal["bullish", "bearish", "neutral"]
Status = Literal["forming", "confirmed", "failed"]

#: Every pattern type :func:`detect_chart_patterns` can report.
PATTERN_TYPES: tuple[str, ...] = (
    "head_and_shoulders", "inverse_head_and_shoulders",
    "double_top", "double_bottom", "triple_top", "triple_bottom",
    "ascending_triangle", "descending_triangle", "symmetric_triangle",
    "rising_wedge", "falling_wedge",
    "bull_flag", "bear_flag", "bull_pennant", "bear_pennant",
    "rectangle", "ascending_channel", "descending_channel",
    "broadening_top", "broadening_bottom",
    "cup_and_handle", "rounding_bottom",
)  # fmt: skip

DEFAULT_THRESHOLD_ATR = 2.0
DEFAULT_LOOKBACK_PIVOTS = 7

# Occurrences ending on the same pivot: the more specific pattern hides the others.
_HIDES: dict[str, frozenset[str]] = {
    "head_and_shoulders": frozenset({"triple_top", "double_top"}),
    "inverse_head_and_shoulders": frozenset({"triple_bottom", "double_bottom"}),
    "triple_top": frozenset({"double_top"}),
    "triple_bottom": frozenset({"double_bottom"}),
    **{
        flag: frozenset(rules_mod.TRENDLINE_TYPES)
        for flag in ("bull_flag", "bear_flag", "bull_pennant", "bear_pennant")
    },
}
#: An occurrence sharing this many pivots with the previous one of its type extends it.
_EXTENSION_SHARED_PIVOTS = 4


@dataclass(frozen=True, slots=True)
class ChartPattern:
    """One chart pattern. Bars are positions in the analysed bars, times their UTC open times.

    ``key_points``: ``(time, price)`` of the pivots forming the pattern, oldest first
    (``key_bars`` their bar positions). ``breakout_level``/``invalidation_level``: the lines at
    ``first_visible_bar`` (price), ``*_slope`` in price per bar. ``height``: the measured move
    (price, > 0). ``quality`` in [0, 1]: symmetry, trendline fit, touches. ``atr``: the
    reference ATR (price) the tolerances were scaled by. ``start_bar``/``end_bar``: first and
    last key pivot. ``status_bar``/``status_time``: where the status was decided (None while
    forming); ``status_reason``: ``breakout`` | ``invalidated`` | ``expired`` | None.
    """

    type: str
    direction: Direction
    key_points: list[tuple[pd.Timestamp, float]]
    key_bars: list[int]
    breakout_level: float
    breakout_slope: float
    invalidation_level: float
    invalidation_slope: float
    target: float
    height: float
    quality: float
    status: Status
    status_reason: str | None
    status_bar: int | None
    status_time: pd.Timestamp | None
    first_visible_bar: int
    first_visible_time: pd.Timestamp
    start_bar: int
    end_bar: int
    expiry_bar: int
    atr: float

    def breakout_at(self, bar: int) -> float:
        """The breakout line's price at bar position ``bar``."""
        return self.breakout_level + self.breakout_slope * (bar - self.first_visible_bar)

    def invalidation_at(self, bar: int) -> float:
        """The invalidation line's price at bar position ``bar``."""
        return self.invalidation_level + self.invalidation_slope * (bar - self.first_visible_bar)

    def identity(self) -> tuple[Any, ...]:
        """Every field that never changes once the pattern is visible (all but the status)."""
        evolving = {"status", "status_reason", "status_bar", "status_time"}
        return tuple(v for k, v in asdict(self).items() if k not in evolving)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict (times as ISO-8601 UTC strings)."""
        out = asdict(self)
        out["key_points"] = [(t.isoformat(), p) for t, p in self.key_points]
        for key in ("first_visible_time", "status_time"):
            out[key] = None if out[key] is None else out[key].isoformat()
        return out


def _concat(hits: Hits) -> dict[str, Any]:
    """The struct of arrays as flat arrays (empty arrays when there are no hits)."""
    names = ("sign", "first", "last", "br_level", "br_slope", "inv_level", "inv_slope",
             "height", "quality", "expiry")  # fmt: skip
    out: dict[str, Any] = {"kind": np.asarray(hits.kind, dtype=object)}
    for name in names:
        parts = getattr(hits, name)
        dtype = np.int64 if name in ("sign", "first", "last", "expiry") else np.float64
        out[name] = np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)
    return out


def _keep(kind: Any, first: Any, last: Any) -> list[int]:
    """Indices of the occurrences to report, oldest end pivot first.

    Same end pivot: a more specific pattern hides the others (:data:`_HIDES`). Same type: an
    occurrence sharing :data:`_EXTENSION_SHARED_PIVOTS` pivots with the previous occurrence of
    that type only extends it and is not reported again. Both decisions only look at
    occurrences ending at or before the current pivot, so they hold on any prefix of history.
    """
    order = np.lexsort((first, last))
    by_end: dict[int, set[str]] = {}
    for i in order:
        by_end.setdefault(int(last[i]), set()).add(str(kind[i]))
    run_end: dict[str, int] = {}
    keep: list[int] = []
    for i in order:
        name, lo, hi = str(kind[i]), int(first[i]), int(last[i])
        if any(name in _HIDES.get(other, ()) for other in by_end[hi]):
            continue
        prev = run_end.get(name)
        run_end[name] = hi
        if prev is not None and prev - lo + 1 >= _EXTENSION_SHARED_PIVOTS:
            continue
        keep.append(int(i))
    return keep


def _find_hits(piv: Pivots, rules: PatternRules, lookback_pivots: int) -> Hits:
    hits = Hits()
    for orient in (1, -1):
        rules_mod.head_and_shoulders(piv, rules, orient, hits)
        rules_mod.triple_tops(piv, rules, orient, hits)
        rules_mod.double_tops(piv, rules, orient, hits)
        rules_mod.flags_and_pennants(piv, rules, orient, hits)
    rules_mod.trendline_patterns(piv, rules, lookback_pivots, hits)
    rules_mod.rounded_bottoms(piv, rules, hits)
    return hits


def patterns_from_pivots(
    pivots: Zigzag,
    high: FloatArray,
    low: FloatArray,
    close: FloatArray,
    *,
    lookback_pivots: int = DEFAULT_LOOKBACK_PIVOTS,
    rules: PatternRules | None = None,
) -> list[ChartPattern]:
    """Chart patterns on given zigzag pivots of the bars ``high, low, close`` (float64 arrays).

    The classifier behind :func:`detect_chart_patterns`, usable with hand-made pivots:
    ``pivots.times`` must be the bars' UTC open times and ``pivots.atr`` the ATR at each pivot's
    confirming bar. ``lookback_pivots``: the most pivots one pattern may span (5 or more).
    """
    if not isinstance(lookback_pivots, int | np.integer) or lookback_pivots < 5:
        raise InvalidInput(f"lookback_pivots must be an integer >= 5, got {lookback_pivots!r}")
    rules = rules or PatternRules()
    high, low, close = (np.ascontiguousarray(a, dtype=np.float64) for a in (high, low, close))
    piv = Pivots(pivots.bar, pivots.price, pivots.kind, pivots.confirmed_bar, pivots.atr, close)
    h = _concat(_find_hits(piv, rules, lookback_pivots))
    seen = pivots.confirmed_bar[h["last"]]
    h["code"], h["at"] = pattern_status_nb(
        high, low, close, seen, h["expiry"], h["sign"],
        h["br_level"], h["br_slope"], h["inv_level"], h["inv_slope"],
    )  # fmt: skip
    # Already broken (or its lines crossed) on the bar that reveals it: never a tradable
    # pattern, not reported.
    dead = (h["code"] == STATUS_INVALIDATED) | (h["code"] == STATUS_EXPIRED)
    alive = ~(dead & (h["at"] == seen))
    h = {name: values[alive] for name, values in h.items()}
    keep = np.asarray(_keep(h["kind"], h["first"], h["last"]), dtype=np.int64)
    return _build_all(pivots, {name: values[keep] for name, values in h.items()})


_STATUS: dict[int, tuple[Status, str | None]] = {
    STATUS_CONFIRMED: ("confirmed", "breakout"),
    STATUS_INVALIDATED: ("failed", "invalidated"),
    STATUS_EXPIRED: ("failed", "expired"),
}


def _build_all(pivots: Zigzag, h: dict[str, Any]) -> list[ChartPattern]:
    """One :class:`ChartPattern` per occurrence (times boxed in bulk: that is the slow part)."""
    first, last = h["first"], h["last"]
    lengths = last - first + 1
    ends = np.cumsum(lengths)
    # pivot index of every key point, all occurrences concatenated
    idx = np.arange(int(ends[-1]) if len(ends) else 0) - np.repeat(ends - lengths - first, lengths)
    key_bars = pivots.bar[idx].tolist()
    key_prices = pivots.price[idx].tolist()
    key_times = list(pivots.times[pivots.bar[idx]])
    seen = pivots.confirmed_bar[last]
    seen_times = list(pivots.times[seen])
    decided = np.where(h["code"] > 0, h["at"], seen)
    decided_times = list(pivots.times[decided])
    cols = {name: values.tolist() for name, values in h.items()}
    cols["seen"], cols["ref_atr"] = seen.tolist(), pivots.atr[last].tolist()
    out = []
    for i, end in enumerate(ends.tolist()):
        begin = end - int(lengths[i])
        code, sign = cols["code"][i], cols["sign"][i]
        status, reason = _STATUS.get(code, ("forming", None))
        level, height = cols["br_level"][i], cols["height"][i]
        out.append(
            ChartPattern(
                type=cols["kind"][i],
                direction="bullish" if sign > 0 else "bearish",
                key_points=list(zip(key_times[begin:end], key_prices[begin:end], strict=True)),
                key_bars=key_bars[begin:end],
                breakout_level=level,
                breakout_slope=cols["br_slope"][i],
                invalidation_level=cols["inv_level"][i],
                invalidation_slope=cols["inv_slope"][i],
                target=level + sign * height,
                height=height,
                quality=round(cols["quality"][i], 4),
                status=status,
                status_reason=reason,
                status_bar=cols["at"][i] if code else None,
                status_time=decided_times[i] if code else None,
                first_visible_bar=cols["seen"][i],
                first_visible_time=seen_times[i],
                start_bar=key_bars[begin],
                end_bar=key_bars[end - 1],
                expiry_bar=cols["expiry"][i],
                atr=cols["ref_atr"][i],
            )
        )
    return out


def detect_chart_patterns(
    bars: pd.DataFrame,
    *,
    threshold_atr: float = DEFAULT_THRESHOLD_ATR,
    lookback_pivots: int = DEFAULT_LOOKBACK_PIVOTS,
    atr_period: int = DEFAULT_ATR_PERIOD,
    rules: PatternRules | None = None,
    as_of: AsOf = None,
) -> list[ChartPattern]:
    """All chart patterns of the bars, oldest first (by first visible bar, then type).

    ``bars``: UTC open-time indexed frame with ``open, high, low, close``. ``threshold_atr``:
    zigzag reversal in ATR(``atr_period``) multiples (``2.0``: swings of about two average bar
    ranges). ``lookback_pivots``: the most pivots a trendline pattern may span. ``rules``:
    geometry tolerances. ``as_of``: only bars opening at or before it are used; bar positions
    in the result index the bars up to ``as_of``.
    """
    if not isinstance(atr_period, int | np.integer) or atr_period < 1:
        raise InvalidInput(f"atr_period must be a positive number of bars, got {atr_period!r}")
    frame = bars_as_of(bars, as_of, min_bars=int(atr_period) + 2)
    high, low, close = price_arrays(frame)
    atr = atr_series(high, low, close, int(atr_period))
    bar, price, kind, confirmed = zigzag_arrays(high, low, atr, threshold_atr)
    index = frame.index
    assert isinstance(index, pd.DatetimeIndex)
    pivots = Zigzag(bar, price, kind, confirmed, atr[confirmed], index.tz_convert("UTC"),
                    float(threshold_atr), int(atr_period))  # fmt: skip
    found = patterns_from_pivots(
        pivots, high, low, close, lookback_pivots=lookback_pivots, rules=rules
    )
    found.sort(key=lambda p: (p.first_visible_bar, p.end_bar, p.type))
    return found


def active_patterns(
    bars: pd.DataFrame,
    *,
    recent_bars: int = 10,
    threshold_atr: float = DEFAULT_THRESHOLD_ATR,
    lookback_pivots: int = DEFAULT_LOOKBACK_PIVOTS,
    atr_period: int = DEFAULT_ATR_PERIOD,
    rules: PatternRules | None = None,
    as_of: AsOf = None,
) -> list[ChartPattern]:
    """Patterns still forming at the last bar, or confirmed within its last ``recent_bars``.

    Same parameters as :func:`detect_chart_patterns`; best quality first.
    """
    found = detect_chart_patterns(
        bars, threshold_atr=threshold_atr, lookback_pivots=lookback_pivots,
        atr_period=atr_period, rules=rules, as_of=as_of,
    )  # fmt: skip
    if not found:
        return []
    last_bar = len(bars_as_of(bars, as_of)) - 1
    live = [
        p for p in found
        if p.status == "forming"
        or (p.status == "confirmed" and p.status_bar is not None
            and p.status_bar >= last_bar - recent_bars)
    ]  # fmt: skip
    live.sort(key=lambda p: (-p.quality, -p.first_visible_bar))
    return live


__all__ = [
    "DEFAULT_LOOKBACK_PIVOTS",
    "DEFAULT_THRESHOLD_ATR",
    "PATTERN_TYPES",
    "ChartPattern",
    "Direction",
    "PatternRules",
    "Status",
    "active_patterns",
    "detect_chart_patterns",
    "patterns_from_pivots",
]
