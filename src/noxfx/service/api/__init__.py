"""The blueprint registry: every module in this package that defines ``bp`` is a resource.

Adding a resource is one file: create ``api/plans.py`` with an ``APIBlueprint`` named ``bp``
(its ``url_prefix`` relative to ``/api/v1``), set ``RATE_LIMIT`` to one of ``auth``, ``market``,
``trading``, ``ml``, ``default``, and write thin routes calling ``services/``. It is picked up,
rate-limited and registered under ``/api/v1`` in module-name order.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import Any

from apiflask import APIBlueprint, APIFlask
from flask import Response

from noxfx.service.ratelimit import limit_blueprint

API_PREFIX = "/api/v1"


def resource_modules() -> list[ModuleType]:
    """The resource modules of this package, by name."""
    modules = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if isinstance(getattr(module, "bp", None), APIBlueprint):
            modules.append(module)
    return modules


def register_blueprints(app: APIFlask) -> None:
    """Register every resource blueprint under :data:`API_PREFIX` with its rate limit."""
    for module in resource_modules():
        bp: APIBlueprint = module.bp
        limit_blueprint(bp, getattr(module, "RATE_LIMIT", "default"))
        app.register_blueprint(bp, url_prefix=f"{API_PREFIX}{bp.url_prefix or ''}")


def accepted(job: Any) -> tuple[Any, int, dict[str, str]]:
    """202 Accepted for a submitted job, with ``Location`` pointing at where to follow it."""
    return job, 202, {"Location": f"{API_PREFIX}/jobs/{job.id}"}


def json_bytes(data: bytes, status: int = 200) -> Response:
    """A response from already-serialised JSON (the cached documents)."""
    return Response(data, status=status, mimetype="application/json")


__all__ = ["API_PREFIX", "accepted", "json_bytes", "register_blueprints", "resource_modules"]
