"""Geometry rules of the chart patterns, vectorised over windows of consecutive zigzag pivots.

Every rule looks at the window of pivots ending at pivot ``k`` (the pivot whose confirmation
completes the pattern) and uses nothing after it: pivot prices/bars up to ``k``, the ATR at the
bar that confirmed ``k`` (the *reference ATR*, all tolerances are multiples of it) and, for the
rounded bottoms, closes up to the bar of ``k``. Rules are written for one orientation and run
on negated prices for the mirror pattern (a double bottom is a double top of ``-price``).

Lines are least-squares fits of pivot prices against bar positions; a line's value at bar ``x``
is ``level + slope * (x - first_visible_bar)`` (price, price per bar). The public API is
:mod:`noxfx.analysis.chart_patterns`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from noxfx.analysis._bar_input import FloatArray
from noxfx.analysis.zigzag_nb import share_near_floor_nb

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class PatternRules:
    """Tolerances of the pattern geometry, in multiples of the reference ATR unless stated.

    ``equal_atr``: two tops/bottoms are equal within ``0.5`` ATR. ``shoulder_atr``: H&S
    shoulders within 1 ATR. ``flat_atr`` / ``flat_share``: a trendline is flat if over the
    pattern it moves less than this many ATRs and less than this share of the pattern's mean
    width. ``fit_atr``: pivots lie within this of their trendline. ``converge``: relative
    change of the pattern's width that makes lines converging (or diverging, negative).
    ``pole_ratio``: a flag's pole is at least this many times the flag's height.
    ``min_bars``: shortest pattern (bars from first to last key pivot). ``cup_min_bars`` /
    ``cup_depth_atr`` / ``cup_floor_share``: a rounded bottom lasts, is deep, and spends at least
    this share of its closes in the lower third of its depth (a parabola: 58%, a V: 33%).
    """

    equal_atr: float = 0.5
    shoulder_atr: float = 1.0
    flat_atr: float = 1.0
    flat_share: float = 0.2
    fit_atr: float = 0.6
    converge: float = 0.25
    pole_ratio: float = 2.0
    min_bars: int = 8
    cup_min_bars: int = 20
    cup_depth_atr: float = 3.0
    cup_floor_share: float = 0.45


@dataclass(slots=True)
class Hits:
    """Pattern occurrences as a struct of arrays (one element per occurrence).

    ``kind``: pattern type name; ``sign`` +1 bullish / -1 bearish; ``first``/``last``: pivot
    indices of the first and last key pivot (key pivots are ``first..last``); breakout and
    invalidation lines (see module docstring); ``height``: measured move (price);
    ``quality`` in [0, 1]; ``expiry``: last bar position at which a breakout still counts.
    """

    kind: list[str] = field(default_factory=list)
    sign: list[IntArray] = field(default_factory=list)
    first: list[IntArray] = field(default_factory=list)
    last: list[IntArray] = field(default_factory=list)
    br_level: list[FloatArray] = field(default_factory=list)
    br_slope: list[FloatArray] = field(default_factory=list)
    inv_level: list[FloatArray] = field(default_factory=list)
    inv_slope: list[FloatArray] = field(default_factory=list)
    height: list[FloatArray] = field(default_factory=list)
    quality: list[FloatArray] = field(default_factory=list)
    expiry: list[IntArray] = field(default_factory=list)

    def add(self, kind: str, sign: int | IntArray, first: IntArray, last: IntArray,
            lines: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
            height: FloatArray, quality: FloatArray, expiry: IntArray) -> None:  # fmt: skip
        """Append the occurrences of one pattern type (all arrays of the same length)."""
        n = len(first)
        if n == 0:
            return
        self.kind.extend([kind] * n)
        self.sign.append(np.broadcast_to(np.asarray(sign, dtype=np.int64), (n,)).copy())
        self.first.append(first.astype(np.int64))
        self.last.append(last.astype(np.int64))
        for store, values in zip(
            (self.br_level, self.br_slope, self.inv_level, self.inv_slope), lines, strict=True
        ):
            store.append(np.asarray(values, dtype=np.float64))
        self.height.append(np.asarray(height, dtype=np.float64))
        self.quality.append(np.clip(np.asarray(quality, dtype=np.float64), 0.0, 1.0))
        self.expiry.append(np.asarray(expiry, dtype=np.int64))


@dataclass(frozen=True, slots=True)
class Pivots:
    """Pivot arrays the rules read (see :class:`noxfx.analysis.zigzag.Zigzag`)."""

    bar: IntArray
    price: FloatArray
    kind: npt.NDArray[np.int8]
    confirmed_bar: IntArray
    atr: FloatArray
    close: FloatArray  # closes of all bars (for the rounded bottoms)


@dataclass(frozen=True, slots=True)
class Window:
    """Rows of ``m`` consecutive pivots: row ``r`` holds pivots ``first[r] .. last[r]``."""

    first: IntArray
    last: IntArray
    price: FloatArray  # (rows, m), possibly negated for the mirror rule
    bar: FloatArray  # (rows, m) bar positions as float
    kind: npt.NDArray[np.int8]  # kind of the first pivot (after orientation)
    atr: FloatArray  # reference ATR (at the confirmation of the last pivot)
    seen: FloatArray  # first visible bar (confirmation of the last pivot)

    def take(self, mask: BoolArray) -> Window:
        return Window(
            self.first[mask], self.last[mask], self.price[mask], self.bar[mask],
            self.kind[mask], self.atr[mask], self.seen[mask],
        )  # fmt: skip


def windows(piv: Pivots, m: int, orient: int = 1) -> Window:
    """All windows of ``m`` pivots; ``orient=-1`` negates prices and kinds (mirror rules)."""
    n = len(piv.bar)
    if n < m:
        empty_i = np.zeros(0, dtype=np.int64)
        empty_f = np.zeros((0, m))
        return Window(empty_i, empty_i, empty_f, empty_f, np.zeros(0, np.int8), empty_f[:, 0],
                      empty_f[:, 0])  # fmt: skip
    first = np.arange(n - m + 1, dtype=np.int64)
    last = first + m - 1
    price = sliding_window_view(piv.price, m) * orient
    bar = sliding_window_view(piv.bar.astype(np.float64), m)
    kind = (piv.kind[first] * orient).astype(np.int8)
    return Window(first, last, price, bar, kind, piv.atr[last],
                  piv.confirmed_bar[last].astype(np.float64))  # fmt: skip


def fit_line(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Row-wise least-squares lines: ``(slope, intercept, max_abs_residual)`` of ``y ~ x``."""
    xm = x.mean(axis=1, keepdims=True)
    ym = y.mean(axis=1, keepdims=True)
    dx = x - xm
    slope = (dx * (y - ym)).sum(axis=1) / (dx * dx).sum(axis=1)
    intercept = ym[:, 0] - slope * xm[:, 0]
    resid = np.abs(y - (intercept[:, None] + slope[:, None] * x)).max(axis=1)
    return slope, intercept, resid


