"""issue 14: binding_trust — binding watches (points wait for a sign of life) and binding flags

Revision ID: d14a00000002
Revises: d14a00000001
Create Date: 2026-12-05 15:20:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd14a00000002'
down_revision = 'd14a00000001'
branch_labels = None
depends_on = None


ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
PENDING = "status = 'pending'"


def upgrade():
    op.create_table('binding_watches',
    sa.Column('binding_id', ID, nullable=False),
    sa.Column('resident_id', ID, nullable=False),
    sa.Column('engineer_id', ID, nullable=False),
    sa.Column('estate_id', ID, nullable=False),
    sa.Column('bound_at', sa.DateTime(), nullable=False),
    sa.Column('lapse_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('life_sign', sa.String(length=16), nullable=True),
    sa.Column('settled_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status in ('pending', 'alive', 'lapsed', 'fake')", name=op.f('ck_binding_watches_status')),
    sa.ForeignKeyConstraint(['binding_id'], ['steward_bindings.id'],
                            name=op.f('fk_binding_watches_binding_id_steward_bindings')),
    sa.ForeignKeyConstraint(['engineer_id'], ['engineers.id'], name=op.f('fk_binding_watches_engineer_id_engineers')),
    sa.ForeignKeyConstraint(['estate_id'], ['estates.id'], name=op.f('fk_binding_watches_estate_id_estates')),
    sa.ForeignKeyConstraint(['resident_id'], ['users.id'], name=op.f('fk_binding_watches_resident_id_users')),
    sa.PrimaryKeyConstraint('binding_id', name=op.f('pk_binding_watches'))
    )
    with op.batch_alter_table('binding_watches', schema=None) as batch_op:
        batch_op.create_index('ix_binding_watches_pending_resident', ['resident_id'], unique=False,
                              sqlite_where=sa.text(PENDING), postgresql_where=sa.text(PENDING))
        batch_op.create_index('ix_binding_watches_pending_lapse', ['lapse_at'], unique=False,
                              sqlite_where=sa.text(PENDING), postgresql_where=sa.text(PENDING))
        batch_op.create_index('ix_binding_watches_engineer_estate_bound', ['engineer_id', 'estate_id', 'bound_at'],
                              unique=False)

    op.create_table('binding_flags',
    sa.Column('id', ID, nullable=False),
    sa.Column('binding_id', ID, nullable=False),
    sa.Column('resident_id', ID, nullable=False),
    sa.Column('engineer_id', ID, nullable=False),
    sa.Column('estate_id', ID, nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by_id', ID, nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("reason in ('burst', 'never_returned', 'shared_phone', 'visit_ref_unmatched', "
                       "'far_from_estate')", name=op.f('ck_binding_flags_reason')),
    sa.CheckConstraint("status in ('open', 'confirmed', 'dismissed')", name=op.f('ck_binding_flags_status')),
    sa.ForeignKeyConstraint(['binding_id'], ['steward_bindings.id'],
                            name=op.f('fk_binding_flags_binding_id_steward_bindings')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_binding_flags_decided_by_id_users')),
    sa.ForeignKeyConstraint(['engineer_id'], ['engineers.id'], name=op.f('fk_binding_flags_engineer_id_engineers')),
    sa.ForeignKeyConstraint(['estate_id'], ['estates.id'], name=op.f('fk_binding_flags_estate_id_estates')),
    sa.ForeignKeyConstraint(['resident_id'], ['users.id'], name=op.f('fk_binding_flags_resident_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_binding_flags')),
    sa.UniqueConstraint('binding_id', 'reason', name=op.f('uq_binding_flags_binding_id_reason'))
    )
    with op.batch_alter_table('binding_flags', schema=None) as batch_op:
        batch_op.create_index('ix_binding_flags_status', ['status', 'id'], unique=False)
        batch_op.create_index('ix_binding_flags_engineer', ['engineer_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('binding_flags', schema=None) as batch_op:
        batch_op.drop_index('ix_binding_flags_engineer')
        batch_op.drop_index('ix_binding_flags_status')
    op.drop_table('binding_flags')
    with op.batch_alter_table('binding_watches', schema=None) as batch_op:
        batch_op.drop_index('ix_binding_watches_engineer_estate_bound')
        batch_op.drop_index('ix_binding_watches_pending_lapse')
        batch_op.drop_index('ix_binding_watches_pending_resident')
    op.drop_table('binding_watches')
