"""issue 14: console_a — region rollups for the dashboard's charts, and the indexes its work
queues and the order list count and page by.

Revision ID: d14a00000003
Revises: d14a00000002
Create Date: 2026-12-05 15:20:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd14a00000003'
down_revision = 'd14a00000002'
branch_labels = None
depends_on = None

HELD = "status = 'held'"


def upgrade():
    op.create_table('region_day_stats',
    sa.Column('city', sa.String(length=32), nullable=False),
    sa.Column('district', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('bindings', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('city', 'district', 'day', name=op.f('pk_region_day_stats'))
    )
    with op.batch_alter_table('region_day_stats', schema=None) as batch_op:
        batch_op.create_index('ix_region_day_stats_day', ['day'], unique=False)

    op.create_table('region_month_stats',
    sa.Column('city', sa.String(length=32), nullable=False),
    sa.Column('district', sa.String(length=32), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('complaints', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('city', 'district', 'month', name=op.f('pk_region_month_stats'))
    )
    with op.batch_alter_table('region_month_stats', schema=None) as batch_op:
        batch_op.create_index('ix_region_month_stats_month', ['month'], unique=False)

    op.create_table('region_stats',
    sa.Column('city', sa.String(length=32), nullable=False),
    sa.Column('district', sa.String(length=32), nullable=False),
    sa.Column('bound', sa.Integer(), nullable=False),
    sa.Column('estates', sa.Integer(), nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('city', 'district', name=op.f('pk_region_stats'))
    )

    with op.batch_alter_table('service_orders', schema=None) as batch_op:
        batch_op.create_index('ix_service_orders_status_id', ['status', 'id'], unique=False)
        batch_op.create_index('ix_service_orders_estate_id_id', ['estate_id', 'id'], unique=False)
    with op.batch_alter_table('post_answers', schema=None) as batch_op:
        batch_op.create_index('ix_post_answers_held', ['id'], unique=False,
                              sqlite_where=sa.text(HELD), postgresql_where=sa.text(HELD))
    with op.batch_alter_table('post_comments', schema=None) as batch_op:
        batch_op.create_index('ix_post_comments_held', ['id'], unique=False,
                              sqlite_where=sa.text(HELD), postgresql_where=sa.text(HELD))

    # The rollups start from what the per-estate statistics already hold (bindings per day start
    # empty here: `flask community rebuild-stats` fills them from history).
    op.execute("""INSERT INTO region_month_stats (city, district, month, orders, complaints)
        SELECT e.city, e.district, m.month, SUM(m.orders), SUM(m.complaints)
        FROM estate_month_stats m JOIN estates e ON e.id = m.estate_id
        GROUP BY e.city, e.district, m.month""")
    op.execute("""INSERT INTO region_stats (city, district, bound, estates, households)
        SELECT city, district, SUM(bound), SUM(estates), SUM(households) FROM (
            SELECT e.city, e.district, 0 AS bound, 1 AS estates, e.households FROM estates e
            WHERE e.status = 'active'
            UNION ALL
            SELECT e.city, e.district, 1, 0, 0 FROM steward_bindings b JOIN estates e ON e.id = b.estate_id
            WHERE b.ended_at IS NULL) AS parts
        GROUP BY city, district""")


def downgrade():
    with op.batch_alter_table('post_comments', schema=None) as batch_op:
        batch_op.drop_index('ix_post_comments_held', sqlite_where=sa.text(HELD), postgresql_where=sa.text(HELD))
    with op.batch_alter_table('post_answers', schema=None) as batch_op:
        batch_op.drop_index('ix_post_answers_held', sqlite_where=sa.text(HELD), postgresql_where=sa.text(HELD))
    with op.batch_alter_table('service_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_service_orders_estate_id_id')
        batch_op.drop_index('ix_service_orders_status_id')
    op.drop_table('region_stats')
    with op.batch_alter_table('region_month_stats', schema=None) as batch_op:
        batch_op.drop_index('ix_region_month_stats_month')
    op.drop_table('region_month_stats')
    with op.batch_alter_table('region_day_stats', schema=None) as batch_op:
        batch_op.drop_index('ix_region_day_stats_day')
    op.drop_table('region_day_stats')
