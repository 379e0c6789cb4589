"""wrong_numbers: (tenant, phone, customer) pairs where somebody else answered

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cuckoo.store.models


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('wrong_numbers',
    sa.Column('tenant', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('customer', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', cuckoo.store.models.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('tenant', 'phone', 'customer', name=op.f('pk_wrong_numbers'))
    )
    with op.batch_alter_table('wrong_numbers', schema=None) as batch_op:
        batch_op.create_index('ix_wrong_numbers_phone', ['phone'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('wrong_numbers', schema=None) as batch_op:
        batch_op.drop_index('ix_wrong_numbers_phone')

    op.drop_table('wrong_numbers')
