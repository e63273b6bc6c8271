"""The ledger's signed checkpoint outside the database: `flask points verify` catches what leaves
every invariant inside the database intact (docs/security.md)."""
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core import checkpoint
from core.accounts.models import User
from core.db import utcnow
from core.extensions import db
from core.scheduler import run_job
from points import jobs, ledger, services
from tests.conftest import ON_POSTGRES, rewrite_as_owner

LEDGER = ("points_lot_uses", "points_postings", "points_lots", "points_holds", "points_transactions")


def _ledger(app) -> int:
    """A user with grants, a spend and a released hold; returns the user's id."""
    with app.app_context():
        user = User(display_name="住户")
        db.session.add(user)
        db.session.flush()
        for n in range(3):
            ledger.grant(user.id, 100, "test", f"g{n}", "发放")
        ledger.spend(user.id, 30, "test", "s", "消费")
        ledger.release(ledger.hold(user.id, 20, "h", "冻结"), "退回")
        db.session.commit()
        return user.id


def _verify(app, *args):
    return app.test_cli_runner().invoke(args=["points", "verify", *args])


def _delete_transaction(transaction_id: int, user_id: int, amount: int) -> list[str]:
    """Remove a grant as a careful attacker would: its postings, its lot, and the balance it made."""
    return [f"DELETE FROM points_postings WHERE transaction_id = {transaction_id}",
            f"DELETE FROM points_lots WHERE transaction_id = {transaction_id}",
            f"DELETE FROM points_transactions WHERE id = {transaction_id}",
            f"UPDATE points_accounts SET balance = balance - {amount} WHERE user_id = {user_id}"]


def test_emptying_the_ledger_and_zeroing_the_balances_is_detected(app, owner_db):
    _ledger(app)
    result = _verify(app, "--checkpoint")
    assert result.exit_code == 0, result.output
    assert "checkpoint: newest transaction" in result.output
    if ON_POSTGRES:
        emptied = ["TRUNCATE points_transactions CASCADE"]
    else:  # SQLite has no TRUNCATE: the same rows, deleted
        emptied = [f"DELETE FROM {table}" for table in LEDGER]
    rewrite_as_owner(owner_db, *emptied, "UPDATE points_accounts SET balance = 0")
    result = _verify(app)
    assert result.exit_code == 1
    assert "the newest when the checkpoint was taken, is missing" in result.output


def test_deleting_the_newest_transactions_is_detected(app, owner_db):
    user_id = _ledger(app)
    with app.app_context():
        newest = ledger.grant(user_id, 40, "test", "late", "发放").transaction_id
        db.session.commit()
    assert _verify(app, "--checkpoint").exit_code == 0
    rewrite_as_owner(owner_db, *_delete_transaction(newest, user_id, 40))
    with app.app_context():
        assert [p for p in services.verify() if "checkpoint" not in p] == []  # every invariant holds
    result = _verify(app)
    assert result.exit_code == 1 and f"transaction {newest}, the newest when the checkpoint was taken" in result.output


def test_a_transaction_deleted_below_the_settled_boundary_is_detected(app, owner_db):
    user_id = _ledger(app)
    with app.app_context():
        untouched = db.session.scalar(sa.select(ledger.LedgerTransaction.id).where(  # no spend took from it
            ledger.LedgerTransaction.idempotency_key == "g2"))
        mark = services.checkpoint_ledger(now=utcnow() + timedelta(minutes=11))  # all of it settled
        assert mark["settled"]["id"] == mark["head"]["id"] and mark["settled"]["count"] == 6
        assert mark["settled"]["sums"] == {"issuance": -300, "redeemed": 30, "user": 270}  # held: back to 0
        ledger.grant(user_id, 5, "test", "after", "发放")
        db.session.commit()
    rewrite_as_owner(owner_db, *_delete_transaction(untouched, user_id, 100))
    result = _verify(app)
    assert result.exit_code == 1
    assert "5 transactions up to" in result.output and "the checkpoint counted 6" in result.output


def test_a_forged_ledger_checkpoint_is_detected_and_kept(app, tmp_path):
    _ledger(app)
    assert _verify(app, "--checkpoint").exit_code == 0
    path = tmp_path / "checkpoints" / "points.json"
    stored = json.loads(path.read_text())
    stored["body"]["head"]["id"] = 1
    path.write_text(json.dumps(stored))
    result = _verify(app)
    assert result.exit_code == 1 and "checkpoint points: the signature does not verify" in result.output
    forged = path.read_text()
    job = next(j for j in jobs.JOBS if j.name == "checkpoint-ledger")
    with pytest.raises(checkpoint.Forged):
        run_job(app, job)
    assert _verify(app, "--checkpoint").exit_code == 1
    assert path.read_text() == forged


def test_the_checkpoint_job_moves_forward_and_will_not_hide_a_deletion(app, owner_db):
    user_id = _ledger(app)
    job = next(j for j in jobs.JOBS if j.name == "checkpoint-ledger")
    head = run_job(app, job)
    with app.app_context():
        newer = ledger.grant(user_id, 7, "test", "newer", "发放").transaction_id
        db.session.commit()
    assert run_job(app, job) == newer > head
    rewrite_as_owner(owner_db, *_delete_transaction(newer, user_id, 7))
    with pytest.raises(checkpoint.Mismatch, match=f"transaction {newer}"):
        run_job(app, job)
    with app.app_context():
        assert checkpoint.load("points")["head"]["id"] == newer  # not moved back
