"""cancel: why and when a notification was cancelled (store/cancels.py)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 23:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cuckoo.store.models


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+ adds and drops columns in place): a batch copy of
    # notifications would trip the foreign keys of attempts and outbox.
    op.add_column('notifications', sa.Column('cancel_reason', sa.String(length=500), nullable=True))
    op.add_column(
        'notifications',
        sa.Column(
            'cancel_requested_at', cuckoo.store.models.UtcDateTime(timezone=True), nullable=True
        ),
    )


def downgrade() -> None:
    op.drop_column('notifications', 'cancel_requested_at')
    op.drop_column('notifications', 'cancel_reason')
