"""Settings of the market-data providers, read from ``NOX_*`` environment variables / ``.env``.

Kept apart from :class:`noxfx.config.Settings` so the core settings object does not grow a field
per vendor. Secrets are ``SecretStr`` (never printed); only whether they are set is reported.

=============================== ================================================================
variable                        meaning
=============================== ================================================================
NOX_OANDA_TOKEN                 OANDA v20 personal access token (Bearer)
NOX_OANDA_ENV                   ``practice`` (default, fxTrade Practice) or ``live`` (fxTrade)
NOX_OANDA_ACCOUNT               OANDA account id (``101-004-1234567-001``): needed for quotes
                                and the price stream, not for candles
NOX_ALPHAVANTAGE_KEY            Alpha Vantage API key
NOX_PROVIDER_CHAIN              fallback chain for history, e.g. ``oanda,dukascopy,yahoo``
NOX_QUOTE_PROVIDER              provider for ``noxfx quote`` (default ``replay``: embedded mode)
NOX_PROVIDER_TIMEOUT            read timeout per request, seconds (default 15)
NOX_PROVIDER_CONNECT_TIMEOUT    connect timeout, seconds (default 5)
NOX_PROVIDER_RETRIES            attempts per request, including the first (default 4)
NOX_PROVIDER_BACKOFF            first backoff, seconds; doubles per attempt (default 0.5)
NOX_PROVIDER_BACKOFF_MAX        backoff cap, seconds (default 30)
NOX_PROVIDER_BREAKER_FAILURES   consecutive failures that open a circuit (default 5)
NOX_PROVIDER_BREAKER_RESET      seconds a circuit stays open before a trial call (default 60)
NOX_PROVIDER_CACHE_TTL          seconds historical responses are cached (default 300)
NOX_REDIS_URL                   when set, the response cache lives in Redis (server mode)
=============================== ================================================================
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ProviderSettings(BaseSettings):
    """Provider credentials, the fallback chain and the resilience knobs (see module docs)."""

    model_config = SettingsConfigDict(env_prefix="NOX_", env_file=".env", extra="ignore")

    oanda_token: SecretStr | None = Field(default=None, description="OANDA v20 access token.")
    oanda_env: Literal["practice", "live"] = Field(
        default="practice", description="OANDA environment: practice or live."
    )
    oanda_account: str | None = Field(default=None, description="OANDA account id.")
    oanda_stream_url: str | None = Field(
        default=None,
        description="Pricing-stream host (default: OANDA's for NOX_OANDA_ENV; tests and "
        "staging point it at a local server).",
    )
    alphavantage_key: SecretStr | None = Field(default=None, description="Alpha Vantage key.")
    provider_chain: str = Field(
        default="oanda,dukascopy,yahoo", description="Fallback chain for history (comma list)."
    )
    quote_provider: str = Field(default="replay", description="Provider for `noxfx quote`.")
    redis_url: str | None = Field(default=None, description="Redis URL for the shared cache.")
    provider_timeout: float = Field(default=15.0, gt=0, description="Read timeout, seconds.")
    provider_connect_timeout: float = Field(default=5.0, gt=0, description="Connect timeout, s.")
    provider_retries: int = Field(default=4, ge=1, le=10, description="Attempts per request.")
    provider_backoff: float = Field(default=0.5, ge=0, description="First backoff, seconds.")
    provider_backoff_max: float = Field(default=30.0, ge=0, description="Backoff cap, seconds.")
    provider_breaker_failures: int = Field(default=5, ge=1, description="Failures to open.")
    provider_breaker_reset: float = Field(default=60.0, ge=0, description="Open time, seconds.")
    provider_cache_ttl: float = Field(default=300.0, ge=0, description="Cache TTL, seconds.")

    @property
    def chain(self) -> list[str]:
        """``provider_chain`` as a list of lower-case names."""
        return [n.strip().lower() for n in self.provider_chain.split(",") if n.strip()]

    def secret(self, name: str) -> str | None:
        """The plain value of a secret field, or None when unset/empty."""
        value = getattr(self, name)
        if value is None:
            return None
        plain = value.get_secret_value().strip()
        return plain or None


def get_provider_settings() -> ProviderSettings:
    """Settings read now from the environment (cheap; not cached, so tests can patch env).

    A malformed value (``NOX_OANDA_ENV=demo``) is an :class:`~noxfx.errors.InvalidInput` naming
    the variable, not a pydantic traceback."""
    from pydantic import ValidationError

    from noxfx.errors import InvalidInput

    try:
        return ProviderSettings()
    except ValidationError as exc:
        problems = "; ".join(
            f"NOX_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidInput(f"Invalid provider setting(s): {problems}.") from exc


__all__ = ["ProviderSettings", "get_provider_settings"]
