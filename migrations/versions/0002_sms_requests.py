"""sms_requests: SMS that a call's dialog asked to send after the call

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cuckoo.store.models


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sms_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notification_id', sa.Integer(), nullable=False),
    sa.Column('attempt_no', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('created_at', cuckoo.store.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('next_try_at', cuckoo.store.models.UtcDateTime(timezone=True), nullable=True),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('sent_at', cuckoo.store.models.UtcDateTime(timezone=True), nullable=True),
    sa.Column('done_at', cuckoo.store.models.UtcDateTime(timezone=True), nullable=True),
    sa.Column('gateway_message_id', sa.String(length=100), nullable=True),
    sa.Column('receipt_status', sa.String(length=50), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_sms_requests_notification_id_notifications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_requests')),
    sa.UniqueConstraint('notification_id', 'attempt_no', name=op.f('uq_sms_requests_notification_id_attempt_no'))
    )
    with op.batch_alter_table('sms_requests', schema=None) as batch_op:
        batch_op.create_index('ix_sms_requests_due', ['state', 'next_try_at'], unique=False)
        batch_op.create_index('ix_sms_requests_gateway_message_id', ['gateway_message_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sms_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_sms_requests_gateway_message_id')
        batch_op.drop_index('ix_sms_requests_due')

    op.drop_table('sms_requests')
