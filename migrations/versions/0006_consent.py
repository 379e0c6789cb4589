"""consent: the ERP's record of the customer's consent to calls (41-ФЗ)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 01:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+): a batch copy would trip the foreign keys.
    op.add_column(
        'notifications',
        sa.Column('consent', sa.String(length=500), nullable=False, server_default=''),
    )


def downgrade() -> None:
    op.drop_column('notifications', 'consent')
