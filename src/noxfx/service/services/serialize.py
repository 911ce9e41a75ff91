"""JSON for the API: the package's one encoder (:mod:`noxfx.jsonable`), compact bytes."""

from __future__ import annotations

from noxfx.jsonable import dumps, to_jsonable

__all__ = ["dumps", "to_jsonable"]
