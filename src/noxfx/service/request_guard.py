"""The request-level input guard: what no route can store or compute with is refused up front.

Runs before every view (after the rate limiter, so refused requests still count) and answers
with an RFC 9457 problem instead of letting a database, a parser or the bar store fail later
with a 500 (or a 503 that names a server path):

* JSON bodies (``application/json``, ``application/*+json``): at most :data:`MAX_JSON_DEPTH`
  levels of nesting (checked before parsing: the parser itself recurses), valid UTF-8, integers
  within 64 bits (Python refuses over 4,300 digits with a ValueError; databases overflow long
  before), finite numbers only (no ``NaN``, ``Infinity``, ``1e400``), and no string or key with
  a NUL or a lone UTF-16 surrogate (PostgreSQL ``text``/``jsonb`` cannot hold the first, UTF-8
  cannot encode the second): 400 for a malformed body, 422 naming the field otherwise.
* Query parameters and path segments: no NUL (422).
* Header values: no NUL or other control character than tab (400).
* Date/time inputs (query parameters and top-level body fields in :data:`TIME_FIELDS`) that
  parse but fall outside what a nanosecond timestamp holds (1677-09-22 .. 2262-04-11 UTC): 422.
  Text that is not a date at all is left to the route, which says so in its own words.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

from flask import Flask, request

from noxfx.service.errors import MalformedRequest, ValidationFailed

#: Deepest nesting of arrays/objects accepted in a JSON body (the API's deepest is ~4).
MAX_JSON_DEPTH = 32
#: Integers must fit a signed 64-bit column.
MAX_INT = 2**63 - 1
#: Parameters and top-level body fields holding a date/time.
TIME_FIELDS = frozenset({"start", "end", "as_of", "since", "until"})

_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")
_BAD_HEADER_CHAR = re.compile("[\x00-\x08\x0a-\x1f\x7f]")
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class _Rejected(ValueError):
    """A JSON body that parses only into something the service must not accept."""


def init_request_guard(app: Flask) -> None:
    """Check every request of ``app`` as described in the module docstring."""
    app.before_request(guard_request)


def guard_request() -> None:
    """Raise a problem for the first rule this request breaks (see the module docstring)."""
    _check_headers()
    for name, value in request.args.items(multi=True):
        _check_text(value, "query", name)
        if name in TIME_FIELDS:
            _check_time(value, "query", name)
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            _check_text(value, "path", name)
    if request.is_json:
        raw = request.get_data(cache=True)
        if raw.strip():
            _check_body(parse_json(raw))


def parse_json(raw: bytes) -> Any:
    """``raw`` parsed, or :class:`MalformedRequest` (too deep, invalid, out-of-range numbers)."""
    try:
        text = raw.decode(json.detect_encoding(raw))
    except (UnicodeDecodeError, LookupError) as exc:
        raise MalformedRequest("The body is not valid UTF-8 JSON.") from exc
    depth = max_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise MalformedRequest(
            f"The JSON body is nested {depth if depth < 10_000 else 'too many'} levels deep; "
            f"at most {MAX_JSON_DEPTH} are accepted."
        )
    try:
        return json.loads(text, parse_int=_parse_int, parse_float=_parse_float,
                          parse_constant=_reject_constant)  # fmt: skip
    except _Rejected as exc:
        raise MalformedRequest(f"The JSON body is not accepted: {exc}") from exc
    except (ValueError, RecursionError) as exc:
        raise MalformedRequest("The body is not valid JSON.") from exc


def max_depth(text: str) -> int:
    """The deepest nesting of ``[``/``{`` outside strings (stops counting past the limit)."""
    depth = deepest = 0
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_JSON_DEPTH:
                    return deepest
        elif token in "]}":
            depth -= 1
    return deepest


def _parse_int(literal: str) -> int:
    digits = literal.lstrip("-")
    if len(digits) > 19 or abs(int(literal)) > MAX_INT:
        raise _Rejected(f"the integer {literal[:24]}... does not fit 64 bits.")
    return int(literal)


def _parse_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _Rejected(f"the number {literal[:24]} is not finite.")
    return value


def _reject_constant(name: str) -> Any:
    raise _Rejected(f"{name} is not a number JSON allows.")


def _check_headers() -> None:
    for name, value in request.headers.items():
        if _BAD_HEADER_CHAR.search(value):
            raise MalformedRequest(f"The {name} header holds a control character.")


def _check_text(value: str, location: str, field: str) -> None:
    found = _BAD_CHAR.search(value)
    if found is None:
        return
    what = "a NUL character" if found.group() == "\x00" else "a lone UTF-16 surrogate"
    raise ValidationFailed(
        f"{field or 'A value'} contains {what}.",
        [{"location": location, "field": field or "_schema",
          "message": f"Contains {what}, which cannot be stored; remove it."}],
    )  # fmt: skip


def _check_body(data: Any) -> None:
    for path, text in _strings(data):
        _check_text(text, "json", path)
    if isinstance(data, dict):
        for name in TIME_FIELDS & data.keys():
            if isinstance(data[name], str):
                _check_time(data[name], "json", name)


def _strings(data: Any) -> Iterator[tuple[str, str]]:
    """Every string of a parsed JSON document (keys too) with its dotted path; iterative."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            yield path, node
        elif isinstance(node, dict):
            for key, value in node.items():
                child = f"{path}.{key}" if path else str(key)
                yield child, str(key)
                stack.append((child, value))
        elif isinstance(node, list):
            stack.extend((f"{path}[{i}]", value) for i, value in enumerate(node))


def _check_time(value: str, location: str, field: str) -> None:
    if not _time_out_of_range(value):
        return
    raise ValidationFailed(
        f"{field} is outside the dates the service can handle.",
        [{"location": location, "field": field,
          "message": "Use a date/time between 1677-09-22 and 2262-04-11 (UTC)."}],
    )  # fmt: skip


def _time_out_of_range(value: str) -> bool:
    """True for text that is a date/time outside the nanosecond range; False otherwise (also
    for text that is not a date: the route reports that in its own words)."""
    if not value.strip() or len(value) > 64:
        return False
    import pandas as pd

    try:
        ts = pd.Timestamp(value)
        if pd.isna(ts):
            return False
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    except (ValueError, TypeError, OverflowError):
        return False
    lo, hi = pd.Timestamp.min.tz_localize("UTC"), pd.Timestamp.max.tz_localize("UTC")
    return bool(ts < lo or ts > hi)


__all__ = ["MAX_JSON_DEPTH", "TIME_FIELDS", "guard_request", "init_request_guard", "max_depth",
           "parse_json"]  # fmt: skip
