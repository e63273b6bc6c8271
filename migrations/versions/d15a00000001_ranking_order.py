"""issue 15: ranking_order — the per-estate ranking read by one index range, whatever the coverage

Revision ID: d15a00000001
Revises: d14a00000004
Create Date: 2026-12-06 02:20:00

- engineer_estates (coverage) carries the engineer's ranking key in the estate: rank_score (a copy
  of engineer_estate_stats.score, or the unranked score 36.75 while there is no record) and
  rank_first_service_at (a copy of first_service_at), backfilled from the stats rows.
- ix_engineer_estates_rank (estate_id, rank_score DESC, rank_first_service_at, engineer_id) is the
  ranking's order, so an estate's first page is a range of it read in order, stopped after 50
  rows; it replaces ix_engineer_estates_estate_id (its first column serves those lookups), which
  also leaves PostgreSQL no cheaper-looking way to a sort of every coverer in a generic plan.
- ix_engineer_estate_stats_rank is dropped: the stats rows are read by primary key only, and in
  a generic plan PostgreSQL used that index to read every stats row of the estate and filter them
  against each of the 50 coverers (360,000 rows for a page at 10,000 coverers).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd15a00000001'
down_revision = 'd14a00000004'
branch_labels = None
depends_on = None

UNRANKED_SCORE = "36.75"  # community.stats.services.UNRANKED_SCORE


def upgrade():
    with op.batch_alter_table('engineer_estates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rank_score', sa.Float(), server_default=sa.text(UNRANKED_SCORE),
                                      nullable=False))
        batch_op.add_column(sa.Column('rank_first_service_at', sa.DateTime(), nullable=True))
        batch_op.drop_index('ix_engineer_estates_estate_id')
    # Backfill: one set-based UPDATE, correlated by the stats row's primary key (both databases).
    op.execute("""
        UPDATE engineer_estates SET
            rank_score = coalesce((SELECT s.score FROM engineer_estate_stats s
                                   WHERE s.engineer_id = engineer_estates.engineer_id
                                     AND s.estate_id = engineer_estates.estate_id), """ + UNRANKED_SCORE + """),
            rank_first_service_at = (SELECT s.first_service_at FROM engineer_estate_stats s
                                     WHERE s.engineer_id = engineer_estates.engineer_id
                                       AND s.estate_id = engineer_estates.estate_id)
        WHERE EXISTS (SELECT 1 FROM engineer_estate_stats s
                      WHERE s.engineer_id = engineer_estates.engineer_id AND s.estate_id = engineer_estates.estate_id)""")
    op.create_index('ix_engineer_estates_rank', 'engineer_estates',
                    ['estate_id', sa.text('rank_score DESC'), 'rank_first_service_at', 'engineer_id'], unique=False)
    with op.batch_alter_table('engineer_estate_stats', schema=None) as batch_op:
        batch_op.drop_index('ix_engineer_estate_stats_rank')


def downgrade():
    with op.batch_alter_table('engineer_estate_stats', schema=None) as batch_op:
        batch_op.create_index('ix_engineer_estate_stats_rank', ['estate_id', 'score', 'first_service_at', 'engineer_id'],
                              unique=False)
    op.drop_index('ix_engineer_estates_rank', table_name='engineer_estates')
    with op.batch_alter_table('engineer_estates', schema=None) as batch_op:
        batch_op.create_index('ix_engineer_estates_estate_id', ['estate_id'], unique=False)
        batch_op.drop_column('rank_first_service_at')
        batch_op.drop_column('rank_score')
