from __future__ import annotations

from pathlib import Path

import pytest

from noxfx.config import Settings, get_settings
from noxfx.data.store import BarStore


def test_defaults_need_no_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOX_HOME", raising=False)
    s = Settings()
    assert s.home == Path.home() / ".noxfx"
    assert s.effective_database_url == f"sqlite:///{Path.home() / '.noxfx' / 'nox.db'}"
    assert s.redis_url is None


def test_environment_overrides(nox_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOX_DATABASE_URL", "postgresql+psycopg://127.0.0.1/test")
    get_settings.cache_clear()
    s = get_settings()
    assert s.home == nox_home and s.bars_dir == nox_home / "bars"
    assert s.effective_database_url == "postgresql+psycopg://127.0.0.1/test"
    assert BarStore.default().root == nox_home / "bars"
