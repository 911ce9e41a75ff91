"""Settings of the API service: :class:`noxfx.config.Settings` plus what a web service needs.

Every field is an environment variable ``NOX_<FIELD>`` (``NOX_SECRET_KEY``, ``NOX_ENVIRONMENT``,
...). The database URL is also read from ``DATABASE_URL`` (the name most platforms set), and a
``postgres://`` / ``postgresql://`` URL is mapped onto the psycopg 3 driver.

Production mode (``NOX_ENVIRONMENT=production``) refuses to start without a real secret key
(:meth:`ServiceSettings.check_production`). Development mode without a key keeps a random one in
``NOX_HOME/secret_key`` (mode 0600), so restarts and several gunicorn workers agree on it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator

from noxfx.config import Settings
from noxfx.errors import NoxError

#: Secret keys that are never acceptable in production (examples from docs and tutorials).
_DEFAULT_KEYS = frozenset(
    {"", "changeme", "change-me", "change_me", "secret", "secret-key", "secretkey", "dev",
     "development", "test", "testing", "default", "please-change-me", "your-secret-key", "nox"}
)  # fmt: skip
_MIN_PRODUCTION_KEY_LENGTH = 32


class ConfigurationError(NoxError):
    """The service configuration is unsafe or incomplete (e.g. no secret key in production)."""

    exit_code = 6
    kind = "configuration-error"


class ServiceSettings(Settings):
    """Settings of ``noxfx serve`` / ``noxfx worker``; see the module docstring."""

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("NOX_DATABASE_URL", "DATABASE_URL", "database_url"),
        description="SQLAlchemy URL; default: SQLite file in NOX_HOME.",
    )
    environment: Literal["development", "production"] = "development"
    secret_key: SecretStr | None = Field(default=None, description="Signs the access tokens.")
    jwt_algorithm: Literal["HS256"] = "HS256"
    access_token_minutes: int = Field(default=15, ge=1, le=1440)
    refresh_token_days: int = Field(default=7, ge=1, le=90)
    mfa_token_minutes: int = Field(default=5, ge=1, le=30)
    password_reset_minutes: int = Field(default=60, ge=5, le=1440)
    email_verification_hours: int = Field(default=48, ge=1, le=720)

    lockout_threshold: int = Field(default=5, ge=1, description="Failed logins before a lock.")
    lockout_base_seconds: int = Field(default=60, ge=1, description="First lock; doubles.")
    lockout_max_seconds: int = Field(default=3600, ge=1)

    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=1024)
    argon2_parallelism: int = Field(default=4, ge=1)

    rate_limits_enabled: bool = True
    rate_limit_auth: str = "5/minute"
    rate_limit_market: str = "100/minute"
    rate_limit_trading: str = "50/minute"
    rate_limit_ml: str = "20/minute"
    rate_limit_default: str = "300/minute"

    cache_ttl_quote_seconds: float = Field(default=2.0, gt=0)
    cache_ttl_bars_seconds: float = Field(default=60.0, gt=0)
    cache_ttl_analysis_seconds: float = Field(default=60.0, gt=0)
    cache_ttl_prediction_seconds: float = Field(default=900.0, gt=0)

    job_backend: Literal["auto", "thread", "celery"] = Field(
        default="auto", description="auto: Celery when NOX_REDIS_URL is set, else threads."
    )
    job_threads: int = Field(default=2, ge=1, le=64)
    job_max_active_per_user: int = Field(
        default=4, ge=1, le=1000,
        description="Jobs one user may have queued or running at once; more is a 429.",
    )  # fmt: skip
    job_params_max_bytes: int = Field(
        default=65_536, ge=1024, description="Largest job params, bytes of JSON; more is a 413."
    )
    job_lease_seconds: float = Field(
        default=60.0, gt=0, le=3600,
        description="A running job's lease: renewed by its worker's heartbeat (every third of "
        "it); a job whose lease ran out lost its worker and is re-queued or failed.",
    )  # fmt: skip
    job_max_attempts: int = Field(
        default=2, ge=1, le=10,
        description="Runs a job gets when its workers die (2: re-queued once, then failed).",
    )  # fmt: skip

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    mail_from: str = "NOX <no-reply@localhost>"
    public_url: str = Field(default="http://127.0.0.1:8000", description="Used in e-mail links.")

    cors_origins: str = Field(default="", description="Comma-separated origins, or '*'.")
    trusted_proxies: int = Field(default=0, ge=0, description="X-Forwarded-* hops to trust.")
    auto_migrate: bool = Field(default=True, description="Run `alembic upgrade head` at start.")
    log_level: str = "INFO"
    log_json: bool = True
    paper_balance: float = Field(default=10_000.0, gt=0, description="Paper account start.")
    # Socket.IO and the live feed (noxfx.service.realtime)
    web_worker: Literal["gthread", "gevent"] = Field(
        default="gthread",
        description="gunicorn worker: gthread (one thread per websocket) or gevent (one "
        "greenlet per websocket: thousands of live clients per process).",
    )
    stream_embedded: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="Run the replay stream inside the API process: auto = when no Redis.",
    )
    ws_max_subscriptions: int = Field(default=50, ge=1, description="Per connection.")
    ws_max_connections_per_user: int = Field(default=10, ge=1, description="Per API process.")
    ws_resume_max_bars: int = Field(
        default=5000, ge=1, description="Closed bars kept per symbol and timeframe for resumes."
    )
    ws_max_queue: int = Field(
        default=2000, ge=10, description="Packets queued for one client before it is dropped."
    )
    ws_auth_check_seconds: float = Field(
        default=30.0, gt=0, description="How often live connections' tokens are re-checked."
    )
    # alerts (noxfx.service.alert_listener)
    webhook_allow_private: bool = Field(
        default=False,
        description="Let webhooks reach private/loopback addresses (SSRF guard off).",
    )
    alerts_refresh_seconds: float = Field(
        default=1.0, gt=0, description="How often the live feed reloads changed alert rules."
    )

    @field_validator("database_url")
    @classmethod
    def _psycopg_driver(cls, value: str | None) -> str | None:
        if value is None:
            return None
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    # ------------------------------------------------------------------ derived
    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def outbox_dir(self) -> Path:
        """Where e-mails are written when no SMTP server is configured (embedded mode)."""
        return self.home.expanduser() / "outbox"

    @property
    def effective_job_backend(self) -> Literal["thread", "celery"]:
        if self.job_backend == "auto":
            return "celery" if self.redis_url else "thread"
        return self.job_backend

    def check_production(self) -> None:
        """Raise :class:`ConfigurationError` when production mode is configured unsafely."""
        if not self.is_production:
            return
        key = self.secret_key.get_secret_value() if self.secret_key else ""
        if key.strip().lower() in _DEFAULT_KEYS:
            raise ConfigurationError(
                "Refusing to start in production without a secret key: set NOX_SECRET_KEY to a "
                "random value of at least 32 characters (python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')."
            )
        if len(key) < _MIN_PRODUCTION_KEY_LENGTH:
            raise ConfigurationError(
                f"NOX_SECRET_KEY is {len(key)} characters; production needs at least "
                f"{_MIN_PRODUCTION_KEY_LENGTH} random characters."
            )

    def resolved_secret_key(self) -> str:
        """The signing key; in development a random one persisted in ``NOX_HOME/secret_key``."""
        self.check_production()
        if self.secret_key is not None and self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value()
        path = self.home.expanduser() / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
            try:
                os.link(tmp, path)  # atomic "create with content"; the first process wins
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return path.read_text().strip()


__all__ = ["ConfigurationError", "ServiceSettings"]