def _horizontal(level: FloatArray) -> tuple[FloatArray, FloatArray]:
    return level, np.zeros_like(level)


def _balance(a: FloatArray, b: FloatArray) -> FloatArray:
    """1 when two durations are equal, falling to 0 as one dominates."""
    result: FloatArray = 1.0 - np.abs(a - b) / np.maximum(a + b, 1e-12)
    return result


def _mean(*scores: FloatArray) -> FloatArray:
    result: FloatArray = np.clip(np.mean(np.vstack(scores), axis=0), 0.0, 1.0)
    return result


# --- reversal patterns on horizontal levels -------------------------------------------------


def double_tops(piv: Pivots, rules: PatternRules, orient: int, out: Hits) -> None:
    """Double top ``L0 H1 L1 H2`` (``orient=-1``: double bottom). Key pivots ``H1 L1 H2``.

    Tops equal within ``equal_atr``, the valley at least 1 ATR deep, the leg into the pattern
    rising (``L0 < L1``). Breakout: the valley ``L1``; invalidation: the higher top; target:
    ``L1 - (top - L1)``.
    """
    w = windows(piv, 4, orient)
    p, b, atr = w.price, w.bar, w.atr
    top = np.maximum(p[:, 1], p[:, 3])
    spread = np.abs(p[:, 1] - p[:, 3])
    depth = np.minimum(p[:, 1], p[:, 3]) - p[:, 2]
    ok = (w.kind == -1) & (spread <= rules.equal_atr * atr) & (depth >= atr)
    ok &= (p[:, 0] < p[:, 2]) & (b[:, 3] - b[:, 1] >= rules.min_bars)
    w, top, spread, depth = w.take(ok), top[ok], spread[ok], depth[ok]
    p, b, atr = w.price, w.bar, w.atr
    height = top - p[:, 2]
    quality = _mean(
        1.0 - spread / (rules.equal_atr * atr),
        _balance(b[:, 2] - b[:, 1], b[:, 3] - b[:, 2]),
        np.clip(depth / (4.0 * atr), 0.0, 1.0),
    )
    lines = (*_horizontal(p[:, 2] * orient), *_horizontal(top * orient))
    expiry = (w.seen + (b[:, 3] - b[:, 1])).astype(np.int64)
    name = "double_top" if orient > 0 else "double_bottom"
    out.add(name, -orient, w.first + 1, w.last, lines, height, quality, expiry)


