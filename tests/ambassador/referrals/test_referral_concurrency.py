"""Referrals under real concurrency (PostgreSQL; SQLite serialises writers): the daily earning cap
holds exactly when 50 invitees of one inviter qualify at once, a referral pays once however many
events race, one invitee ends with one attribution, and a flag is decided once."""
import secrets

import pytest
import sqlalchemy as sa

from ambassador.models import Ambassador, Level
from ambassador.referrals import services as referrals
from ambassador.referrals.models import Referral
from core.accounts.models import User
from core.db import utcnow
from core.extensions import db
from points import services as points
from points.models import EarningCounter, EarningRule
from tests.concurrency import in_own_context, outcomes, race
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (SQLite serialises writers)")


@pytest.fixture
def app_config(app_config):
    """A connection for every thread of the largest crowd (50), so none waits for the pool."""
    app_config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": 52, "max_overflow": 0, "pool_timeout": 30}
    return app_config


def _ambassador(user_id: int, phone: str | None = None) -> Ambassador:
    level = db.session.scalar(sa.select(Level).where(Level.position == 1))
    row = Ambassador(user_id=user_id, level_id=level.id, channel="member", real_name="代言人",
                     phone=phone or f"139{secrets.randbelow(10**8):08d}", invite_code=secrets.token_hex(4).upper())
    db.session.add(row)
    return row


def setup_invitees(app, n: int, *, ambassadors: bool = True) -> tuple[int, list[int], list[int]]:
    """An inviter (an ambassador) and n invitees attributed to them (made ambassadors too, so the
    "ambassador" trigger qualifies). Returns (inviter id, invitee ids, referral ids)."""
    with app.app_context():
        inviter = User(display_name="邀请人")
        invitees = [User(display_name=f"新人{i}") for i in range(n)]
        db.session.add_all([inviter, *invitees])
        db.session.flush()
        _ambassador(inviter.id)
        now = utcnow()
        rows = [Referral(inviter_id=inviter.id, invitee_id=u.id, invite_code="X", attributed_at=now,
                         protected_until=now) for u in invitees]
        db.session.add_all(rows)
        if ambassadors:
            for user in invitees:
                _ambassador(user.id)
        db.session.commit()
        return inviter.id, [u.id for u in invitees], [r.id for r in rows]


def test_daily_cap_holds_exactly_under_50_concurrent_qualifications(app):
    k = 7
    with app.app_context():
        rule = db.session.get(EarningRule, "referral_ambassador")
        rule.daily_cap = rule.points * k
        per_reward = rule.points
        db.session.commit()
    inviter_id, invitee_ids, _ = setup_invitees(app, 50)

    results = race([in_own_context(app, lambda i=i: referrals.qualify(i, "ambassador").result)
                    for i in invitee_ids])
    assert outcomes([("ok", r) if kind == "ok" else (kind, r) for kind, r in results]) == {"ok": 50}
    assert sorted(r for _, r in results).count("rewarded") == k
    assert sorted(r for _, r in results).count("refused") == 50 - k

    with app.app_context():
        assert points.balance(inviter_id).available == k * per_reward
        assert db.session.get(Ambassador, inviter_id).contribution_total == k * per_reward
        counted = db.session.scalar(sa.select(sa.func.sum(EarningCounter.points)).where(
            EarningCounter.user_id == inviter_id, EarningCounter.kind == "referral_ambassador",
            EarningCounter.period != "lifetime"))
        assert counted == k * per_reward
        statuses = dict(db.session.execute(sa.select(Referral.status, sa.func.count()).group_by(Referral.status)).all())
        assert statuses == {"rewarded": k, "pending": 50 - k}
        # The refused ones wait, qualified, for the retry job.
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Referral).where(
            Referral.status == "pending", Referral.qualified_by == "ambassador")) == 50 - k
        assert points.verify() == []


def test_one_referral_pays_once_when_its_events_race(app):
    inviter_id, [invitee_id], [referral_id] = setup_invitees(app, 1)
    results = race([in_own_context(app, lambda: dict(referrals.qualify(invitee_id, "ambassador").paid))
                    for _ in range(12)])
    paid = [r for kind, r in results if kind == "ok" and r]
    assert paid == [{"ambassador": 100}]
    with app.app_context():
        assert points.balance(inviter_id).available == 100
        assert db.session.get(Ambassador, inviter_id).contribution_total == 100
        assert db.session.get(Referral, referral_id).status == "rewarded"
        assert points.verify() == []


def test_concurrent_attributions_of_one_invitee_leave_one_row(app):
    with app.app_context():
        invitee = User(display_name="新人")
        inviters = [User(display_name=f"邀请人{i}") for i in range(10)]
        db.session.add_all([invitee, *inviters])
        db.session.flush()
        codes = [_ambassador(u.id).invite_code for u in inviters]
        db.session.commit()
        invitee_id = invitee.id

    def attribute(code):
        return lambda: referrals.attribute(db.session.get(User, invitee_id), code).result

    results = race([in_own_context(app, attribute(code)) for code in codes])
    assert sorted(r for _, r in results) == ["created"] + ["kept"] * 9
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Referral)) == 1

    # The same inviter's code scanned many times at once: one row, the rest "unchanged".
    with app.app_context():
        other = User(display_name="另一位新人")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    results = race([in_own_context(app, lambda: referrals.attribute(db.session.get(User, other_id), codes[0]).result)
                    for _ in range(10)])
    assert sorted(r for _, r in results) == ["created"] + ["unchanged"] * 9


def test_a_flag_is_decided_once_under_concurrent_admins(app):
    inviter_id, [invitee_id], [referral_id] = setup_invitees(app, 1)
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id.in_([inviter_id, invitee_id])).values(phone="13600000000"))
        assert referrals.qualify(invitee_id, "ambassador").result == "flagged"
        admins = [User(display_name=f"管理员{i}", roles=frozenset({"admin"})) for i in range(8)]
        db.session.add_all(admins)
        db.session.commit()
        admin_ids = [a.id for a in admins]

    results = race([in_own_context(app, lambda a=a: dict(referrals.clear_flag(
        referral_id, db.session.get(User, a), "核实为不同人").paid)) for a in admin_ids])
    assert outcomes([(kind, "ok" if kind == "ok" else r) for kind, r in results]) == {
        "ok": 1, "referral_not_flagged": 7}
    with app.app_context():
        assert points.balance(inviter_id).available == 100
        assert db.session.get(Referral, referral_id).status == "rewarded"
        assert points.verify() == []
