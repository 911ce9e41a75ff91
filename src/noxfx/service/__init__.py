"""The NOX API service: Flask app factory, blueprints, accounts, jobs.

Entry points: :func:`create_app` (WSGI factory), :func:`serve` and :func:`worker` (what
``noxfx serve`` / ``noxfx worker`` call). See ``app.py`` for the layering.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from noxfx.service.app import create_app
    from noxfx.service.server import migrate, serve, set_role, worker

_LAZY = {"create_app": "noxfx.service.app", "serve": "noxfx.service.server",
         "worker": "noxfx.service.server", "migrate": "noxfx.service.server",
         "set_role": "noxfx.service.server"}  # fmt: skip


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'noxfx.service' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = ["create_app", "migrate", "serve", "set_role", "worker"]
