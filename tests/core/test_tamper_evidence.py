"""What a database-level attacker cannot do unseen: the app's role may not rewrite the append-only
tables, TRUNCATE is refused, and the audit log's keyed chain and external checkpoint reveal an
edited row, deleted newest rows, an emptied table and a forged checkpoint (docs/security.md)."""
import hashlib
import json
import uuid

import pytest
import sqlalchemy as sa

from core import audit, checkpoint
from core.extensions import db
from core.models import AuditEntry
from core.scheduler import run_job
from tests.conftest import ON_POSTGRES, TEST_DATABASE_URL, _app_config, _postgres_admin_url, _truncate_all, rewrite_as_owner

APPEND_ONLY = ("points_transactions", "points_postings", "points_lot_uses", "points_redemption_events", "audit_log",
               "ambassador_level_changes")
postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL only (TEST_DATABASE_URL)")


def _records(app, n: int) -> list[int]:
    """n committed audit rows (one commit each, as n admin actions); their ids."""
    with app.app_context():
        for i in range(n):
            audit.record(None, "test.action", "estate", i, after={"n": i})
            db.session.commit()
        return db.session.scalars(sa.select(AuditEntry.id).order_by(AuditEntry.id)).all()


def _job(name: str):
    from core.jobs import JOBS
    return next(j for j in JOBS if j.name == name)


def _audit_verify(app, *args):
    return app.test_cli_runner().invoke(args=["audit", "verify", *args])


# -- the database refuses --------------------------------------------------------------------------

@postgres_only
def test_the_app_role_may_insert_into_append_only_tables_but_not_rewrite_them(app, make_estate):
    make_estate()  # an audit row, inserted by the app's role
    with app.app_context():
        from core.accounts.models import User
        from points import ledger
        user = User(display_name="住户")
        db.session.add(user)
        db.session.flush()
        ledger.grant(user.id, 10, "test", "g", "x")
        db.session.commit()
        assert db.session.scalar(sa.text("SELECT current_user")).startswith("linli_app_")
        for table in ("points_transactions", "audit_log"):
            for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}", f"TRUNCATE {table} CASCADE"):
                with pytest.raises(sa.exc.ProgrammingError) as refused:
                    db.session.execute(sa.text(statement))
                db.session.rollback()
                assert refused.value.orig.sqlstate == "42501", statement  # insufficient_privilege
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) >= 1


@postgres_only
def test_truncate_is_refused_even_to_the_owner_unless_the_triggers_are_off(app, owner_db):
    with owner_db.connect() as conn:
        for table in APPEND_ONLY:
            with pytest.raises(sa.exc.IntegrityError, match=f"rows of {table} are append-only: TRUNCATE refused"):
                conn.exec_driver_sql(f"TRUNCATE {table} CASCADE")
            conn.rollback()
        # The replica role (superusers only) lifts statement triggers too: tests/conftest.py empties
        # tables that way, and so can an attacker who is a superuser, which the checkpoint is for.
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        conn.exec_driver_sql("TRUNCATE " + ", ".join(APPEND_ONLY) + " CASCADE")
        conn.rollback()


@postgres_only
def test_the_suites_truncate_fallback_empties_append_only_tables(app, owner_db, database_template):
    _records(app, 2)
    with owner_db.begin() as conn:  # a table the models do not know sends _truncate_all to TRUNCATE
        conn.exec_driver_sql("CREATE TABLE zz_unmodelled (id int)")
    try:
        _truncate_all(database_template)
        with owner_db.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar() == 0
    finally:
        with owner_db.begin() as conn:
            conn.exec_driver_sql("DROP TABLE zz_unmodelled")


def test_grant_app_role_refuses_a_role_that_could_own_the_tables(app):
    runner = app.test_cli_runner()
    if not ON_POSTGRES:
        result = runner.invoke(args=["db", "grant-app-role", "linli_app"])
        assert result.exit_code == 1 and "PostgreSQL" in result.output
        return
    for role, why in (("postgres", "superuser"), (f"nobody_{uuid.uuid4().hex[:8]}", "no role named")):
        result = runner.invoke(args=["db", "grant-app-role", role])
        assert result.exit_code == 1 and why in result.output, result.output


# -- the keyed chain and the checkpoint ----------------------------------------------------------------

