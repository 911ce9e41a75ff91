"""noxfx.analysis.indicators: catalogue, naming, spec parsing, TA-Lib equality, no lookahead."""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
import talib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from noxfx.analysis import indicators as ind
from noxfx.analysis._registry import format_value
from noxfx.errors import InsufficientData, InvalidBars, InvalidInput

Arrays = dict[str, np.ndarray]


def _arrays(bars: pd.DataFrame) -> Arrays:
    return {c: bars[c].to_numpy(dtype=np.float64).copy() for c in bars.columns}


# ---------------------------------------------------------------------------------------------
# TA-Lib equality: the oracle is a raw TA-Lib call written out by hand for each spec


def _hl(a: Arrays) -> tuple[np.ndarray, np.ndarray]:
    return a["high"], a["low"]


def _hlc(a: Arrays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return a["high"], a["low"], a["close"]


def _ohlc(a: Arrays) -> tuple[np.ndarray, ...]:
    return a["open"], a["high"], a["low"], a["close"]


TALIB_ORACLE: dict[str, tuple[list[str], Callable[[Arrays], object]]] = {
    "sma:50": (["sma_50"], lambda a: talib.SMA(a["close"], 50)),
    "ema": (["ema_20"], lambda a: talib.EMA(a["close"], 20)),
    "wma:10": (["wma_10"], lambda a: talib.WMA(a["close"], 10)),
    "dema": (["dema_20"], lambda a: talib.DEMA(a["close"], 20)),
    "tema": (["tema_20"], lambda a: talib.TEMA(a["close"], 20)),
    "trima": (["trima_20"], lambda a: talib.TRIMA(a["close"], 20)),
    "kama": (["kama_10"], lambda a: talib.KAMA(a["close"], 10)),
    "t3:5,0.7": (["t3_5_0.7"], lambda a: talib.T3(a["close"], 5, 0.7)),
    "mama": (["mama_0.5_0.05", "mama_0.5_0.05_fama"], lambda a: talib.MAMA(a["close"], 0.5, 0.05)),
    "ht_trendline": (["ht_trendline"], lambda a: talib.HT_TRENDLINE(a["close"])),
    "midpoint": (["midpoint_14"], lambda a: talib.MIDPOINT(a["close"], 14)),
    "midprice": (["midprice_14"], lambda a: talib.MIDPRICE(*_hl(a), 14)),
    "linearreg": (["linearreg_14"], lambda a: talib.LINEARREG(a["close"], 14)),
    "linearreg_intercept": (
        ["linearreg_intercept_14"],
        lambda a: talib.LINEARREG_INTERCEPT(a["close"], 14),
    ),
    "tsf": (["tsf_14"], lambda a: talib.TSF(a["close"], 14)),
    "bbands:20,2.5": (
        ["bbands_20_2.5_upper", "bbands_20_2.5_middle", "bbands_20_2.5_lower"],
        lambda a: talib.BBANDS(a["close"], 20, 2.5, 2.5, 0),
    ),
    "sar": (["sar_0.02_0.2"], lambda a: talib.SAR(*_hl(a), 0.02, 0.2)),
    "avgprice": (["avgprice"], lambda a: talib.AVGPRICE(*_ohlc(a))),
    "medprice": (["medprice"], lambda a: talib.MEDPRICE(*_hl(a))),
    "typprice": (["typprice"], lambda a: talib.TYPPRICE(*_hlc(a))),
    "wclprice": (["wclprice"], lambda a: talib.WCLPRICE(*_hlc(a))),
    "rsi:14": (["rsi_14"], lambda a: talib.RSI(a["close"], 14)),
    "macd": (
        ["macd_12_26_9", "macd_12_26_9_signal", "macd_12_26_9_hist"],
        lambda a: talib.MACD(a["close"], 12, 26, 9),
    ),
    "stoch": (
        ["stoch_14_3_3_k", "stoch_14_3_3_d"],
        lambda a: talib.STOCH(
            *_hlc(a),
            fastk_period=14,
            slowk_period=3,
            slowk_matype=0,
            slowd_period=3,
            slowd_matype=0,
        ),
    ),
    "stochf:5,3": (
        ["stochf_5_3_k", "stochf_5_3_d"],
        lambda a: talib.STOCHF(*_hlc(a), fastk_period=5, fastd_period=3, fastd_matype=0),
    ),
    "stochrsi": (
        ["stochrsi_14_14_3_k", "stochrsi_14_14_3_d"],
        lambda a: talib.STOCHRSI(a["close"], 14, 14, 3, 0),
    ),
    "cci": (["cci_20"], lambda a: talib.CCI(*_hlc(a), 20)),
    "mfi": (["mfi_14"], lambda a: talib.MFI(*_hlc(a), a["volume"], 14)),
    "mom": (["mom_10"], lambda a: talib.MOM(a["close"], 10)),
    "roc": (["roc_10"], lambda a: talib.ROC(a["close"], 10)),
    "rocp": (["rocp_10"], lambda a: talib.ROCP(a["close"], 10)),
    "rocr": (["rocr_10"], lambda a: talib.ROCR(a["close"], 10)),
    "willr": (["willr_14"], lambda a: talib.WILLR(*_hlc(a), 14)),
    "ultosc": (["ultosc_7_14_28"], lambda a: talib.ULTOSC(*_hlc(a), 7, 14, 28)),
    "trix": (["trix_15"], lambda a: talib.TRIX(a["close"], 15)),
    "bop": (["bop"], lambda a: talib.BOP(*_ohlc(a))),
    "cmo": (["cmo_14"], lambda a: talib.CMO(a["close"], 14)),
    "ppo": (["ppo_12_26"], lambda a: talib.PPO(a["close"], 12, 26, matype=1)),
    "apo:5,20": (["apo_5_20"], lambda a: talib.APO(a["close"], 5, 20, matype=1)),
    "adx": (["adx_14"], lambda a: talib.ADX(*_hlc(a), 14)),
    "adxr": (["adxr_14"], lambda a: talib.ADXR(*_hlc(a), 14)),
    "plus_di": (["plus_di_14"], lambda a: talib.PLUS_DI(*_hlc(a), 14)),
    "minus_di": (["minus_di_14"], lambda a: talib.MINUS_DI(*_hlc(a), 14)),
    "plus_dm": (["plus_dm_14"], lambda a: talib.PLUS_DM(*_hl(a), 14)),
    "minus_dm": (["minus_dm_14"], lambda a: talib.MINUS_DM(*_hl(a), 14)),
    "dx": (["dx_14"], lambda a: talib.DX(*_hlc(a), 14)),
    "aroon:25": (["aroon_25_down", "aroon_25_up"], lambda a: talib.AROON(*_hl(a), 25)),
    "aroonosc": (["aroonosc_14"], lambda a: talib.AROONOSC(*_hl(a), 14)),
    "linearreg_slope": (["linearreg_slope_14"], lambda a: talib.LINEARREG_SLOPE(a["close"], 14)),
    "linearreg_angle": (["linearreg_angle_14"], lambda a: talib.LINEARREG_ANGLE(a["close"], 14)),
    "ht_dcperiod": (["ht_dcperiod"], lambda a: talib.HT_DCPERIOD(a["close"])),
    "ht_dcphase": (["ht_dcphase"], lambda a: talib.HT_DCPHASE(a["close"])),
    "ht_phasor": (
        ["ht_phasor_inphase", "ht_phasor_quadrature"],
        lambda a: talib.HT_PHASOR(a["close"]),
    ),
    "ht_sine": (["ht_sine_sine", "ht_sine_leadsine"], lambda a: talib.HT_SINE(a["close"])),
    "atr": (["atr_14"], lambda a: talib.ATR(*_hlc(a), 14)),
    "natr": (["natr_14"], lambda a: talib.NATR(*_hlc(a), 14)),
    "trange": (["trange"], lambda a: talib.TRANGE(*_hlc(a))),
    "stddev": (["stddev_20"], lambda a: talib.STDDEV(a["close"], 20, 1.0)),
    "var": (["var_20"], lambda a: talib.VAR(a["close"], 20, 1.0)),
    "obv": (["obv"], lambda a: talib.OBV(a["close"], a["volume"])),
    "ad": (["ad"], lambda a: talib.AD(*_hlc(a), a["volume"])),
    "adosc": (["adosc_3_10"], lambda a: talib.ADOSC(*_hlc(a), a["volume"], 3, 10)),
}


@pytest.mark.parametrize("spec", list(TALIB_ORACLE))
def test_talib_backed_columns_equal_raw_talib(spec: str, h1_bars: pd.DataFrame) -> None:
    columns, oracle = TALIB_ORACLE[spec]
    result = ind.compute(h1_bars, [spec])
    expected = oracle(_arrays(h1_bars))
    expected_arrays = expected if isinstance(expected, tuple) else (expected,)
    assert list(result.columns) == columns
    for column, values in zip(columns, expected_arrays, strict=True):
        np.testing.assert_allclose(result[column].to_numpy(), values, rtol=0, equal_nan=True)


def test_every_talib_indicator_has_an_oracle() -> None:
    covered = {ind.parse_spec(spec).indicator.name for spec in TALIB_ORACLE}
    talib_backed = {i.name for i in ind.REGISTRY if i.source == "talib" and i.category != "pattern"}
    assert talib_backed - covered == {"ht_trendmode"}  # integer output: tested separately


def test_ht_trendmode_is_float_with_nan_warmup(h1_bars: pd.DataFrame) -> None:
    raw = talib.HT_TRENDMODE(h1_bars["close"].to_numpy())
    column = ind.compute(h1_bars, ["ht_trendmode"])["ht_trendmode"].to_numpy()
    warmup = ind.parse_spec("ht_trendmode").warmup
    assert np.isnan(column[:warmup]).all()
    np.testing.assert_array_equal(column[warmup:], raw[warmup:].astype(float))


# ---------------------------------------------------------------------------------------------
# catalogue


def test_catalogue_size_and_shape() -> None:
    entries = ind.indicator_specs()
    non_pattern = [e for e in entries if e.category != "pattern"]
    assert len(non_pattern) >= 60
    assert len([e for e in entries if e.category == "pattern"]) == 61
    for entry in entries:
        assert entry.category in ind.CATEGORIES
        assert entry.description and entry.outputs and entry.inputs
        assert len(set(entry.columns())) == len(entry.outputs)
        for p in entry.params:
            assert p.min <= p.default <= p.max, (entry.name, p)
            assert isinstance(p.default, int if p.type == "int" else float)


def test_list_indicators_is_json_ready_and_filterable() -> None:
    rows = ind.list_indicators()
    json.dumps(rows)
    rsi = next(r for r in rows if r["name"] == "rsi")
    assert rsi["category"] == "momentum"
    assert rsi["outputs"] == ["rsi_14"]
    assert rsi["parameters"] == [
        {
            "name": "period",
            "type": "int",
            "default": 14,
            "min": 2,
            "max": 100_000,
            "description": "look-back length in bars",
        }
    ]
    volume = ind.list_indicators("volume")
    assert volume and all(r["category"] == "volume" for r in volume)
    with pytest.raises(InvalidInput, match="category"):
        ind.list_indicators("sideways")


def test_every_indicator_returns_its_declared_columns(h1_recent: pd.DataFrame) -> None:
    names = [e.name for e in ind.indicator_specs()]
    frame = ind.compute(h1_recent, names)
    assert list(frame.columns) == ind.column_names(names)
    assert frame.index.equals(h1_recent.index)
    floats = frame.select_dtypes("float64")
    assert not np.isinf(floats.to_numpy()).any()
    assert floats.notna().any().all()  # every column has values after warm-up


@pytest.mark.parametrize(
    "entry",
    [e for e in ind.indicator_specs() if e.category not in ("levels", "pattern")],
    ids=lambda e: e.name,
)
def test_warmup_is_exactly_the_leading_nan_rows(entry: ind.Indicator, h1_recent: pd.DataFrame):
    frame = ind.compute(h1_recent, [entry.name]).to_numpy()
    complete = ~np.isnan(frame).any(axis=1)
    assert int(np.argmax(complete)) == entry.warmup(*entry.defaults)


# ---------------------------------------------------------------------------------------------
# naming and spec parsing


@pytest.mark.parametrize(
    ("value", "text"),
    [(14, "14"), (2.0, "2"), (2.5, "2.5"), (0.02, "0.02"), (0.00001, "0.00001"), (100.0, "100")],
)
def test_format_value(value: float, text: str) -> None:
    assert format_value(value) == text


@pytest.mark.parametrize(
    ("spec", "columns"),
    [
        ("rsi:14", ["rsi_14"]),
        ("rsi_14", ["rsi_14"]),
        ("RSI(14)", ["rsi_14"]),
        (" rsi ", ["rsi_14"]),
        ("macd", ["macd_12_26_9", "macd_12_26_9_signal", "macd_12_26_9_hist"]),
        ("bbands:20,2", ["bbands_20_2_upper", "bbands_20_2_middle", "bbands_20_2_lower"]),
        ("bbands:20,2.0", ["bbands_20_2_upper", "bbands_20_2_middle", "bbands_20_2_lower"]),
        (
            "BB(period=10, nbdev=1.5)",
            ["bbands_10_1.5_upper", "bbands_10_1.5_middle", "bbands_10_1.5_lower"],
        ),
        ("atr", ["atr_14"]),
        ("adx_14", ["adx_14"]),
        ("supertrend", ["supertrend_10_3", "supertrend_10_3_direction"]),
        ("supertrend:7,2.5", ["supertrend_7_2.5", "supertrend_7_2.5_direction"]),
        (
            "ichimoku",
            [f"ichimoku_9_26_52_{o}" for o in ("tenkan", "kijun", "span_a", "span_b", "chikou")],
        ),
        ("stoch:14,3,3", ["stoch_14_3_3_k", "stoch_14_3_3_d"]),
        ("plus_di_21", ["plus_di_21"]),
        ("linearreg_slope", ["linearreg_slope_14"]),
        ("macd:12,,5", ["macd_12_26_5", "macd_12_26_5_signal", "macd_12_26_5_hist"]),
        ("cdl_engulfing", ["cdl_engulfing"]),
        ("CDL_DOJI", ["cdl_doji"]),
        ("psar", ["sar_0.02_0.2"]),
        ("ha", ["ha_open", "ha_high", "ha_low", "ha_close"]),
    ],
)
def test_spec_forms_map_to_one_name(spec: str, columns: list[str]) -> None:
    assert ind.column_names(spec) == columns


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("rsx", "Did you mean rsi"),
        ("rsi:1", r"rsi: period=1 is out of range 2\.\.100000.*rsi takes \(period: int"),
        ("rsi:abc", "rsi: period must be a number"),
        ("rsi:14.5", "whole number"),
        ("rsi:nan", "finite"),
        ("macd:1,2,3,4", r"too many parameters \(4 given, 3 allowed\).*fast: int"),
        ("bbands:width=3", "unknown parameter 'width'.*nbdev"),
        ("bbands:nbdev=3,20", "positional value"),
        ("", "empty indicator spec"),
        ("engulfing", "cdl_engulfing"),
    ],
)
def test_bad_specs_raise_invalid_input(spec: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        ind.parse_spec(spec)


def test_compute_errors(h1_recent: pd.DataFrame) -> None:
    with pytest.raises(InsufficientData, match=r"sma_200 needs at least 200 bars"):
        ind.compute(h1_recent.iloc[:150], ["rsi", "sma:200"])
    with pytest.raises(InsufficientData):
        ind.compute(h1_recent.iloc[:0], ["vwap"])
    with pytest.raises(InvalidBars, match="mfi_14 needs column"):
        ind.compute(h1_recent.drop(columns="volume"), ["rsi", "mfi"])
    with pytest.raises(InvalidInput, match="no indicator"):
        ind.compute(h1_recent, [])


def test_compute_accepts_one_spec_and_dedupes(h1_recent: pd.DataFrame) -> None:
    assert list(ind.compute(h1_recent, "rsi").columns) == ["rsi_14"]
    frame = ind.compute(h1_recent, ["rsi", "rsi:14", "RSI(14)", ind.parse_spec("ema")])
    assert list(frame.columns) == ["rsi_14", "ema_20"]


def test_compute_does_not_modify_bars_and_accepts_float32(h1_recent: pd.DataFrame) -> None:
    before = h1_recent.copy()
    ind.compute(h1_recent, ["ha", "supertrend", "vwap"])
    pd.testing.assert_frame_equal(h1_recent, before)
    as32 = ind.compute(h1_recent.astype("float32"), ["sma"])["sma_20"]
    np.testing.assert_allclose(as32, ind.compute(h1_recent, ["sma"])["sma_20"], rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# no lookahead: a prefix of the bars gives a prefix of every column


ALL_DEFAULT_SPECS = [e.name for e in ind.indicator_specs()]


@pytest.mark.parametrize("n", [400, 1337, 3001])
def test_prefix_invariance_every_indicator(n: int, h1_recent: pd.DataFrame) -> None:
    bars = h1_recent.iloc[:3500]
    full = ind.compute(bars, ALL_DEFAULT_SPECS)
    prefix = ind.compute(bars.iloc[:n], ALL_DEFAULT_SPECS)
    pd.testing.assert_frame_equal(prefix, full.iloc[:n], check_exact=False, rtol=1e-12)


def test_prefix_invariance_non_default_params(h1_recent: pd.DataFrame) -> None:
    specs = [
        "supertrend:7,1.5",
        "ichimoku:7,22,44",
        "keltner:10,1.5,5",
        "chandekroll:5,2,3",
        "hma:9",
        "dpo:7",
        "tsi:10,4",
        "bbands:10,1",
    ]
    bars = h1_recent.iloc[:2000]
    full = ind.compute(bars, specs)
    for n in (150, 999):
        pd.testing.assert_frame_equal(ind.compute(bars.iloc[:n], specs), full.iloc[:n])


def _random_bars(draw_seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(draw_seed)
    close = 1.1 * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    open_ = np.concatenate([[1.1], close[:-1]])
    spread = np.abs(rng.normal(0, 0.0008, (2, n)))
    index = pd.date_range("2024-03-08 18:00", periods=n, freq="15min", tz="UTC", name="time")
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) + spread[0],
            "low": np.minimum(open_, close) - spread[1],
            "close": close,
            "volume": rng.integers(0, 50, n).astype(float),
        },
        index=index,
    )


