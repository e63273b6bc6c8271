"""estates: index for the nearby search

Revision ID: 23da112a291d
Revises: 5982881a9ced
Create Date: 2026-12-04 17:52:38.247401

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '23da112a291d'
down_revision = '5982881a9ced'
branch_labels = None
depends_on = None


def upgrade():
    # GET /api/v1/estates?lat=&lng= narrows the estates to a bounding box before measuring distances.
    with op.batch_alter_table('estates', schema=None) as batch_op:
        batch_op.create_index('ix_estates_lat_lng', ['lat', 'lng'], unique=False)


def downgrade():
    with op.batch_alter_table('estates', schema=None) as batch_op:
        batch_op.drop_index('ix_estates_lat_lng')
