"""one call per phone: a partial unique index on the phone of the call rows in flight

At most one ACTIVE call row per phone, cluster-wide (see cuckoo/store/notifications.py, lease
rules). Workers of older versions may have two calls to one phone in flight: the upgrade then
stops and names them; let those calls end (or stop the workers) and run it again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE_CALL = "status = 'active' AND current_channel = 'call'"


def upgrade() -> None:
    twice = op.get_bind().execute(
        sa.text(
            f"SELECT phone, COUNT(*) FROM notifications WHERE {ACTIVE_CALL} "
            "GROUP BY phone HAVING COUNT(*) > 1"
        )
    ).all()
    if twice:
        listed = ", ".join(f"{phone} ({n} calls)" for phone, n in twice)
        raise RuntimeError(
            f"cannot add the one-call-per-phone index: calls are in flight to {listed}; "
            "let them end (or stop the workers) and run `cuckoo db upgrade` again"
        )
    op.create_index(
        'uq_notifications_phone_in_call',
        'notifications',
        ['phone'],
        unique=True,
        sqlite_where=sa.text(ACTIVE_CALL),
        postgresql_where=sa.text(ACTIVE_CALL),
    )


def downgrade() -> None:
    op.drop_index('uq_notifications_phone_in_call', table_name='notifications')
