"""issue 14: consented steward handover (steward_handovers)

Revision ID: d14a00000001
Revises: d13a00000003
Create Date: 2026-12-05 15:20:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd14a00000001'
down_revision = 'd13a00000003'
branch_labels = None
depends_on = None


ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
PENDING = "status = 'pending'"
PENDING_DUE = "status = 'pending' AND due_at IS NOT NULL"


def upgrade():
    op.create_table('steward_handovers',
    sa.Column('id', ID, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('resident_id', ID, nullable=False),
    sa.Column('from_engineer_id', ID, nullable=True),
    sa.Column('to_engineer_id', ID, nullable=False),
    sa.Column('estate_id', ID, nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', ID, nullable=True),
    sa.Column('due_at', sa.DateTime(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by_id', ID, nullable=True),
    sa.Column('refusal_reason', sa.String(length=200), nullable=True),
    sa.CheckConstraint("kind IN ('reassign', 'engineer_left', 'request')", name=op.f('ck_steward_handovers_kind')),
    sa.CheckConstraint("status IN ('pending', 'completed', 'refused', 'rejected', 'cancelled')",
                       name=op.f('ck_steward_handovers_status')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_steward_handovers_created_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_steward_handovers_decided_by_id_users')),
    sa.ForeignKeyConstraint(['estate_id'], ['estates.id'], name=op.f('fk_steward_handovers_estate_id_estates')),
    sa.ForeignKeyConstraint(['from_engineer_id'], ['engineers.id'],
                            name=op.f('fk_steward_handovers_from_engineer_id_engineers')),
    sa.ForeignKeyConstraint(['resident_id'], ['users.id'], name=op.f('fk_steward_handovers_resident_id_users')),
    sa.ForeignKeyConstraint(['to_engineer_id'], ['engineers.id'],
                            name=op.f('fk_steward_handovers_to_engineer_id_engineers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_steward_handovers'))
    )
    with op.batch_alter_table('steward_handovers', schema=None) as batch_op:
        batch_op.create_index('uq_steward_handovers_pending_resident', ['resident_id'], unique=True,
                              sqlite_where=sa.text(PENDING), postgresql_where=sa.text(PENDING))
        batch_op.create_index('ix_steward_handovers_pending_due', ['due_at', 'id'], unique=False,
                              sqlite_where=sa.text(PENDING_DUE), postgresql_where=sa.text(PENDING_DUE))
        batch_op.create_index('ix_steward_handovers_status', ['status', 'id'], unique=False)
        batch_op.create_index('ix_steward_handovers_resident', ['resident_id', 'id'], unique=False)
        batch_op.create_index('ix_steward_handovers_from', ['from_engineer_id', 'id'], unique=False)
        batch_op.create_index('ix_steward_handovers_to', ['to_engineer_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('steward_handovers', schema=None) as batch_op:
        for name in ('ix_steward_handovers_to', 'ix_steward_handovers_from', 'ix_steward_handovers_resident',
                     'ix_steward_handovers_status', 'ix_steward_handovers_pending_due',
                     'uq_steward_handovers_pending_resident'):
            batch_op.drop_index(name)
    op.drop_table('steward_handovers')
