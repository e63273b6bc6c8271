"""hardening: WeChat delivery and push replay

Revision ID: d13a00000003
Revises: d13a00000002
Create Date: 2026-12-05 08:50:00

An outbox message WeChat may have delivered (no answer to a sent request; 43101 on a message
reclaimed after a crash) gets its own status, `unknown`, and is never sent again. Push nonces
need no table: they live in `wechat_kv` with an expiry (core/wechat/push.py).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd13a00000003'
down_revision = 'd13a00000002'
branch_labels = None
depends_on = None

OLD = "status in ('pending', 'sending', 'sent', 'failed')"
NEW = "status in ('pending', 'sending', 'sent', 'failed', 'unknown')"


def _status_check(condition: str) -> None:
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_outbox_messages_status'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_outbox_messages_status'), condition)


def upgrade():
    _status_check(NEW)


def downgrade():
    # Nothing WeChat may have delivered is sent again: those messages count as failed.
    op.execute("UPDATE outbox_messages SET status = 'failed' WHERE status = 'unknown'")
    _status_check(OLD)
