"""One settings object for NOX, read from ``NOX_*`` environment variables (and a ``.env`` file).

Embedded defaults need no external service: bars under ``~/.noxfx``, SQLite beside them. Server
mode is the same code with ``NOX_DATABASE_URL=postgresql+psycopg://...`` and ``NOX_REDIS_URL``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """NOX settings. Every field can be set as ``NOX_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="NOX_", env_file=".env", extra="ignore")

    home: Path = Field(
        default_factory=lambda: Path.home() / ".noxfx",
        description="Where NOX keeps its bar store and embedded database.",
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file in NOX_HOME."
    )
    redis_url: str | None = Field(default=None, description="Redis URL; default: in-process.")
    account_currency: str = Field(default="USD", description="Currency of the trading account.")
    debug: bool = Field(default=False, description="Show tracebacks on errors (NOX_DEBUG=1).")
    # live stream (noxfx.stream): one block, read by `noxfx stream`
    stream_prefix: str = Field(
        default="nox", description="Prefix of the Redis pub/sub channels of the live stream."
    )
    stream_symbols: str = Field(default="", description="Symbols streamed (empty: all stored).")
    stream_timeframes: str = Field(
        default="1m,5m,15m,1h,4h,1d,1w", description="Bars built from the ticks (1m always)."
    )
    stream_speed: float = Field(
        default=300.0, gt=0, description="Replay pace: market seconds per real second."
    )

    @property
    def bars_dir(self) -> Path:
        """Root of the Parquet bar store."""
        return self.home.expanduser() / "bars"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home.expanduser() / 'nox.db'}"


@cache
def get_settings() -> Settings:
    """The process-wide settings (read once; tests build their own ``Settings``)."""
    return Settings()


__all__ = ["Settings", "get_settings"]
