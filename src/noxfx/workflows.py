"""Use cases shared by the CLI and the API: read what a job needs from the store, call the pure
compute core, return its typed result. (The core never touches the store; the shells never
compute.)"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from noxfx.errors import InsufficientData
from noxfx.instruments import get_instrument
from noxfx.timeframes import parse_timeframe

if TYPE_CHECKING:
    import pandas as pd

    from noxfx.analysis.report import AnalysisReport
    from noxfx.data.store import BarStore
    from noxfx.ml.registry import ModelRegistry
    from noxfx.plans.generator import PlanRequest
    from noxfx.plans.model import TradingPlan

#: Years of history a plan or analysis reads (enough for the setup's track record).
HISTORY_YEARS = 5
#: Higher timeframes by analysed timeframe.
HIGHER: dict[str, tuple[str, ...]] = {
    "1m": ("5m", "15m", "1h"), "5m": ("15m", "1h", "4h"), "15m": ("1h", "4h", "1d"),
    "30m": ("1h", "4h", "1d"), "1h": ("4h", "1d"), "4h": ("1d", "1w"), "1d": ("1w",), "1w": (),
}  # fmt: skip


def load_frames(
    store: BarStore, symbol: str, timeframe: str, higher: Iterable[str] | None = None
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The last :data:`HISTORY_YEARS` of ``timeframe`` bars and the higher timeframes up to the
    same time (each stored or derived)."""
    import pandas as pd

    sym = get_instrument(symbol).symbol
    tf = parse_timeframe(timeframe)
    start = None
    if store.path(sym, tf).exists():  # stored: read only the years needed (footer gives the end)
        last = store.info(sym, tf).last
        start = last - pd.DateOffset(years=HISTORY_YEARS) if last is not None else None
    bars = store.read(sym, tf, start=start)
    if len(bars):
        bars = bars[bars.index >= bars.index[-1] - pd.DateOffset(years=HISTORY_YEARS)]
    if bars.empty:
        raise InsufficientData(f"No {sym} {tf} bars.")
    names = HIGHER[tf.name] if higher is None else tuple(higher)
    frames: dict[str, pd.DataFrame] = {}
    start = bars.index[0] - pd.DateOffset(years=1)
    for name in names:
        try:
            frames[name] = store.read(sym, name, start=start, end=bars.index[-1])
        except InsufficientData:
            continue
    return bars, frames


def prices_at(
    store: BarStore, symbols: Iterable[str], at: pd.Timestamp | None = None
) -> dict[str, float]:
    """Last close at or before ``at`` (default: the latest) of each stored symbol among
    ``symbols``, for currency conversions."""
    from noxfx.instruments import CATALOGUE

    out: dict[str, float] = {}
    for sym in symbols:
        if sym not in CATALOGUE or not store.stored_timeframes(sym):
            continue
        tf = store.stored_timeframes(sym)[-1]  # coarsest: the cheapest read
        bars = store.read(sym, tf, end=at)
        if len(bars):
            out[sym] = float(bars["close"].iloc[-1])
    return out


def with_conversion(
    store: BarStore, bars: pd.DataFrame, symbol: str, account: str, timeframe: str
) -> pd.DataFrame:
    """``bars`` with a ``conversion`` column (quote -> ``account`` rate known at each bar's
    open) taken from the stored pairs, for a backtest of a pair whose quote and base are both
    not the account currency (EURGBP on USD: GBPUSD opens, else 1 / USDGBP, else through USD);
    ``bars`` unchanged otherwise. Raises :class:`InsufficientData` naming the pair to import.
    The legs are read at ``timeframe`` where the store serves it, else at any stored one."""
    import pandas as pd

    from noxfx.risk.conversion import conversion_legs, rate_series

    inst = get_instrument(symbol)
    account = account.upper()
    if account in (inst.quote, inst.base) or not len(bars):
        return bars
    candidates = set(_conversion_symbols(symbol, account))  # the pair itself may be a leg
    opens: dict[str, pd.Series] = {}
    for sym in sorted(candidates):
        series = _opens(store, sym, timeframe, bars.index[0], bars.index[-1])
        if series is not None:
            opens[sym] = series
    legs = conversion_legs(inst.quote, account, set(opens))
    return bars.assign(conversion=rate_series(legs, opens, pd.DatetimeIndex(bars.index)))


def _opens(
    store: BarStore, symbol: str, timeframe: str, start: pd.Timestamp, end: pd.Timestamp
) -> pd.Series | None:
    """Bar opens of a stored ``symbol`` from one bar before ``start`` to ``end``, or None."""
    import pandas as pd

    from noxfx.instruments import CATALOGUE

    if symbol not in CATALOGUE or not store.stored_timeframes(symbol):
        return None
    wanted = [parse_timeframe(timeframe), *store.stored_timeframes(symbol)]
    for tf in wanted:
        step = pd.Timedelta(seconds=tf.seconds)
        try:
            bars = store.read(symbol, tf, start - step, end)
        except InsufficientData:
            continue
        if len(bars):
            return bars["open"]
    return None


def _conversion_symbols(symbol: str, account: str) -> list[str]:
    inst = get_instrument(symbol)
    a, q = account.upper(), inst.quote
    return [q + a, a + q, q + "USD", "USD" + q, a + "USD", "USD" + a]


def analysis_for(store: BarStore, symbol: str, timeframe: str,
                 higher: Iterable[str] | None = None) -> AnalysisReport:  # fmt: skip
    """The analysis report of ``symbol`` at its last stored bar."""
    from noxfx.analysis.report import analyze

    bars, frames = load_frames(store, symbol, timeframe, higher)
    return analyze(symbol, timeframe, bars, frames)


def plan_for(
    store: BarStore, request: PlanRequest, models: ModelRegistry | None = None
) -> TradingPlan:
    """The trading plan for ``request`` at the symbol's last stored bar, with the champion
    model's prediction from ``models`` (the caller's registry: the CLI's NOX_HOME/models, the
    app's own; None: no ML, said in the plan's missing inputs)."""
    from noxfx.plans.generator import generate_plan

    bars, frames = load_frames(store, request.symbol, request.timeframe)
    prices = prices_at(store, _conversion_symbols(request.symbol, request.account_currency),
                       bars.index[-1])  # fmt: skip
    ml = None if models is None else ml_prediction_for(request.symbol, request.timeframe, bars,
                                                        models)  # fmt: skip
    return generate_plan(request, bars, frames, prices=prices, ml_prediction=ml)


def ml_prediction_for(
    symbol: str, timeframe: str, bars: pd.DataFrame, models: ModelRegistry
) -> object | None:
    """The champion model's prediction at the last bar, or None when ``models`` holds no
    champion for the pair and timeframe (any other error is the caller's to see)."""
    from noxfx.ml.predict import predict
    from noxfx.ml.registry import ModelNotFound

    try:
        return predict(symbol, timeframe, bars, models)
    except ModelNotFound:
        return None


__all__ = ["HIGHER", "analysis_for", "load_frames", "plan_for", "prices_at"]