def test_an_edited_row_with_the_chain_recomputed_without_the_key_is_detected(app, owner_db):
    ids = _records(app, 4)
    assert _audit_verify(app).exit_code == 0
    with app.app_context():
        rows = [{c: getattr(r, c) for c in ("created_at", "actor_id", "action", "object_type", "object_id",
                                             "before", "after", "ip", "prev_hash", "hash")}
                for r in db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))]
    # The attacker edits the second row and hashes it and every later row again, as the plain
    # SHA-256 chain allowed.
    rows[1]["after"] = {"n": 999}
    statements = []
    for index in range(1, len(rows)):
        rows[index]["prev_hash"] = rows[index - 1]["hash"]
        payload = json.dumps(audit.chain_fields(rows[index]), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        rows[index]["hash"] = hashlib.sha256(payload.encode()).hexdigest()
    # Shift the unique hashes out of the way first, then write the new chain.
    statements.append(f"UPDATE audit_log SET prev_hash = 'x' || id, hash = 'y' || id WHERE id >= {ids[1]}")
    for index in range(1, len(rows)):
        statements.append(f"UPDATE audit_log SET after = '{json.dumps(rows[index]['after'])}', "
                          f"prev_hash = '{rows[index]['prev_hash']}', hash = '{rows[index]['hash']}' "
                          f"WHERE id = {ids[index]}")
    rewrite_as_owner(owner_db, *statements)
    result = _audit_verify(app)
    assert result.exit_code == 1
    assert f"audit row {ids[1]}: hash does not match the row's contents under the key" in result.output
    assert f"audit row {ids[3]}: not the row the checkpoint recorded" in result.output


def test_deleting_the_newest_rows_is_detected(app, owner_db):
    ids = _records(app, 4)
    rewrite_as_owner(owner_db, f"DELETE FROM audit_log WHERE id >= {ids[2]}")
    result = _audit_verify(app)
    assert result.exit_code == 1
    assert f"audit row {ids[3]}: missing: the checkpoint counted 4 rows" in result.output
    assert "2 audit rows checked" in result.output


def test_emptying_the_log_is_detected(app, owner_db):
    _records(app, 3)
    # PostgreSQL: TRUNCATE, its trigger lifted by the replica role; SQLite has no TRUNCATE: DELETE all.
    rewrite_as_owner(owner_db, "TRUNCATE audit_log" if ON_POSTGRES else "DELETE FROM audit_log")
    result = _audit_verify(app)
    assert result.exit_code == 1
    assert "missing: the checkpoint counted 3 rows" in result.output and "0 audit rows checked" in result.output


def test_a_forged_checkpoint_is_detected_and_kept_as_evidence(app, tmp_path):
    _records(app, 2)
    path = tmp_path / "checkpoints" / "audit.json"
    stored = json.loads(path.read_text())
    stored["body"]["count"] = 1  # what an attacker with the file but not the key could write
    path.write_text(json.dumps(stored))
    result = _audit_verify(app)
    assert result.exit_code == 1
    assert "audit log: checkpoint audit: the signature does not verify" in result.output
    forged = path.read_text()
    _records(app, 1)  # a commit does not overwrite it, nor does the job
    with pytest.raises(checkpoint.Forged):
        run_job(app, _job("checkpoint-audit"))
    assert path.read_text() == forged
    # A checkpoint signed under another key is no better.
    other = app.config["AUDIT_HMAC_KEY"]
    app.config["AUDIT_HMAC_KEY"] = "another-key"
    with app.app_context():
        path.unlink()
        checkpoint.update("audit", lambda current: {"last_id": 1, "last_hash": "0" * 64, "count": 1})
    app.config["AUDIT_HMAC_KEY"] = other
    assert "the signature does not verify" in _audit_verify(app).output


def test_the_checkpoint_follows_commits_and_ignores_rolled_back_savepoints(app):
    with app.app_context():
        audit.record(None, "kept", "estate", 1)
        try:
            with db.session.begin_nested():
                audit.record(None, "undone", "estate", 2)
                raise RuntimeError("refused")
        except RuntimeError:
            pass
        kept = audit.record(None, "kept", "estate", 3)
        db.session.commit()
        assert checkpoint.load("audit") == {"last_id": kept.id, "last_hash": kept.hash, "count": 2}
        audit.record(None, "rolled back", "estate", 4)
        db.session.rollback()
        assert checkpoint.load("audit")["last_id"] == kept.id
    assert _audit_verify(app).exit_code == 0


def test_the_checkpoint_job_catches_up_and_will_not_hide_a_deletion(app, owner_db, tmp_path):
    ids = _records(app, 3)
    (tmp_path / "checkpoints" / "audit.json").unlink()  # e.g. the store was unreachable at commit
    job = _job("checkpoint-audit")
    assert run_job(app, job) == 3
    with app.app_context():
        assert checkpoint.load("audit")["last_id"] == ids[-1]
    rewrite_as_owner(owner_db, f"DELETE FROM audit_log WHERE id = {ids[-1]}")
    with pytest.raises(checkpoint.Mismatch, match=f"audit row {ids[-1]} of the checkpoint is missing"):
        run_job(app, job)
    result = _audit_verify(app, "--checkpoint")
    assert result.exit_code == 1 and "missing" in result.output
    with app.app_context():
        assert checkpoint.load("audit")["last_id"] == ids[-1]  # not moved back


def test_an_unreachable_store_never_fails_an_action_but_fails_verification(app):
    app.config["AUDIT_CHECKPOINT"] = "redis://127.0.0.1:1/0"  # nothing listens there
    assert len(_records(app, 1)) == 1  # committed: the hook logs, the action stands
    result = _audit_verify(app)
    assert result.exit_code == 1 and "checkpoint audit: the store cannot be read" in result.output


def test_verify_checkpoint_writes_one_for_a_sound_log(app, tmp_path):
    _records(app, 2)
    (tmp_path / "checkpoints" / "audit.json").unlink()
    result = _audit_verify(app, "--checkpoint")
    assert result.exit_code == 0 and "checkpoint: 2 rows up to row" in result.output


def test_the_redis_store_moves_atomically_and_keeps_a_forged_checkpoint(app):
    redis = pytest.importorskip("redis")
    store = checkpoint.RedisStore("redis://127.0.0.1:6379/0", prefix=f"linli:test:{uuid.uuid4().hex}:")
    try:
        store.client.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    try:
        with app.app_context():
            app.extensions["checkpoint.store"] = (app.config["AUDIT_CHECKPOINT"], store)
            assert checkpoint.load("audit") is None
            checkpoint.update("audit", lambda current: {"count": 1})
            checkpoint.update("audit", lambda current: {"count": current["count"] + 1})
            assert checkpoint.load("audit") == {"count": 2}
            store.client.set(store.prefix + "audit", json.dumps({"body": {"count": 9}, "signature": "00"}))
            with pytest.raises(checkpoint.Forged):
                checkpoint.update("audit", lambda current: {"count": 3})
            assert json.loads(store.read("audit"))["body"] == {"count": 9}
    finally:
        store.client.delete(store.prefix + "audit")


def test_an_audit_checkpoint_setting_names_its_store(app):
    with app.app_context():
        assert isinstance(checkpoint.store(), checkpoint.FileStore)
        app.config["AUDIT_CHECKPOINT"] = "redis://127.0.0.1:6379/0"
        assert isinstance(checkpoint.store(), checkpoint.RedisStore)


# -- the migration ----------------------------------------------------------------------------

@pytest.fixture
def fresh_database(tmp_path):
    """An empty database of its own (SQLite file, or a PostgreSQL database next to the suite's)."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    import psycopg
    admin_url = _postgres_admin_url(TEST_DATABASE_URL)
    name = f"linli_fresh_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield str(sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False))
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _plain_chain(conn, n: int, break_at: int | None = None) -> None:
    """n audit rows chained as before the key (plain SHA-256); the row `break_at` edited afterwards."""
    from datetime import datetime, timezone
    prev = audit.GENESIS
    for i in range(n):
        values = {"created_at": datetime(2026, 11, 1, 8, i, tzinfo=timezone.utc), "actor_id": None, "action": "a",
                  "object_type": "estate", "object_id": str(i), "before": None, "after": {"n": i}, "ip": None,
                  "prev_hash": prev}
        payload = json.dumps(audit.chain_fields(values), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        values["hash"] = prev = hashlib.sha256(payload.encode()).hexdigest()
        if i == break_at:
            values["after"] = {"n": -1}
        conn.execute(AuditEntry.__table__.insert(), values)


@pytest.mark.parametrize("broken", [False, True])
def test_the_migration_chains_existing_rows_under_the_key_unless_the_chain_is_broken(fresh_database, tmp_path, broken,
                                                                                    caplog):
    from flask_migrate import downgrade, upgrade

    from core import create_app
    app = create_app(_app_config(fresh_database, "http://127.0.0.1:9/", AUDIT_CHECKPOINT=str(tmp_path / "cp")))
    try:
        with app.app_context():
            upgrade(revision="d13a00000001")
            with db.engine.begin() as conn:
                _plain_chain(conn, 5, break_at=2 if broken else None)
            if broken:
                with pytest.raises(SystemExit):  # `flask db upgrade` exits 1 with the reason
                    upgrade(revision="d13a00000002")
                assert "audit log: row 3 does not verify under the old chain" in caplog.text
                return
            upgrade(revision="d13a00000002")
            assert audit.verify() == (5, [])
            db.session.rollback()  # its read would hold off the migrations' DDL below
            with pytest.raises(sa.exc.DatabaseError):  # the triggers are back
                with db.engine.begin() as conn:
                    conn.exec_driver_sql("UPDATE audit_log SET action = 'x'")
            downgrade(revision="d13a00000001")  # and back to the plain chain
            with db.engine.connect() as conn:
                rows = conn.execute(sa.select(AuditEntry.__table__).order_by(AuditEntry.id)).all()
            payload = json.dumps(audit.chain_fields(dict(rows[0]._mapping)), sort_keys=True, ensure_ascii=False,
                                 separators=(",", ":"))
            assert rows[0].hash == hashlib.sha256(payload.encode()).hexdigest()
    finally:
        with app.app_context():
            db.engine.dispose()