SMALL_WARMUP_SPECS = [e.name for e in ind.indicator_specs() if e.warmup(*e.defaults) < 80]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(120, 400), cut=st.floats(0.05, 0.95))
def test_prefix_invariance_property(seed: int, n: int, cut: float) -> None:
    bars = _random_bars(seed, n)
    k = max(80, int(n * cut))
    full = ind.compute(bars, SMALL_WARMUP_SPECS)
    pd.testing.assert_frame_equal(
        ind.compute(bars.iloc[:k], SMALL_WARMUP_SPECS),
        full.iloc[:k],
        check_exact=False,
        rtol=1e-12,
    )


@st.composite
def _requests(draw: st.DrawFn) -> tuple[ind.Indicator, tuple[float, ...]]:
    entry = draw(st.sampled_from([e for e in ind.indicator_specs() if e.params]))
    values: list[float] = []
    for p in entry.params:
        if p.type == "int":
            values.append(draw(st.integers(int(p.min), min(int(p.max), 500))))
        else:
            values.append(
                draw(
                    st.floats(float(p.min), float(p.max))
                    .map(lambda v: round(v, 4))
                    .filter(lambda v, p=p: p.min <= v <= p.max)
                )
            )
    return entry, tuple(values)


@settings(max_examples=200, deadline=None)
@given(request=_requests(), style=st.sampled_from(["colon", "underscore", "call"]))
def test_spec_round_trip(request: tuple[ind.Indicator, tuple[float, ...]], style: str) -> None:
    entry, values = request
    text = [format_value(v) for v in values]
    spec = {
        "colon": f"{entry.name}:{','.join(text)}",
        "underscore": "_".join([entry.name, *text]),
        "call": f"{entry.name.upper()}({', '.join(text)})",
    }[style]
    parsed = ind.parse_spec(spec)
    assert parsed.indicator is entry
    assert all(math.isclose(a, b) for a, b in zip(parsed.values, values, strict=True))
    assert ind.parse_spec(parsed.label).label == parsed.label
