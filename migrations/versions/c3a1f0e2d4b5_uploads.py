"""uploads

Revision ID: c3a1f0e2d4b5
Revises: 9e000aad4c10
Create Date: 2026-11-26 04:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3a1f0e2d4b5'
down_revision = '9e000aad4c10'
branch_labels = None
depends_on = None

BigID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('uploads',
    sa.Column('id', BigID, nullable=False),
    sa.Column('name', sa.String(length=48), nullable=False),
    sa.Column('user_id', BigID, nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('original_size', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_uploads_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_uploads')),
    sa.UniqueConstraint('name', name=op.f('uq_uploads_name'))
    )
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.create_index('ix_uploads_user_id', ['user_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.drop_index('ix_uploads_user_id')
    op.drop_table('uploads')