def triple_tops(piv: Pivots, rules: PatternRules, orient: int, out: Hits) -> None:
    """Triple top ``L0 H1 L1 H2 L2 H3`` (mirror: triple bottom). Key pivots ``H1 .. H3``.

    The three tops lie within ``equal_atr`` (range), the leg into the pattern rises
    (``L0 < min(L1, L2)``). Breakout: the lower valley; invalidation: the highest top; target:
    breakout - (mean top - breakout).
    """
    w = windows(piv, 6, orient)
    p, b, atr = w.price, w.bar, w.atr
    tops = p[:, [1, 3, 5]]
    spread = tops.max(axis=1) - tops.min(axis=1)
    support = np.minimum(p[:, 2], p[:, 4])
    ok = (w.kind == -1) & (spread <= rules.equal_atr * atr) & (p[:, 0] < support)
    ok &= tops.min(axis=1) - np.maximum(p[:, 2], p[:, 4]) >= atr
    ok &= b[:, 5] - b[:, 1] >= rules.min_bars
    w, tops, spread, support = w.take(ok), tops[ok], spread[ok], support[ok]
    b, atr = w.bar, w.atr
    height = tops.mean(axis=1) - support
    quality = _mean(
        1.0 - spread / (rules.equal_atr * atr),
        _balance(b[:, 3] - b[:, 1], b[:, 5] - b[:, 3]),
        np.clip(height / (4.0 * atr), 0.0, 1.0),
    )
    lines = (*_horizontal(support * orient), *_horizontal(tops.max(axis=1) * orient))
    expiry = (w.seen + (b[:, 5] - b[:, 1])).astype(np.int64)
    name = "triple_top" if orient > 0 else "triple_bottom"
    out.add(name, -orient, w.first + 1, w.last, lines, height, quality, expiry)


def head_and_shoulders(piv: Pivots, rules: PatternRules, orient: int, out: Hits) -> None:
    """Head and shoulders ``L0 LS T1 HEAD T2 RS`` (mirror: inverse). Key pivots ``LS .. RS``.

    The head tops both shoulders by ``equal_atr``, the shoulders are within ``shoulder_atr`` of
    each other, the neckline through the troughs moves less than half the pattern height, the
    sides' durations are within 3:1, and the leg into the pattern rises (``L0`` under both
    troughs). Breakout: the neckline; invalidation: the head; target: neckline at the first
    visible bar - (head - neckline under the head).
    """
    w = windows(piv, 6, orient)
    p, b, atr = w.price, w.bar, w.atr
    ls, head, rs = p[:, 1], p[:, 3], p[:, 5]
    slope = (p[:, 4] - p[:, 2]) / (b[:, 4] - b[:, 2])
    neck_at_head = p[:, 2] + slope * (b[:, 3] - b[:, 2])
    height = head - neck_at_head
    left, right = b[:, 3] - b[:, 1], b[:, 5] - b[:, 3]
    ok = (w.kind == -1) & (head - np.maximum(ls, rs) >= rules.equal_atr * atr)
    ok &= np.abs(ls - rs) <= rules.shoulder_atr * atr
    ok &= np.abs(p[:, 4] - p[:, 2]) <= 0.5 * height
    ok &= p[:, 0] < np.minimum(p[:, 2], p[:, 4])
    ok &= np.maximum(left, right) <= 3 * np.minimum(left, right)
    ok &= b[:, 5] - b[:, 1] >= rules.min_bars
    w, slope, height = w.take(ok), slope[ok], height[ok]
    p, b, atr = w.price, w.bar, w.atr
    neck_seen = p[:, 2] + slope * (w.seen - b[:, 2])
    quality = _mean(
        1.0 - np.abs(p[:, 1] - p[:, 5]) / (rules.shoulder_atr * atr),
        _balance(b[:, 3] - b[:, 1], b[:, 5] - b[:, 3]),
        1.0 - np.abs(p[:, 4] - p[:, 2]) / (0.5 * height),
        np.clip((p[:, 3] - np.maximum(p[:, 1], p[:, 5])) / (2.0 * atr), 0.0, 1.0),
    )
    lines = (neck_seen * orient, slope * orient, *_horizontal(p[:, 3] * orient))
    expiry = (w.seen + (b[:, 5] - b[:, 1])).astype(np.int64)
    name = "head_and_shoulders" if orient > 0 else "inverse_head_and_shoulders"
    out.add(name, -orient, w.first + 1, w.last, lines, height, quality, expiry)


