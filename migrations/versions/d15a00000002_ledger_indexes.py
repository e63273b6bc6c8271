"""issue 15: ledger_indexes — drop two indexes no query reads from the redemption's hot write path

Revision ID: d15a00000002
Revises: d15a00000001
Create Date: 2026-12-06 02:50:00

Every redemption inserts a lot use and a redemption, and every index on them is one more entry
to write (and WAL to log) per redemption. The review of every query reading the ledger's tables
(points/ledger.py, points/services.py, the admin and resident views, verify and checkpoint) found
two indexes that none of them uses:

- ix_points_lot_uses_lot_id: lot uses are read by their transaction (a release or a reversal
  puts back what that transaction took: ix_points_lot_uses_transaction_id), never by lot. Lots
  are never deleted, so the foreign key to points_lots needs no index on this side either.
- ix_points_redemptions_user_reward (user_id, reward_id): the per-user limit counts a user's
  redemptions of one reward, which ix_points_redemptions_user_id_id (user_id, id) serves as well:
  its first column finds the user's few redemptions, and the reward is a filter on them.

Kept, because a query needs them: the other secondary indexes of points_postings, points_lots,
points_lot_uses, points_holds, points_redemptions and points_redemption_events, and every unique
index (idempotency keys, one reversal per transaction, one hold per transaction, one resolution
per hold, one redemption per hold). No foreign key or constraint changes.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd15a00000002'
down_revision = 'd15a00000001'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_points_lot_uses_lot_id', table_name='points_lot_uses')
    op.drop_index('ix_points_redemptions_user_reward', table_name='points_redemptions')


def downgrade():
    op.create_index('ix_points_redemptions_user_reward', 'points_redemptions', ['user_id', 'reward_id'], unique=False)
    op.create_index('ix_points_lot_uses_lot_id', 'points_lot_uses', ['lot_id'], unique=False)
