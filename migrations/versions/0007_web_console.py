"""web console and API: users, sessions, API tokens, the audit log; indexes for browsing;
the dialog's path of each attempt

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 04:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cuckoo.store.models import UtcDateTime

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'web_users',
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('tenant', sa.String(length=100), nullable=True),
        sa.Column('password_hash', sa.String(length=200), nullable=False),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_web_users')),
    )
    op.create_table(
        'web_sessions',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_name', sa.String(length=100), nullable=False),
        sa.Column('csrf', sa.String(length=64), nullable=False),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.Column('expires_at', UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['user_name'], ['web_users.name'],
            name=op.f('fk_web_sessions_user_name_web_users'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_web_sessions')),
    )
    op.create_index(op.f('ix_web_sessions_user_name'), 'web_sessions', ['user_name'])
    op.create_table(
        'api_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('tenant', sa.String(length=100), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', UtcDateTime(), nullable=False),
        sa.Column('revoked_at', UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash')),
    )
    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', UtcDateTime(), nullable=False),
        sa.Column('actor', sa.String(length=100), nullable=False),
        sa.Column('action', sa.String(length=50), nullable=False),
        sa.Column('target', sa.String(length=300), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    )
    op.create_index(op.f('ix_audit_log_at'), 'audit_log', ['at'])
    op.create_index('ix_notifications_status_id', 'notifications', ['status', 'id'])
    op.create_index(
        'ix_notifications_tenant_status_id', 'notifications', ['tenant', 'status', 'id']
    )
    op.create_index('ix_notifications_external_id', 'notifications', ['external_id'])
    # the dialog's path on the console's timeline; plain ALTER (SQLite 3.35+), as 0006
    op.add_column(
        'attempts', sa.Column('path', sa.JSON(), nullable=False, server_default='[]')
    )


def downgrade() -> None:
    op.drop_column('attempts', 'path')
    op.drop_index('ix_notifications_external_id', table_name='notifications')
    op.drop_index('ix_notifications_tenant_status_id', table_name='notifications')
    op.drop_index('ix_notifications_status_id', table_name='notifications')
    op.drop_index(op.f('ix_audit_log_at'), table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_table('api_tokens')
    op.drop_index(op.f('ix_web_sessions_user_name'), table_name='web_sessions')
    op.drop_table('web_sessions')
    op.drop_table('web_users')