# --- flags and pennants ---------------------------------------------------------------------


def flags_and_pennants(piv: Pivots, rules: PatternRules, orient: int, out: Hits) -> None:
    """Bull flag / pennant ``L0 H1 L1 H2 L2`` after a pole ``L0 -> H1`` (mirror: bear).

    The pole is at least ``pole_ratio`` times the consolidation's height (``H1 - min(L1, L2)``)
    and the consolidation lasts at most three poles. Highs fall (``H2 < H1``). Flag: the lows do
    not rise (``L2 <= L1 + equal_atr``) and the two lines stay parallel (width change under
    ``converge``). Pennant: the lows rise and the width shrinks by ``converge`` or more.
    Breakout: the upper line; invalidation: the lowest consolidation low; target: breakout +
    pole. Key pivots ``L0 .. L2``.
    """
    w = windows(piv, 5, orient)
    p, b, atr = w.price, w.bar, w.atr
    pole = p[:, 1] - p[:, 0]
    floor = np.minimum(p[:, 2], p[:, 4])
    up_slope = (p[:, 3] - p[:, 1]) / (b[:, 3] - b[:, 1])
    lo_slope = (p[:, 4] - p[:, 2]) / (b[:, 4] - b[:, 2])
    w0 = p[:, 1] - (p[:, 2] + lo_slope * (b[:, 1] - b[:, 2]))
    w1 = (p[:, 1] + up_slope * (b[:, 4] - b[:, 1])) - p[:, 4]
    change = (w0 - w1) / np.maximum(np.maximum(w0, w1), 1e-12)
    ok = (w.kind == -1) & (pole >= rules.pole_ratio * (p[:, 1] - floor)) & (p[:, 3] < p[:, 1])
    ok &= (b[:, 4] - b[:, 1] <= 3 * (b[:, 1] - b[:, 0])) & (w1 > 0) & (w0 > 0)
    flag = ok & (p[:, 4] <= p[:, 2] + rules.equal_atr * atr) & (np.abs(change) < rules.converge)
    pennant = ok & (p[:, 4] > p[:, 2]) & (change >= rules.converge)
    for mask, shape in ((flag, "flag"), (pennant, "pennant")):
        v = w.take(mask)
        vb, vp = v.bar, v.price
        retrace = (vp[:, 1] - floor[mask]) / pole[mask]
        fit = change[mask] if shape == "pennant" else 1.0 - np.abs(change[mask]) / rules.converge
        quality = _mean(1.0 - retrace, fit, np.clip(pole[mask] / (6.0 * v.atr), 0.0, 1.0))
        br = vp[:, 1] + up_slope[mask] * (v.seen - vb[:, 1])
        lines = (br * orient, up_slope[mask] * orient, *_horizontal(floor[mask] * orient))
        expiry = (v.seen + (vb[:, 4] - vb[:, 0])).astype(np.int64)
        name = ("bull_" if orient > 0 else "bear_") + shape
        out.add(name, orient, v.first, v.last, lines, pole[mask], quality, expiry)


# --- trendline patterns: triangles, wedges, channels, rectangles, broadening ----------------

