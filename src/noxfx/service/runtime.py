"""Per-app runtime objects built from the settings, reachable as :func:`runtime`.

The Flask habit of module-level extensions (``db``, ``limiter``, ``token_auth``) covers what
Flask extensions provide; the rest (token signing, password hashing, cache, mailer, job runner,
bar store) is built per app here and stored in ``app.extensions["nox"]``, so each test's fresh
app has its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from noxfx.data.store import BarStore
from noxfx.ml.registry import ModelRegistry
from noxfx.service.cache import Cache
from noxfx.service.jobs import JobRunner
from noxfx.service.mail import Mailer
from noxfx.service.security.mfa import SecretBox
from noxfx.service.security.passwords import PasswordHashing
from noxfx.service.security.tokens import TokenService
from noxfx.service.settings import ServiceSettings

EXTENSION_KEY = "nox"


@dataclass
class Runtime:
    settings: ServiceSettings
    tokens: TokenService
    passwords: PasswordHashing
    secret_box: SecretBox
    cache: Cache
    mailer: Mailer
    jobs: JobRunner
    store: BarStore
    redis: Any | None  # redis.Redis when NOX_REDIS_URL is set
    models: ModelRegistry  # NOX_HOME/models: trained ML models and their champions

    def close(self) -> None:
        self.jobs.close()
        if self.redis is not None:
            self.redis.close()


def runtime() -> Runtime:
    """The current app's runtime."""
    rt: Runtime = current_app.extensions[EXTENSION_KEY]
    return rt


__all__ = ["EXTENSION_KEY", "Runtime", "runtime"]
