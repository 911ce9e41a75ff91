"""Job leases: attempts, the worker running a job, its heartbeat and lease, and when the job
was last dispatched to a runner; an index on ``jobs.status`` (the workers' claim query).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:  # batch: SQLite cannot ALTER most things
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("worker", sa.String(128), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", _TS, nullable=True))
        batch.add_column(sa.Column("lease_expires_at", _TS, nullable=True))
        batch.add_column(sa.Column("dispatched_at", _TS, nullable=True))
        batch.create_index("ix_jobs_status", ["status"])


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_status")
        for column in ("dispatched_at", "lease_expires_at", "heartbeat_at", "worker", "attempts"):
            batch.drop_column(column)
