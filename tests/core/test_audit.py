"""The audit log: admin actions leave chained rows; `flask audit verify` catches any alteration."""
import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEntry
from tests.conftest import ON_POSTGRES


def _tamper(owner_db, statement: str) -> None:
    """Alter audit rows behind the triggers' back, as an attacker with the owner's access could."""
    with owner_db.begin() as conn:
        if ON_POSTGRES:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
            conn.exec_driver_sql("DROP TRIGGER audit_log_no_delete")
        conn.exec_driver_sql(statement)


def test_admin_actions_are_recorded_with_actor_before_after_and_ip(app, client, admin, make_estate):
    estate = make_estate(name="旧名")
    assert client.patch(f"/api/v1/admin/estates/{estate}", headers=admin.headers,
                        json={"name": "新名"}).status_code == 200
    created = client.post("/api/v1/admin/engineers", headers=admin.headers, json={
        "name": "王师傅", "phone": "13800000001", "employee_no": "A1", "estate_ids": [estate]}).json
    with app.app_context():
        rows = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
        actions = [r.action for r in rows]
        assert actions[-4:] == ["estate.create", "estate.update", "engineer.create", "engineer.estates.set"]
        update = rows[-3]
        assert update.actor_id == admin.user_id and update.object_id == str(estate)
        assert update.before["name"] == "旧名" and update.after["name"] == "新名"
        assert update.ip == "127.0.0.1"
        assert rows[-1].after == {"estate_ids": [estate]} and rows[-2].object_id == str(created["id"])
        assert all(r.prev_hash == p.hash for p, r in zip(rows, rows[1:]))


def test_the_database_refuses_to_update_or_delete_audit_rows(app, admin, make_estate):
    make_estate()
    with app.app_context():
        for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
            try:
                db.session.execute(sa.text(statement))
                raise AssertionError(f"{statement} was accepted")
            except sa.exc.DatabaseError:
                db.session.rollback()


def test_verify_passes_on_an_intact_chain_and_fails_on_any_alteration(app, client, admin, make_estate, owner_db):
    for n in range(3):
        make_estate(name=f"小区{n}")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        rows = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    assert rows >= 3 and f"{rows} audit rows checked, 0 problems" in result.output
    with app.app_context():
        second = db.session.scalars(sa.select(AuditEntry.id).order_by(AuditEntry.id)).all()[1]
        _tamper(owner_db, f"UPDATE audit_log SET after = '{{\"name\": \"forged\"}}' WHERE id = {second}")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"audit row {second}: hash does not match" in result.output


def test_verify_catches_a_deleted_row(app, admin, make_estate, owner_db):
    for n in range(3):
        make_estate(name=f"小区{n}")
    with app.app_context():
        second = db.session.scalars(sa.select(AuditEntry.id).order_by(AuditEntry.id)).all()[1]
        _tamper(owner_db, f"DELETE FROM audit_log WHERE id = {second}")
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "prev_hash does not match" in result.output
