"""hardening: server-revocable web sessions

Revision ID: d13a00000001
Revises: 32b23a9f5bf1
Create Date: 2026-12-05 08:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd13a00000001'
down_revision = '32b23a9f5bf1'
branch_labels = None
depends_on = None


def upgrade():
    # Web sessions carry the user's session version; bumping it ends them all (core.auth).
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