TRENDLINE_TYPES = (
    "rectangle", "ascending_triangle", "descending_triangle", "symmetric_triangle",
    "rising_wedge", "falling_wedge", "ascending_channel", "descending_channel",
    "broadening_top", "broadening_bottom",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Lines:
    up_slope: FloatArray
    up_icpt: FloatArray
    lo_slope: FloatArray
    lo_icpt: FloatArray
    fit: FloatArray  # worst residual of either line, ATR multiples


def _fit_bands(w: Window) -> _Lines:
    """Upper line through the window's highs, lower line through its lows (per row)."""
    m, rows = w.price.shape[1], len(w.first)
    up_s, up_i, lo_s, lo_i, fit = (np.zeros(rows) for _ in range(5))
    for first_kind, high_col in ((1, 0), (-1, 1)):
        sel = w.kind == first_kind
        hi, lo = np.arange(high_col, m, 2), np.arange(1 - high_col, m, 2)
        bar, price = w.bar[sel], w.price[sel]
        up_s[sel], up_i[sel], up_r = fit_line(bar[:, hi], price[:, hi])
        lo_s[sel], lo_i[sel], lo_r = fit_line(bar[:, lo], price[:, lo])
        fit[sel] = np.maximum(up_r, lo_r) / w.atr[sel]
    return _Lines(up_s, up_i, lo_s, lo_i, fit)


def _classify(w: Window, ln: _Lines, rules: PatternRules) -> tuple[IntArray, FloatArray]:
    """Type code (index into :data:`TRENDLINE_TYPES`, -1: none) and shape score per row."""
    x0, x1 = w.bar[:, 0], w.bar[:, -1]
    span = x1 - x0
    du, dl = ln.up_slope * span, ln.lo_slope * span  # price moved by each line over the pattern
    w0 = (ln.up_icpt - ln.lo_icpt) + (ln.up_slope - ln.lo_slope) * x0
    w1 = (ln.up_icpt - ln.lo_icpt) + (ln.up_slope - ln.lo_slope) * x1
    conv = (w0 - w1) / np.maximum(np.maximum(w0, w1), 1e-12)
    flat = np.minimum(rules.flat_atr * w.atr, rules.flat_share * 0.5 * (w0 + w1))
    uf, lf = np.abs(du) <= flat, np.abs(dl) <= flat
    ur, lr, ud, ld = du > flat, dl > flat, du < -flat, dl < -flat
    narrows, widens = conv >= rules.converge, conv <= -rules.converge
    parallel = ~narrows & ~widens
    bull_entry = w.kind == 1
    conditions = [
        uf & lf & parallel,
        uf & lr & narrows,
        ud & lf & narrows,
        ud & lr & narrows,
        ur & lr & narrows,
        ud & ld & narrows,
        ur & lr & parallel,
        ud & ld & parallel,
        ur & ld & widens & bull_entry,
        ur & ld & widens & ~bull_entry,
    ]
    code = np.select(conditions, np.arange(len(conditions)), default=-1).astype(np.int64)
    valid = (w0 > 0) & (w1 > 0) & (ln.fit <= rules.fit_atr) & (span >= rules.min_bars)
    code[~valid] = -1
    shape = np.where(parallel, 1.0 - np.abs(conv) / rules.converge, np.minimum(np.abs(conv), 1.0))
    return code, shape


def trendline_patterns(piv: Pivots, rules: PatternRules, max_pivots: int, out: Hits) -> None:
    """Triangles, wedges, channels, rectangles and broadening formations on 5..``max_pivots``
    pivots. Each end pivot keeps one occurrence: the one spanning the most pivots.

    Both lines are least-squares fits (all pivots within ``fit_atr`` of their line). A line is
    flat if it moves less than ``flat_atr`` ATRs and ``flat_share`` of the mean width over the
    pattern, rising/falling otherwise; the width narrows/widens when it changes by ``converge``
    or more. Direction: wedges and
    triangles with one flat side break the classic way (rising wedge and descending triangle
    down, etc.), channels with their trend, rectangles and symmetric triangles in the direction
    of the leg that led into the pattern, broadening tops (entered from below) down and bottoms
    up. Breakout: the line on the breakout side; invalidation: the other line; measured move:
    the opening width (triangles, wedges), the mean width (rectangles, channels) or the latest
    width (broadening). A converging pattern expires at its apex at the latest.
    """
    taken = np.zeros(len(piv.bar), dtype=bool)
    for m in range(max_pivots, 4, -1):
        w = windows(piv, m)
        w = w.take(~taken[w.last])
        if len(w.first) == 0:
            continue
        ln = _fit_bands(w)
        code, shape = _classify(w, ln, rules)
        keep = code >= 0
        taken[w.last[keep]] = True
        _emit_trendline(w.take(keep), _take_lines(ln, keep), code[keep], shape[keep], rules, out)


def _take_lines(ln: _Lines, mask: BoolArray) -> _Lines:
    return _Lines(ln.up_slope[mask], ln.up_icpt[mask], ln.lo_slope[mask], ln.lo_icpt[mask],
                  ln.fit[mask])  # fmt: skip


_BULLISH = {"ascending_triangle", "falling_wedge", "ascending_channel", "broadening_bottom"}
_BY_ENTRY = {"rectangle", "symmetric_triangle"}


def _emit_trendline(w: Window, ln: _Lines, code: IntArray, shape: FloatArray,
                    rules: PatternRules, out: Hits) -> None:  # fmt: skip
    m = w.price.shape[1]
    x0, x1, seen = w.bar[:, 0], w.bar[:, -1], w.seen
    up_seen, lo_seen = ln.up_icpt + ln.up_slope * seen, ln.lo_icpt + ln.lo_slope * seen
    w0 = (ln.up_icpt - ln.lo_icpt) + (ln.up_slope - ln.lo_slope) * x0
    w1 = (ln.up_icpt - ln.lo_icpt) + (ln.up_slope - ln.lo_slope) * x1
    closing = ln.lo_slope - ln.up_slope  # > 0 when the lines converge
    apex = np.where(closing > 0, x1 + w1 / np.where(closing > 0, closing, 1.0), np.inf)
    expiry = np.minimum(seen + (x1 - x0), np.floor(apex) - 1)
    quality_base = 0.5 * (1.0 - ln.fit / rules.fit_atr) + 0.3 * min((m - 3) / 4.0, 1.0)
    for c, name in enumerate(TRENDLINE_TYPES):
        sel = (code == c) & (up_seen > lo_seen) & (expiry >= seen)
        if not sel.any():
            continue
        if name in _BY_ENTRY:
            sign = np.where(w.kind[sel] == 1, 1, -1).astype(np.int64)
        else:
            sign = np.full(int(sel.sum()), 1 if name in _BULLISH else -1, dtype=np.int64)
        bull = sign > 0
        lines = (
            np.where(bull, up_seen[sel], lo_seen[sel]),
            np.where(bull, ln.up_slope[sel], ln.lo_slope[sel]),
            np.where(bull, lo_seen[sel], up_seen[sel]),
            np.where(bull, ln.lo_slope[sel], ln.up_slope[sel]),
        )
        if name.startswith("broadening"):
            height = w1[sel]
        elif name in ("rectangle", "ascending_channel", "descending_channel"):
            height = 0.5 * (w0[sel] + w1[sel])
        else:
            height = w0[sel]
        quality = quality_base[sel] + 0.2 * shape[sel]
        out.add(name, sign, w.first[sel], w.last[sel], lines, height, quality,
                expiry[sel].astype(np.int64))  # fmt: skip


# --- rounded bottoms ------------------------------------------------------------------------

#: Pivots a cup may span (rims included): a slow U often has small inner swings.
CUP_PIVOTS = (3, 5, 7)


def _rounded(piv: Pivots, rules: PatternRules, w: Window, m: int) -> tuple[BoolArray, FloatArray]:
    """Mask and roundness score of cups on columns ``0 .. m-1`` of ``w`` (a high at each end).

    The bottom is the lowest low of the cup; inner highs stay in its lower 60%.
    """
    p, b, atr = w.price[:, :m], w.bar[:, :m], w.atr
    rim = np.minimum(p[:, 0], p[:, -1])
    lows = p[:, 1::2]
    bottom_col = 1 + 2 * np.argmin(lows, axis=1)
    rows = np.arange(len(p))
    floor = lows.min(axis=1)
    depth = rim - floor
    span = b[:, -1] - b[:, 0]
    where = (b[rows, bottom_col] - b[:, 0]) / np.maximum(span, 1.0)
    ok = (w.kind == 1) & (depth >= rules.cup_depth_atr * atr) & (span >= rules.cup_min_bars)
    ok &= np.abs(p[:, 0] - p[:, -1]) <= np.maximum(rules.equal_atr * atr, 0.2 * depth)
    ok &= (where >= 0.2) & (where <= 0.8)
    if m > 3:
        ok &= p[:, 2:-1:2].max(axis=1) <= floor + 0.6 * depth
    share = np.zeros(len(ok))
    idx = np.flatnonzero(ok)
    if len(idx):
        share[idx] = share_near_floor_nb(
            piv.close, b[idx, 0].astype(np.int64), b[idx, -1].astype(np.int64),
            floor[idx], rim[idx], 1.0 / 3.0,
        )  # fmt: skip
    ok &= share >= rules.cup_floor_share
    score = _mean(
        np.clip((share - 1.0 / 3.0) / (0.75 - 1.0 / 3.0), 0.0, 1.0),
        1.0 - np.abs(p[:, 0] - p[:, -1]) / np.maximum(depth, 1e-12),
        1.0 - 2.0 * np.abs(where - 0.5),
    )
    return ok, score


def rounded_bottoms(piv: Pivots, rules: PatternRules, out: Hits) -> None:
    """Rounding bottom ``H1 L1 .. H2`` and cup with handle ``H1 L1 .. H2 L2`` (both bullish).

    The cup spans 3, 5 or 7 pivots (the widest that qualifies wins): rims within
    ``max(equal_atr ATR, 20% of the depth)``, at least ``cup_depth_atr`` deep and
    ``cup_min_bars`` long, the low in the middle 60%, inner highs in the lower 60% of the depth,
    and at least ``cup_floor_share`` of the closes between the rims in the lower third of the
    depth (a U, not a V). Rounding bottom: breakout over the higher rim, target + depth,
    invalidated under the low. Cup with handle: a handle low ``L2`` retracing at most half the
    depth and lasting at most half the cup; breakout over the right rim, target + depth,
    invalidated under ``L2``.
    """
    taken_round = np.zeros(len(piv.bar), dtype=bool)
    taken_cup = np.zeros(len(piv.bar), dtype=bool)
    for m in sorted(CUP_PIVOTS, reverse=True):
        w = windows(piv, m)
        ok, score = _rounded(piv, rules, w, m)
        ok &= ~taken_round[w.last]
        v = w.take(ok)
        taken_round[v.last] = True
        p, b = v.price, v.bar
        floor = p[:, 1::2].min(axis=1)
        rim = np.maximum(p[:, 0], p[:, -1])
        lines = (*_horizontal(rim), *_horizontal(floor))
        expiry = (v.seen + (b[:, -1] - b[:, 0])).astype(np.int64)
        out.add("rounding_bottom", 1, v.first, v.last, lines, rim - floor, score[ok], expiry)
        _cup_with_handle(piv, rules, m, taken_cup, out)


def _cup_with_handle(piv: Pivots, rules: PatternRules, m: int, taken: BoolArray,
                     out: Hits) -> None:  # fmt: skip
    w = windows(piv, m + 1)
    ok, score = _rounded(piv, rules, w, m)
    p, b = w.price, w.bar
    right_rim, handle_low = p[:, m - 1], p[:, m]
    depth = np.maximum(p[:, 0], right_rim) - p[:, 1:m:2].min(axis=1)
    handle = right_rim - handle_low
    ok &= (handle <= 0.5 * depth) & (b[:, m] - b[:, m - 1] <= 0.5 * (b[:, m - 1] - b[:, 0]))
    ok &= ~taken[w.last]
    taken[w.last[ok]] = True
    v = w.take(ok)
    depth, handle = depth[ok], handle[ok]
    quality = 0.7 * score[ok] + 0.3 * (1.0 - handle / depth)
    lines = (*_horizontal(v.price[:, m - 1]), *_horizontal(v.price[:, m]))
    expiry = (v.seen + (v.bar[:, m] - v.bar[:, 0])).astype(np.int64)
    out.add("cup_and_handle", 1, v.first, v.last, lines, depth, quality, expiry)
