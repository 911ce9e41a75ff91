"""JSON for the ML artefacts: the package's one encoder (:mod:`noxfx.jsonable`), indented."""

from __future__ import annotations

from noxfx.jsonable import dumps_pretty as dumps

__all__ = ["dumps"]
