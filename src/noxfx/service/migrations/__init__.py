"""Alembic migrations of the service database (run with :func:`noxfx.service.migrate.upgrade`)."""
