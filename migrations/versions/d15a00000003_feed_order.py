"""issue 15: feed_order — an estate's feed page read by one index range in the page's order

Revision ID: d15a00000003
Revises: d15a00000002
Create Date: 2026-12-06 03:50:00

The feed's first page (community.feed.services.feed: an estate's published posts and the
caller's held ones, newest first, LIMIT 21) had no index in its order: (estate_id, status, id)
cannot give one id order across two statuses, so PostgreSQL walked the whole table's primary
key backwards and filtered by estate, fast for an estate with recent posts and a scan of every
newer post for a quiet one. (estate_id, id) is the page's order: the estate's posts newest
first, the status a filter on the few rows read. tests/community/feed/test_feed_scale.py checks
the plan.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd15a00000003'
down_revision = 'd15a00000002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_estate_posts_estate_id_id", "estate_posts", ["estate_id", "id"])


def downgrade():
    op.drop_index("ix_estate_posts_estate_id_id", table_name="estate_posts")
