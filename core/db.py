"""The declarative base, the one way we store time, and database-wide settings."""
from __future__ import annotations

import functools
import select
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, registry
from sqlalchemy.pool import Pool

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


@event.listens_for(Pool, "checkout")
def _drop_closed_connection(dbapi_connection, connection_record, connection_proxy):
    """A pooled PostgreSQL connection whose socket has something to read while idle was closed
    by the server (a restart, pg_terminate_backend, an idle timeout: the server says why and
    hangs up). Tell the pool, which opens a fresh one: what pre-ping gives, without its round
    trip (DATABASE_PRE_PING stays available for networks that drop connections silently)."""
    if type(dbapi_connection).__module__.startswith("psycopg"):
        poller = select.poll()
        poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
        if poller.poll(0):
            raise DisconnectionError("the server closed this pooled connection")


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

    `where` names a partial unique index (its WHERE clause); pass one built once (a module-level
    constant), so the statement below is reused.
    """
    from core.extensions import db

    stmt = _insert_or_nothing_statement(db.session.get_bind().dialect.name, model, tuple(values), tuple(conflict),
                                        where)
    return db.session.scalars(stmt, values).first()


@functools.lru_cache(maxsize=256)
def _insert_or_nothing_statement(dialect: str, model, columns: tuple, conflict: tuple, where):
    """The statement of insert_or_nothing, built once per dialect, model, columns given, conflict
    target and partial index (the binding flow runs it five times: building and hashing a fresh ORM
    INSERT each time cost ~3 % of the flow's CPU). The values are bound parameters named as their
    columns; columns left out get their defaults as before. Bounded: a `where` built per call
    (compared by identity) only misses."""
    insert = (postgresql_insert if dialect == "postgresql" else sqlite_insert)
    return insert(model).values({name: sa.bindparam(name) for name in columns}).on_conflict_do_nothing(
        index_elements=list(conflict), index_where=where).returning(model)


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


def starts_with(column, prefix: str) -> sa.ColumnElement:
    """`column` starts with `prefix`, in a form each database answers from a plain index on the
    column: PostgreSQL LIKE 'prefix%' (the index must use varchar_pattern_ops unless the collation
    is C), SQLite a range (its LIKE is case-insensitive and skips a case-sensitive index)."""
    from core.extensions import db

    if db.session.get_bind().dialect.name == "postgresql":
        return column.startswith(prefix, autoescape=True)
    return sa.and_(column >= prefix, column < prefix + "\U0010ffff")


def make_immutable(op, table: str) -> None:
    """In a migration: triggers that make the database itself refuse UPDATE, DELETE and TRUNCATE
    on `table` (ledgers and logs are append-only; corrections are new rows)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_REFUSE_CHANGE)
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION linli_refuse_change()")
        refuse_truncate(op, table)
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, 'rows of {table} are append-only: {verb} refused'); END")


def drop_immutable(op, table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        allow_truncate(op, table)
    else:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")


_REFUSE_CHANGE = """
    CREATE OR REPLACE FUNCTION linli_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'rows of % are append-only: % refused', TG_TABLE_NAME, TG_OP
            USING ERRCODE = 'restrict_violation';
    END $$"""


def refuse_truncate(op, table: str) -> None:
    """PostgreSQL: a statement trigger refusing TRUNCATE, which fires no row trigger (idempotent;
    SQLite has no TRUNCATE). Like the row triggers, it is off under `session_replication_role =
    replica`, which only a superuser may set."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_REFUSE_CHANGE)
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION linli_refuse_change()")


def allow_truncate(op, table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")


def append_only_tables(conn: sa.Connection) -> list[str]:
    """PostgreSQL: the tables of the current schema that `make_immutable` protected (by their trigger)."""
    return list(conn.execute(sa.text(
        "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE c.relnamespace = current_schema()::regnamespace AND t.tgname = c.relname || '_append_only' "
        "ORDER BY c.relname")).scalars())


def grant_app_role(conn: sa.Connection, role: str) -> list[str]:
    """PostgreSQL, run as the owner of the tables (the role that migrates): give the app's runtime
    `role` what it needs and no more (docs/security.md, "Running with least privilege").

    Ordinary tables: SELECT, INSERT, UPDATE, DELETE. Append-only tables: SELECT, INSERT only, so
    neither a bug nor a stolen app connection can rewrite them, and the role, owning nothing, cannot
    drop or disable their triggers. Sequences: USAGE (nextval). The migration state: SELECT.
    Idempotent; run it again after every `flask db upgrade` (new tables have no grants). Returns
    the append-only tables."""
    if conn.dialect.name != "postgresql":
        raise ValueError("database roles are a PostgreSQL feature")
    found = conn.execute(sa.text(
        "SELECT rolsuper OR pg_has_role(oid, (SELECT relowner FROM pg_class WHERE oid = 'alembic_version'::regclass), "
        "'USAGE') FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    if found is None:
        raise ValueError(f"no role named {role!r}: create it first (CREATE ROLE … LOGIN PASSWORD …)")
    if found[0]:
        raise ValueError(f"{role!r} is a superuser or (a member of) the owner of the tables: "
                         "the app must run as a role that owns nothing")
    quote = conn.dialect.identifier_preparer.quote
    grantee, append_only = quote(role), append_only_tables(conn)
    schema = conn.execute(sa.text("SELECT current_schema()")).scalar()
    statements = [f"GRANT USAGE ON SCHEMA {quote(schema)} TO {grantee}"]
    for table in conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema}).scalars():
        privileges = ("SELECT" if table == "alembic_version" else
                      "SELECT, INSERT" if table in append_only else "SELECT, INSERT, UPDATE, DELETE")
        statements += [f"REVOKE ALL ON {quote(table)} FROM {grantee}", f"GRANT {privileges} ON {quote(table)} TO {grantee}"]
    for sequence in conn.execute(sa.text("SELECT sequencename FROM pg_sequences WHERE schemaname = :s"),
                                 {"s": schema}).scalars():
        statements += [f"REVOKE ALL ON SEQUENCE {quote(sequence)} FROM {grantee}",
                       f"GRANT USAGE ON SEQUENCE {quote(sequence)} TO {grantee}"]
    for statement in statements:
        conn.exec_driver_sql(statement)
    return append_only


def without_jit() -> None:
    """Turn PostgreSQL's JIT compiler off for the rest of the session's transaction (no-op on SQLite).

    Set-based jobs of many short statements with large plans (dozens of correlated subplans)
    cross `jit_above_cost` and spend most of their time compiling: measured on the care
    reconciliation, 0.7 s of JIT for 12 ms of work per statement (bench/README.md)."""
    from core.extensions import db

    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL jit = off"))
