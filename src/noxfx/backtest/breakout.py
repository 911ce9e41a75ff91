"""Session range breakout (``type: session_breakout``): the high/low of one session broken in a
later one, e.g. the London breakout of the Asian range.

Per trading day (the *trade* session's local date, so daylight saving is handled): the range is
the high and low of the bars inside the *range* session that open before the trade session
opens (with Tokyo and London: from Tokyo's 09:00 JST open, 00:00 UTC, to London's 08:00 local
open; Tokyo is still open then, but the range is fixed at London's open). From the trade
session's open, the first close above ``high + buffer_pips`` is a long entry and the first close
below ``low - buffer_pips`` a short entry (one each per day at most). Each entry's stop is the
other side of the range (minus/plus the buffer), measured from the signal bar's close; targets
in R use that stop. Combine with ``filters.sessions: [london]`` and ``exits.session_end: true``
to be flat at the session's close. Needs intraday bars (1h or finer is best; the range is
counted in whole bars by their open times). Range bars are those on the trade session's local
date, so a range session that starts the evening before (Sydney, seen from London) contributes
only its bars after local midnight.

``buffer_pips`` is converted with the pip size of ``bars.attrs["symbol"]``
(:meth:`~noxfx.backtest.strategy.Strategy.trade_signals` sets it from the backtest's symbol).

Settings (``settings:`` in the file): ``range_session`` (default ``tokyo``), ``trade_session``
(default ``london``). Parameters: ``buffer_pips`` (default 0 when not declared).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from noxfx.backtest.config import Signals
from noxfx.backtest.sessions import check_sessions, session_mask
from noxfx.backtest.strategy import Params, Strategy
from noxfx.errors import InvalidInput
from noxfx.instruments import SESSIONS, get_instrument

if TYPE_CHECKING:
    import pandas as pd


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


class SessionBreakout(Strategy):
    """Break of a session's range during a later session (see the module docstring)."""

    name = "session_breakout"
    description = "Breakout of one session's high/low during a later session."
    per_entry_stops = True

    def __init__(self, *, settings: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        settings = dict(settings or {})
        unknown = sorted(set(settings) - {"range_session", "trade_session"})
        if unknown:
            raise InvalidInput(
                f"settings: unknown key(s) {', '.join(unknown)} (range_session, trade_session)."
            )
        try:
            (self.range_session,) = check_sessions([settings.get("range_session", "tokyo")])
            (self.trade_session,) = check_sessions([settings.get("trade_session", "london")])
        except InvalidInput as exc:
            raise InvalidInput(f"settings: {exc.message}") from None
        if self.range_session == self.trade_session:
            raise InvalidInput("settings: range_session and trade_session must differ.")
        super().__init__(**kwargs)

    @property
    def signal_parameters(self) -> frozenset[str]:
        return frozenset(self.parameters)

    def signals(self, bars: pd.DataFrame, params: Params) -> Signals:
        import pandas as pd

        index = pd.DatetimeIndex(bars.index)
        if len(index) > 1 and np.median(np.diff(index.as_unit("ns").asi8)) >= 86_400 * 10**9:
            raise InvalidInput(
                f"{self.name} needs intraday bars (shorter than a day; 1h or finer is best)."
            )
        symbol = str(bars.attrs.get("symbol", "EURUSD"))  # set by trade_signals(symbol=...)
        buffer = float(params.get("buffer_pips", 0.0)) * get_instrument(symbol).pip_size
        trade = SESSIONS[self.trade_session]
        local = index.tz_convert(trade.tz)
        minutes = np.asarray(local.hour * 60 + local.minute)
        day = np.asarray(local.tz_localize(None).normalize().asi8)
        before_open = minutes < _minutes(trade.open_local)
        in_range = session_mask(index, [self.range_session]) & before_open
        in_trade = session_mask(index, [self.trade_session])
        high = bars["high"].to_numpy(dtype=np.float64)
        low = bars["low"].to_numpy(dtype=np.float64)
        close = bars["close"].to_numpy(dtype=np.float64)
        groups = pd.Series(day)
        range_high = (
            pd.Series(np.where(in_range, high, np.nan)).groupby(groups).transform("max").to_numpy()
        )
        range_low = (
            pd.Series(np.where(in_range, low, np.nan)).groupby(groups).transform("min").to_numpy()
        )
        active = in_trade & ~before_open & np.isfinite(range_high)
        up = active & (close > range_high + buffer)
        down = active & (close < range_low - buffer)
        first_up = up & (pd.Series(up).groupby(groups).cumsum().to_numpy() == 1)
        first_down = down & (pd.Series(down).groupby(groups).cumsum().to_numpy() == 1)
        stop = np.full(len(index), np.nan)
        stop[first_up] = (close - (range_low - buffer))[first_up]
        stop[first_down] = ((range_high + buffer) - close)[first_down]
        return Signals(long_entry=first_up, short_entry=first_down, stop_distance=stop)


__all__ = ["SessionBreakout"]
