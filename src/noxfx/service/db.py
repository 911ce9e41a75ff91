"""Database access: one SQLAlchemy engine and scoped session per Flask app.

``db`` is created at module level and bound to an app with :meth:`Database.init_app` (the
Flask-SQLAlchemy habit without the dependency): ``db.session`` is the current app's scoped
session, removed at the end of every request / app context. Background jobs push an app context,
so the same ``db.session`` works there.

SQLite (the embedded default) gets WAL, foreign keys and a busy timeout on every connection;
PostgreSQL gets pre-ping and a bounded pool. Times are stored as UTC and always come back
timezone-aware (:class:`UTCDateTime`), on SQLite too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from flask import Flask, current_app
from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker
from sqlalchemy.types import TypeDecorator

_EXTENSION_KEY = "nox.db"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores naive ISO strings)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: JSON everywhere, JSONB on PostgreSQL.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    """Declarative base of every service table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSONType,
    }


def utcnow() -> datetime:
    """Now, timezone-aware UTC (the only clock the service uses)."""
    return datetime.now(UTC)


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the per-backend settings described in the module docstring."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_pre_ping=False
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, pool_recycle=1800)


@dataclass
class _State:
    engine: Engine
    session: scoped_session[Session]


class Database:
    """The app-bound engine and scoped session (see the module docstring)."""

    def init_app(self, app: Flask, url: str) -> None:
        engine = make_engine(url)
        factory = sessionmaker(engine, expire_on_commit=False)
        state = _State(engine=engine, session=scoped_session(factory))
        app.extensions[_EXTENSION_KEY] = state

        @app.teardown_appcontext
        def _remove_session(_exc: BaseException | None) -> None:
            state.session.remove()

    @staticmethod
    def _state(app: Flask | None = None) -> _State:
        state: _State = (app or current_app).extensions[_EXTENSION_KEY]
        return state

    @property
    def session(self) -> Session:
        """The current app's session for this thread."""
        return self._state().session()

    def remove_session(self) -> None:
        """Close this thread's session (end of a job)."""
        self._state().session.remove()

    def engine(self, app: Flask | None = None) -> Engine:
        return self._state(app).engine

    def ping(self) -> None:
        """Raise if the database cannot answer ``SELECT 1``."""
        with self.engine().connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self, app: Flask) -> None:
        state = self._state(app)
        state.session.remove()
        state.engine.dispose()


db = Database()

__all__ = ["Base", "Database", "JSONType", "UTCDateTime", "db", "make_engine", "utcnow"]
