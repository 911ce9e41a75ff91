"""Strategy files (YAML or JSON) -> :class:`~noxfx.backtest.strategy.Strategy`, with errors that
name the offending field (``exits.stop: unknown key(s) pip ...``), and the shipped templates
(``noxfx/backtest/templates/*.yaml``: :func:`list_strategies`, :func:`load_strategy`).

Keys (all but one entry rule optional)::

    name: sma_cross                       # default: the file name
    description: text
    type: formula                         # or a registered Python type (session_breakout)
    parameters:                           # name: {default, min, max, step, description} | number
      fast: {default: 10, min: 2, max: 100, step: 1}
    constraints: ["fast < slow"]          # combinations breaking them are never run
    define: "mid = (high + low) / 2"      # shared formula statements for the rules
    entry_long: cross_over(sma(close, fast), sma(close, slow))
    entry_short: ...
    exit_long: ...
    exit_short: ...
    direction: both                       # both | long | short
    exits:
      stop: {pips: 20}                    # pips, price, percent or atr (+ period); or "20 pips"
      target: {r: 2}                      # or targets: [{r: 1, close: 0.5}, {r: 3}]
      trailing_stop: {atr: 3, period: 14}
      break_even: {r: 1, offset_pips: 0.5, after_first_target: false}
      time_exit: {bars: 48}               # or a number
      opposite_signal: true               # the opposite entry closes (reverses with both)
      session_end: false                  # close when filters.sessions end
    filters:
      sessions: [london, new_york]        # entries fill inside one of them (local time)
      days: [mon, tue, wed, thu, fri]
      timezone: UTC                       # for days
    settings: {}                          # options of a Python type (see its docstring)

Amount values may be numbers, parameter names or constant expressions of parameters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib import import_module, resources
from pathlib import Path
from typing import Any

from noxfx.backtest.formula_strategy import RULES, FormulaStrategy
from noxfx.backtest.sessions import check_days, check_sessions
from noxfx.backtest.strategy import (
    UNITS,
    Amount,
    Exits,
    Filters,
    Parameter,
    Strategy,
    TargetLevel,
)
from noxfx.errors import InvalidInput

_TOP_KEYS = frozenset(
    {"name", "description", "type", "parameters", "constraints", "define", "direction", "exits",
     "filters", "settings", *RULES}
)  # fmt: skip
_EXIT_KEYS = frozenset(
    {"stop", "target", "targets", "trailing_stop", "break_even", "time_exit", "opposite_signal",
     "session_end"}
)  # fmt: skip
_SHORTHAND = re.compile(
    r"^\s*([A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d*)?|\.\d+)\s*(pips?|price|%|percent|atr|r)\s*$",
    re.IGNORECASE,
)


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{where} must be a mapping of keys to values, got {value!r}.")
    return value


def _unknown(keys: object, allowed: frozenset[str], where: str) -> None:
    extra = sorted(set(map(str, keys)) - allowed)  # type: ignore[call-overload]
    if extra:
        raise InvalidInput(
            f"{where}: unknown key(s) {', '.join(extra)} (allowed: {', '.join(sorted(allowed))})."
        )


def _bool(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{where} must be true or false, got {value!r}.")
    return value


def _number_or_expr(value: object, where: str) -> float | str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidInput(f"{where} must be a number or a parameter expression, got {value!r}.")
    if isinstance(value, str) and not value.strip():
        raise InvalidInput(f"{where} is empty.")
    return value if isinstance(value, str) else float(value)


def parse_parameters(raw: object) -> dict[str, Parameter]:
    """``parameters:`` -> :class:`Parameter` by name."""
    out: dict[str, Parameter] = {}
    for name, spec in _mapping(raw, "parameters").items():
        where = f"parameters.{name}"
        if isinstance(spec, int | float) and not isinstance(spec, bool):
            out[str(name)] = Parameter(str(name), spec)
            continue
        body = _mapping(spec, where)
        _unknown(body, frozenset({"default", "min", "max", "step", "description"}), where)
        if "default" not in body:
            raise InvalidInput(f"{where}.default is required.")
        param = Parameter(
            str(name),
            body["default"],
            body.get("min"),
            body.get("max"),
            body.get("step"),
            str(body.get("description", "")),
        )
        param.check()
        out[str(name)] = param
    return out


def parse_amount(raw: object, where: str, extra: frozenset[str] = frozenset()) -> Amount:
    """``{pips: 20}``, ``{atr: 1.5, period: 14}``, ``{r: 2}``, ``{percent: "stop_pct"}`` or the
    shorthand ``"20 pips"`` / ``"1.5 atr"`` / ``"2R"`` / ``"0.3%"``."""
    if isinstance(raw, str):
        match = _SHORTHAND.match(raw)
        if match is None:
            raise InvalidInput(
                f"{where}: cannot read {raw!r}; write e.g. '20 pips', '1.5 atr', '2 R', '0.3 %' "
                "or a mapping such as {pips: 20}."
            )
        value, unit = match.groups()
        unit = {"pip": "pips", "%": "percent"}.get(unit.lower(), unit.lower())
        number: float | str = value if value[0].isalpha() or value[0] == "_" else float(value)
        return Amount(unit, number)  # type: ignore[arg-type]
    body = _mapping(raw, where)
    units = [u for u in UNITS if u in body]
    _unknown(body, frozenset({*UNITS, "period"} | extra), where)
    if len(units) != 1:
        raise InvalidInput(
            f"{where}: give exactly one of {', '.join(UNITS)} (pips, price units, % of the fill "
            "price, ATR multiples, R = multiples of the stop)."
        )
    unit = units[0]
    period = body.get("period", 14)
    if "period" in body and unit != "atr":
        raise InvalidInput(f"{where}.period only applies to atr amounts.")
    if isinstance(period, bool) or not isinstance(period, int) or period < 1:
        raise InvalidInput(f"{where}.period must be a whole number >= 1, got {period!r}.")
    return Amount(unit, _number_or_expr(body[unit], f"{where}.{unit}"), period)  # type: ignore[arg-type]


def _targets(raw: Mapping[str, Any]) -> tuple[TargetLevel, ...]:
    if "target" in raw and "targets" in raw:
        raise InvalidInput("exits: give target or targets, not both.")
    if "target" in raw:
        return (TargetLevel(parse_amount(raw["target"], "exits.target")),)
    items = raw.get("targets") or []
    if not isinstance(items, list):
        raise InvalidInput("exits.targets must be a list of amounts.")
    levels = []
    for i, item in enumerate(items):
        where = f"exits.targets[{i}]"
        fraction = 1.0
        if isinstance(item, Mapping) and "close" in item:
            fraction = item["close"]
            if isinstance(fraction, bool) or not isinstance(fraction, int | float):
                raise InvalidInput(f"{where}.close must be a fraction in (0, 1].")
            if not 0 < fraction <= 1:
                raise InvalidInput(f"{where}.close must be in (0, 1], got {fraction}.")
        amount = parse_amount(item, where, frozenset({"close"}))
        levels.append(TargetLevel(amount, float(fraction)))
    if len(levels) > 5:
        raise InvalidInput("exits.targets: at most 5 levels.")
    return tuple(levels)


def parse_exits(raw: object) -> Exits:
    """``exits:`` -> :class:`Exits`."""
    body = _mapping(raw, "exits")
    _unknown(body, _EXIT_KEYS, "exits")
    be = body.get("break_even")
    be_extra = frozenset({"offset_pips", "after_first_target"})
    be_body = _mapping(be, "exits.break_even") if isinstance(be, Mapping) else {}
    offset = be_body.get("offset_pips", 0.0)
    if isinstance(offset, bool) or not isinstance(offset, int | float):
        raise InvalidInput("exits.break_even.offset_pips must be a number of pips.")
    time_exit = body.get("time_exit")
    bars: int | str | None = None
    if isinstance(time_exit, Mapping):
        _unknown(time_exit, frozenset({"bars"}), "exits.time_exit")
        time_exit = time_exit.get("bars")
    if time_exit is not None:
        value = _number_or_expr(time_exit, "exits.time_exit.bars")
        bars = value if isinstance(value, str) else int(value)
        if isinstance(value, float) and (not value.is_integer() or value < 1):
            raise InvalidInput("exits.time_exit.bars must be a whole number >= 1.")
    return Exits(
        stop=parse_amount(body["stop"], "exits.stop") if body.get("stop") is not None else None,
        targets=_targets(body),
        trailing_stop=(
            parse_amount(body["trailing_stop"], "exits.trailing_stop")
            if body.get("trailing_stop") is not None
            else None
        ),
        break_even=parse_amount(be, "exits.break_even", be_extra) if be is not None else None,
        break_even_offset_pips=float(offset),
        break_even_after_first_target=_bool(
            be_body.get("after_first_target", False), "exits.break_even.after_first_target"
        ),
        time_exit_bars=bars,
        opposite_signal=_bool(body.get("opposite_signal", True), "exits.opposite_signal"),
        session_end=_bool(body.get("session_end", False), "exits.session_end"),
    )


def parse_filters(raw: object) -> Filters:
    """``filters:`` -> :class:`Filters`."""
    body = _mapping(raw, "filters")
    _unknown(body, frozenset({"sessions", "days", "timezone"}), "filters")
    sessions = body.get("sessions") or []
    days = body.get("days") or []
    if isinstance(sessions, str):
        sessions = [sessions]
    if isinstance(days, str):
        days = [days]
    if not isinstance(sessions, list) or not isinstance(days, list):
        raise InvalidInput("filters.sessions and filters.days must be lists.")
    try:
        session_names = check_sessions(sessions)
    except InvalidInput as exc:
        raise InvalidInput(f"filters.sessions: {exc.message}") from None
    try:
        day_numbers = check_days(days)
    except InvalidInput as exc:
        raise InvalidInput(f"filters.days: {exc.message}") from None
    return Filters(session_names, day_numbers, str(body.get("timezone", "UTC")))


def _formula_strategy(spec: Mapping[str, Any], common: dict[str, Any]) -> Strategy:
    if "settings" in spec:
        raise InvalidInput("settings: only Python strategy types take settings.")
    rules = {}
    for rule in RULES:
        value = spec.get(rule)
        if value is not None and not isinstance(value, str):
            raise InvalidInput(f"{rule} must be a formula condition (text).")
        if value:
            rules[rule] = value
    define = spec.get("define") or ""
    if not isinstance(define, str):
        raise InvalidInput("define must be formula text.")
    return FormulaStrategy(rules=rules, define=define, **common)


def strategy_from_dict(spec: Mapping[str, Any], source: str | None = None) -> Strategy:
    """Build and validate a strategy from a parsed YAML/JSON mapping."""
    if not isinstance(spec, Mapping):
        raise InvalidInput("A strategy is a mapping of keys to values.")
    _unknown(spec, _TOP_KEYS, "strategy")
    name = str(spec.get("name") or (source and source.rsplit("/", 1)[-1].split(".")[0]) or "custom")
    constraints = spec.get("constraints") or []
    if isinstance(constraints, str):
        constraints = [constraints]
    if not isinstance(constraints, list) or not all(isinstance(c, str) for c in constraints):
        raise InvalidInput("constraints must be a list of conditions such as 'fast < slow'.")
    common: dict[str, Any] = {
        "name": name,
        "description": str(spec.get("description") or "").strip(),
        "parameters": parse_parameters(spec.get("parameters")),
        "exits": parse_exits(spec.get("exits")),
        "filters": parse_filters(spec.get("filters")),
        "direction": str(spec.get("direction", "both")).lower(),
        "constraints": tuple(constraints),
        "source": source,
    }
    kind = str(spec.get("type") or "formula")
    if kind == "formula":
        return _formula_strategy(spec, common)
    if kind not in STRATEGY_TYPES:
        known = ", ".join(["formula", *sorted(STRATEGY_TYPES)])
        raise InvalidInput(f"type: unknown strategy type {kind!r} (known: {known}).")
    for rule in (*RULES, "define"):
        if spec.get(rule):
            raise InvalidInput(f"{rule}: a {kind} strategy computes its own rules.")
    module, _, cls_name = STRATEGY_TYPES[kind].partition(":")
    cls = getattr(import_module(module), cls_name)
    return cls(settings=_mapping(spec.get("settings"), "settings"), **common)


def templates_dir() -> Path:
    """Folder of the shipped strategy templates (``noxfx/backtest/templates``)."""
    return Path(str(resources.files("noxfx.backtest") / "templates"))


def list_strategies() -> list[str]:
    """Names of the shipped templates, sorted."""
    return sorted(p.stem for p in templates_dir().glob("*.yaml"))


def load_strategy(name_or_path: str | Path) -> Strategy:
    """A shipped template by name (``"sma_cross"``) or a YAML/JSON file by path."""
    text = str(name_or_path)
    path = Path(text).expanduser()
    looks_like_file = path.suffix.lower() in (".yaml", ".yml", ".json") or path.exists()
    if not looks_like_file:
        template = templates_dir() / f"{text.strip().lower()}.yaml"
        if not template.exists():
            raise InvalidInput(
                f"Unknown strategy {text!r}; templates: {', '.join(list_strategies())} "
                "(or give the path of a .yaml/.json file)."
            )
        path = template
    elif not path.is_file():
        raise InvalidInput(f"Strategy file not found: {path}.")
    return strategy_from_dict(read_spec(path), source=str(name_or_path))


def read_spec(path: Path) -> dict[str, Any]:
    """The mapping in a YAML or JSON strategy file."""
    raw = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".json":
            import json

            spec = json.loads(raw)
        else:
            import yaml

            spec = yaml.safe_load(raw)
    except Exception as exc:  # yaml.YAMLError / json.JSONDecodeError: a syntax error
        raise InvalidInput(f"{path.name}: not valid {path.suffix[1:].upper()}: {exc}") from None
    if not isinstance(spec, dict):
        raise InvalidInput(f"{path.name}: a strategy file holds a mapping of keys to values.")
    return spec


#: Strategy types a file may name with ``type:`` -> "module:Class" (imported on first use).
STRATEGY_TYPES: dict[str, str] = {"session_breakout": "noxfx.backtest.breakout:SessionBreakout"}


def register_strategy_type(name: str, cls: type[Strategy] | str) -> None:
    """Let strategy files use ``type: name`` for a Python strategy class (its constructor takes
    the common keyword arguments plus ``settings``, a mapping from the file)."""
    if isinstance(cls, type):
        STRATEGY_TYPES[name] = f"{cls.__module__}:{cls.__qualname__}"
    else:
        STRATEGY_TYPES[name] = cls


__all__ = [
    "STRATEGY_TYPES",
    "list_strategies",
    "load_strategy",
    "parse_amount",
    "parse_exits",
    "parse_filters",
    "parse_parameters",
    "read_spec",
    "register_strategy_type",
    "strategy_from_dict",
    "templates_dir",
]
