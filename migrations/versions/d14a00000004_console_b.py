"""issue 14: console_b — indexed search by name prefix and phone tail, the outbox by status, resends

Revision ID: d14a00000004
Revises: d14a00000003
Create Date: 2026-12-05 15:20:00

- users.phone_tail and engineers.phone_tail: the last four digits of the phone, a generated
  column (STORED on PostgreSQL — adding it rewrites the table once; VIRTUAL on SQLite, which
  cannot add a stored one in place), indexed: phone-tail search (docs/decisions.md).
- Name prefixes: users.display_name and engineers.name get an index; on PostgreSQL these and
  estates.name use varchar_pattern_ops, so LIKE 'q%' uses them whatever the database collation.
- outbox_messages: (status, id) for the console's list and counts per status; resent_from_id (at
  most one resend per message). subscription_quotas: (template_id, remaining) of holders only.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd14a00000004'
down_revision = 'd14a00000003'
branch_labels = None
depends_on = None

PHONE_TAIL_SQL = "substr(phone, length(phone) - 3)"
PATTERN = "varchar_pattern_ops"


def _postgres():
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    stored = _postgres()  # SQLite adds only VIRTUAL generated columns with ALTER TABLE
    for table in ("users", "engineers"):
        op.add_column(table, sa.Column("phone_tail", sa.String(length=4), sa.Computed(PHONE_TAIL_SQL, persisted=stored),
                                       nullable=True))
        op.create_index(f"ix_{table}_phone_tail", table, ["phone_tail"], unique=False)
    op.create_index("ix_users_display_name", "users", ["display_name"], unique=False,
                    postgresql_ops={"display_name": PATTERN})
    op.create_index("ix_engineers_name", "engineers", ["name"], unique=False, postgresql_ops={"name": PATTERN})
    if _postgres():  # the same index, now serving prefixes (equality still works)
        op.drop_index("ix_estates_name", table_name="estates")
        op.create_index("ix_estates_name", "estates", ["name"], unique=False, postgresql_ops={"name": PATTERN})

    op.create_index("ix_outbox_messages_status_id", "outbox_messages", ["status", "id"], unique=False)
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resent_from_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_outbox_messages_resent_from_id"), ["resent_from_id"])
        batch_op.create_foreign_key(batch_op.f("fk_outbox_messages_resent_from_id_outbox_messages"), "outbox_messages",
                                    ["resent_from_id"], ["id"])
    op.create_index("ix_subscription_quotas_holding", "subscription_quotas", ["template_id", "remaining"], unique=False,
                    sqlite_where=sa.text("remaining > 0"), postgresql_where=sa.text("remaining > 0"))


def downgrade():
    op.drop_index("ix_subscription_quotas_holding", table_name="subscription_quotas")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_outbox_messages_resent_from_id_outbox_messages"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_outbox_messages_resent_from_id"), type_="unique")
        batch_op.drop_column("resent_from_id")
    op.drop_index("ix_outbox_messages_status_id", table_name="outbox_messages")
    if _postgres():
        op.drop_index("ix_estates_name", table_name="estates")
        op.create_index("ix_estates_name", "estates", ["name"], unique=False)
    op.drop_index("ix_engineers_name", table_name="engineers")
    op.drop_index("ix_users_display_name", table_name="users")
    for table in ("engineers", "users"):
        op.drop_index(f"ix_{table}_phone_tail", table_name=table)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("phone_tail")
