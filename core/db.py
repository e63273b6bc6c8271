"""The declarative base, the one way we store time, and database-wide settings."""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, registry

# Constraint names are spelled out so Alembic produces the same migrations on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(sa.TypeDecorator):
    """Aware UTC datetimes in Python, naive UTC in the database (same on SQLite and PostgreSQL)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use aware UTC datetimes (core.db.utcnow)")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def render_item(type_, obj, autogen_context):
    """Alembic: write our TypeDecorators as their plain SQL types, so migrations import nothing of ours."""
    if type_ == "type" and isinstance(obj, sa.types.TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


# BIGINT ids on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
BigID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# The largest id (BIGINT): a larger number from a client is a 404 or a validation error, never a database error.
MAX_ID = 2**63 - 1


class Base(DeclarativeBase):
    registry = registry(metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
                        type_annotation_map={datetime: UTCDateTime()})


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    # Without foreign_keys=ON, foreign-key bugs hide until PostgreSQL.
    module = type(dbapi_connection).__module__
    if module.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


@event.listens_for(Engine, "savepoint")
def _sqlite_begin_before_savepoint(conn, name):
    # pysqlite emits BEGIN only before INSERT/UPDATE/DELETE, so a SAVEPOINT that comes first
    # opens the transaction itself and its RELEASE commits everything: a later rollback of the
    # request would then leave the savepoint's rows behind. Open the transaction explicitly.
    if conn.dialect.name == "sqlite":
        dbapi_connection = conn.connection.dbapi_connection
        if not dbapi_connection.in_transaction:
            dbapi_connection.execute("BEGIN")


def dialect_insert():
    """The `insert` of the session's dialect (PostgreSQL or SQLite), which has ON CONFLICT."""
    from core.extensions import db

    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - we support these two
        raise NotImplementedError(dialect)
    return insert


def insert_or_nothing(model, values: dict, conflict: list[str], where: sa.ColumnElement | None = None):
    """INSERT … ON CONFLICT (conflict) DO NOTHING RETURNING the new ORM object, or None when the
    row exists (also when a concurrent transaction inserted it first): race-safe without a savepoint.

    `where` names a partial unique index (its WHERE clause).
    """
    from core.extensions import db

    stmt = dialect_insert()(model).values(**values).on_conflict_do_nothing(
        index_elements=conflict, index_where=where).returning(model)
    return db.session.scalars(stmt).first()


def upsert(table: sa.Table, rows: list[dict], key: list[str], update: list[str]) -> None:
    """INSERT … ON CONFLICT (key) DO UPDATE, on PostgreSQL and SQLite alike."""
    from core.extensions import db

    if not rows:
        return
    stmt = dialect_insert()(table).values(rows)
    stmt = stmt.on_conflict_do_update(index_elements=key, set_={c: stmt.excluded[c] for c in update})
    db.session.execute(stmt)


def upsert_add(table: sa.Table, key: dict, deltas: dict, **also) -> None:
    """INSERT the row with `deltas` as its values, or add `deltas` to the existing row (counters,
    in one statement, race-safe); `also` are columns set to the new value either way."""
    from core.extensions import db

    stmt = dialect_insert()(table).values(**key, **deltas, **also)
    set_ = {name: table.c[name] + stmt.excluded[name] for name in deltas}
    set_.update({name: stmt.excluded[name] for name in also})
    db.session.execute(stmt.on_conflict_do_update(index_elements=list(key), set_=set_))


def make_immutable(op, table: str) -> None:
    """In a migration: a trigger that makes the database itself refuse UPDATE and DELETE on `table`
    (ledgers and logs are append-only; corrections are new rows)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE OR REPLACE FUNCTION linli_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'rows of % are append-only: % refused', TG_TABLE_NAME, TG_OP
                    USING ERRCODE = 'restrict_violation';
            END $$""")
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION linli_refuse_change()")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, 'rows of {table} are append-only: {verb} refused'); END")


def drop_immutable(op, table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    else:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")


def without_jit() -> None:
    """Turn PostgreSQL's JIT compiler off for the rest of the session's transaction (no-op on SQLite).

    Set-based jobs of many short statements with large plans (dozens of correlated subplans)
    cross `jit_above_cost` and spend most of their time compiling: measured on the care
    reconciliation, 0.7 s of JIT for 12 ms of work per statement (bench/README.md)."""
    from core.extensions import db

    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL jit = off"))
