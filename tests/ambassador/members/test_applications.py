"""Memberships, applications, `GET /ambassador/me`, and the admin decisions on applications
(through the API, as the mini-program and the console make them)."""
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ambassador.members import services
from ambassador.members.models import Membership
from ambassador.models import Ambassador, AmbassadorEstate, Application, Level, LevelChange
from core.accounts.models import User
from core.db import utcnow
from core.extensions import db
from core.models import AuditEntry
from tests.conftest import ON_POSTGRES, Account

APPLY = "/api/v1/ambassador/applications"
ME = "/api/v1/ambassador/me"
QUEUE = "/api/v1/admin/ambassador/applications"


@pytest.fixture
def estates(make_estate):
    return [make_estate(city="深圳市"), make_estate(city="广州市", province="广东省")]


@pytest.fixture
def member(app, client, admin, login):
    """A resident with a membership tier (gold unless told)."""
    def make(tier="gold") -> Account:
        account = login()
        response = client.put(f"/api/v1/admin/users/{account.user_id}/membership", headers=admin.headers,
                              json={"tier": tier})
        assert response.status_code == 200, response.json
        return account
    return make


@pytest.fixture
def apply(client, estates):
    def do(account, **fields):
        body = {"channel": "member", "real_name": "张三", "phone": "13912345678", "estate_ids": [estates[0]],
                "statement": "我想为小区服务", **fields}
        return client.post(APPLY, json=body, headers=account.headers)
    return do


def error(response):
    return response.json["error"]["code"]


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


# -- memberships ------------------------------------------------------------------------------

def test_membership_set_changed_and_cleared_by_an_admin_with_audit(app, client, admin, login):
    resident = login()
    url = f"/api/v1/admin/users/{resident.user_id}/membership"
    response = client.put(url, headers=admin.headers, json={"tier": "GOLD"})
    assert response.status_code == 200
    assert response.json["tier"] == "gold" and response.json["qualifying"] is True
    assert response.json["source"] == "admin"
    assert client.put(url, headers=admin.headers, json={"tier": "gold"}).status_code == 200  # unchanged: no audit
    assert client.put(url, headers=admin.headers, json={"tier": "silver"}).json["tier"] == "silver"
    read = client.get(url, headers=admin.headers).json
    assert (read["tier"], read["source"], read["qualifying"]) == ("silver", "admin", True)
    assert client.get(url, headers=resident.headers).status_code == 403
    response = client.put(url, headers=admin.headers, json={"tier": None})
    assert response.json == {**response.json, "tier": None, "qualifying": False}
    assert count(app, Membership) == 0
    with app.app_context():
        rows = db.session.execute(sa.select(AuditEntry.before, AuditEntry.after).where(
            AuditEntry.action == "ambassador.membership.set").order_by(AuditEntry.id)).all()
    assert [(b["tier"], a["tier"]) for b, a in rows] == [(None, "gold"), ("gold", "silver"), ("silver", None)]


def test_membership_refusals(client, admin, login):
    resident = login()
    url = f"/api/v1/admin/users/{resident.user_id}/membership"
    response = client.put(url, headers=admin.headers, json={"tier": "diamond"})
    assert response.status_code == 422 and "tier" in response.json["error"]["details"]["fields"]
    assert client.put(url, headers=admin.headers, json={}).status_code == 422
    assert error(client.put("/api/v1/admin/users/999999/membership", headers=admin.headers,
                            json={"tier": "gold"})) == "user_not_found"
    assert client.put(url, headers=resident.headers, json={"tier": "gold"}).status_code == 403
    assert client.put(url, json={"tier": "gold"}).status_code == 401


def test_import_members_reports_bad_lines_and_is_idempotent(app, tmp_path, login):
    people = [login() for _ in range(4)]
    phones = ["13800000001", "13800000002", "13800000003", "13800000004"]
    with app.app_context():
        for account, phone in zip(people, phones):
            db.session.get(User, account.user_id).phone = phone
        twin = User(display_name="同号用户", phone="13800000009")
        other = User(display_name="同号用户2", phone="13800000009")
        db.session.add_all([twin, other])
        db.session.commit()
        services.set_membership(people[3].user_id, "gold", None)
        db.session.commit()
    path = tmp_path / "members.csv"
    path.write_text("\ufeffphone,tier,note\n"
                    "13800000001,gold,\n"
                    "+86 138-0000-0002,Silver,\n"
                    "12345,gold,\n"                 # line 4: bad phone
                    "13800000003,diamond,\n"         # line 5: bad tier
                    "13899999999,gold,\n"            # line 6: nobody has it
                    "\n"
                    "13800000009,gold,\n"            # line 8: two users
                    "13800000004,,\n", encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["ambassadors", "import-members", str(path)])
    assert result.exit_code == 1, result.output
    for line in (4, 5, 6, 8):
        assert f"第 {line} 行" in result.output
    for line in (2, 3, 9):
        assert f"第 {line} 行" not in result.output
    assert "设置 2，清除 1，未变化 0，错误 4" in result.output
    with app.app_context():
        tiers = {m.user_id: (m.tier, m.source) for m in db.session.scalars(sa.select(Membership))}
        audits = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "ambassador.membership.set"))
    assert tiers == {people[0].user_id: ("gold", "import"), people[1].user_id: ("silver", "import")}

    again = runner.invoke(args=["ambassadors", "import-members", str(path)])
    assert "设置 0，清除 0，未变化 3，错误 4" in again.output
    assert count(app, AuditEntry, AuditEntry.action == "ambassador.membership.set") == audits

    assert runner.invoke(args=["ambassadors", "import-members", str(tmp_path / "missing.csv")]).exit_code == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("mobile,level\n13800000001,gold\n", encoding="utf-8")
    result = runner.invoke(args=["ambassadors", "import-members", str(bad)])
    assert result.exit_code == 2 and "phone,tier" in result.output


# -- submitting -------------------------------------------------------------------------------

def test_member_of_a_qualifying_tier_applies_and_sees_it_pending(app, client, member, apply, estates):
    account = member("silver")
    response = apply(account, estate_ids=[estates[1], estates[0]], phone="+86 139-1234-5678",
                     real_name="  李四  ")
    assert response.status_code == 201, response.json
    assert response.json["status"] == "pending" and response.json["channel"] == "member"
    with app.app_context():
        row = db.session.get(Application, response.json["id"])
        assert (row.qualified, row.phone, row.real_name, row.estate_ids, row.inviter_id) == (
            True, "13912345678", "李四", [estates[1], estates[0]], None)
    me = client.get(ME, headers=account.headers).json
    assert me["ambassador"] is None
    assert me["application"]["status"] == "pending" and me["application"]["reapply_after"] is None


def test_tiers_that_do_not_qualify_are_refused(app, member, apply, login):
    app.config["AMBASSADOR_QUALIFYING_TIERS"] = "gold"
    response = apply(member("silver"))
    assert response.status_code == 403 and error(response) == "not_qualified"
    assert error(apply(login())) == "not_qualified"
    assert apply(member("gold")).status_code == 201


def test_engineer_channel_needs_a_claimed_active_engineer(app, make_engineer, apply, login):
    engineer = make_engineer()
    response = apply(engineer, channel="engineer")
    assert response.status_code == 201, response.json
    with app.app_context():
        assert db.session.get(Application, response.json["id"]).qualified is True
    response = apply(login(), channel="engineer")
    assert response.status_code == 403 and error(response) == "not_qualified"


def test_referral_needs_the_code_of_an_active_ambassador_who_may_recruit(app, client, apply, login,
                                                                         make_ambassador):
    inviter = make_ambassador(level=1)
    with app.app_context():
        code = db.session.get(Ambassador, inviter.user_id).invite_code
    applicant = login()
    assert error(apply(applicant, channel="referral")) == "validation_error"  # no code
    assert error(apply(applicant, channel="referral", invite_code="NOSUCH22")) == "invalid_invite_code"
    # The inviter's level loses the recruit permission: the code stops working.
    with app.app_context():
        level = db.session.scalar(sa.select(Level).where(Level.position == 1))
        level.permissions = ["announce"]
        db.session.commit()
    assert error(apply(applicant, channel="referral", invite_code=code)) == "invalid_invite_code"
    with app.app_context():
        level = db.session.scalar(sa.select(Level).where(Level.position == 1))
        level.permissions = ["recruit"]
        db.session.get(Ambassador, inviter.user_id).status = "suspended"
        db.session.commit()
    assert error(apply(applicant, channel="referral", invite_code=code)) == "invalid_invite_code"
    with app.app_context():
        db.session.get(Ambassador, inviter.user_id).status = "active"
        db.session.commit()
    response = apply(applicant, channel="referral", invite_code=f" {code.lower()} ")
    assert response.status_code == 201, response.json
    with app.app_context():
        row = db.session.get(Application, response.json["id"])
        assert (row.inviter_id, row.invite_code, row.qualified) == (inviter.user_id, code, False)
    # An ambassador's own code is refused as such.
    response = apply(inviter, channel="referral", invite_code=code)
    assert response.status_code == 422 and error(response) == "self_referral"


@pytest.mark.parametrize("fields, bad", [
    ({"phone": "12345678901"}, "phone"),
    ({"phone": "1391234567"}, "phone"),
    ({"real_name": "张"}, "real_name"),
    ({"real_name": "张" * 33}, "real_name"),
    ({"estate_ids": []}, "estate_ids"),
    ({"estate_ids": [1, 2, 3, 4, 5, 6]}, "estate_ids"),
    ({"estate_ids": [999999]}, "estate_ids"),
    ({"estate_ids": [2**63]}, "estate_ids"),
    ({"estate_ids": "1"}, "estate_ids"),
    ({"estate_ids": [True]}, "estate_ids"),
    ({"channel": "vip"}, "channel"),
    ({"statement": "字" * 1001}, "statement"),
    ({"statement": None}, "statement"),
])
def test_every_field_is_validated(app, member, apply, fields, bad):
    response = apply(member(), **fields)
    assert response.status_code == 422, response.json
    assert bad in response.json["error"]["details"]["fields"]
    assert count(app, Application) == 0


def test_inactive_estates_are_refused(app, member, apply, estates):
    from community.estates.models import Estate
    with app.app_context():
        db.session.get(Estate, estates[1]).status = "inactive"
        db.session.commit()
    response = apply(member(), estate_ids=[estates[0], estates[1]])
    assert response.status_code == 422 and error(response) == "estate_not_found"
    assert response.json["error"]["details"]["estate_ids"] == [estates[1]]


def test_one_open_application_and_none_for_an_ambassador(member, apply, make_ambassador):
    account = member()
    assert apply(account).status_code == 201
    response = apply(account)
    assert response.status_code == 409 and error(response) == "application_open"
    ambassador = make_ambassador()
    response = apply(ambassador)
    assert response.status_code == 409 and error(response) == "already_ambassador"


def test_submitting_with_an_idempotency_key_applies_once(app, client, member, apply, estates):
    account = member()
    headers = {**account.headers, "Idempotency-Key": "apply-1"}
    body = {"channel": "member", "real_name": "张三", "phone": "13912345678", "estate_ids": [estates[0]],
            "statement": ""}
    first = client.post(APPLY, json=body, headers=headers)
    second = client.post(APPLY, json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json == second.json and second.headers.get("Idempotent-Replayed") == "true"
    assert count(app, Application) == 1
    assert error(client.post(APPLY, json={**body, "statement": "不同"}, headers=headers)) == "idempotency_key_reused"


def test_withdraw_my_pending_application_only(app, client, member, apply):
    account, other = member(), member()
    application_id = apply(account).json["id"]
    assert error(client.post(f"{APPLY}/{application_id}/withdraw", headers=other.headers)) == "application_not_found"
    response = client.post(f"{APPLY}/{application_id}/withdraw", headers=account.headers)
    assert response.status_code == 200 and response.json["status"] == "withdrawn"
    response = client.post(f"{APPLY}/{application_id}/withdraw", headers=account.headers)
    assert response.status_code == 409 and error(response) == "already_decided"
    assert client.post(f"{APPLY}/{2**64}/withdraw", headers=account.headers).status_code == 404
    assert apply(account).status_code == 201  # a withdrawal has no cool-down


def test_rejection_reason_and_cool_down(app, client, admin, member, apply):
    account = member()
    application_id = apply(account).json["id"]
    response = client.post(f"{QUEUE}/{application_id}/reject", headers=admin.headers, json={"reason": "  "})
    assert response.status_code == 422
    assert client.post(f"{QUEUE}/{application_id}/reject", headers=admin.headers, json={}).status_code == 422
    response = client.post(f"{QUEUE}/{application_id}/reject", headers=admin.headers, json={"reason": "资料不全"})
    assert response.status_code == 200 and response.json["status"] == "rejected"

    me = client.get(ME, headers=account.headers).json["application"]
    assert (me["status"], me["reason"]) == ("rejected", "资料不全")
    assert me["decided_at"] and me["reapply_after"]
    response = apply(account)
    assert response.status_code == 409 and error(response) == "reapply_cooldown"
    assert response.json["error"]["details"]["reapply_after"] == me["reapply_after"]
    with app.app_context():
        row = db.session.get(Application, application_id)
        cooldown = timedelta(days=app.config["AMBASSADOR_REAPPLY_COOLDOWN_DAYS"])
        assert abs(row.decided_at - utcnow()) < timedelta(minutes=1)
        # Just before the cool-down ends: still refused; just after: accepted.
        row.decided_at = utcnow() - cooldown + timedelta(minutes=1)
        db.session.commit()
    assert error(apply(account)) == "reapply_cooldown"
    with app.app_context():
        db.session.get(Application, application_id).decided_at = utcnow() - cooldown - timedelta(seconds=1)
        db.session.commit()
    assert apply(account).status_code == 201


# -- approval ---------------------------------------------------------------------------------

def test_approval_makes_an_ambassador_at_the_entry_level(app, client, admin, apply, login, make_ambassador,
                                                         estates):
    inviter = make_ambassador(level=2)
    with app.app_context():
        code = db.session.get(Ambassador, inviter.user_id).invite_code
    account = login()
    application_id = apply(account, channel="referral", invite_code=code,
                           estate_ids=[estates[1], estates[0]]).json["id"]
    response = client.post(f"{QUEUE}/{application_id}/approve", headers=admin.headers)
    assert response.status_code == 200, response.json
    assert response.json["status"] == "approved" and response.json["decided_by_id"] == admin.user_id

    with app.app_context():
        ambassador = db.session.get(Ambassador, account.user_id)
        entry = db.session.scalar(sa.select(Level).order_by(Level.position).limit(1))
        assert (ambassador.level_id, ambassador.status, ambassador.channel, ambassador.city, ambassador.inviter_id,
                ambassador.real_name, ambassador.phone) == (
            entry.id, "active", "referral", "广州市", inviter.user_id, "张三", "13912345678")
        assert len(ambassador.invite_code) == 8 and set(ambassador.invite_code) <= set(services.INVITE_ALPHABET)
        assert not set("01OIL") & set(services.INVITE_ALPHABET)
        assert set(db.session.scalars(sa.select(AmbassadorEstate.estate_id).where(
            AmbassadorEstate.user_id == account.user_id))) == set(estates)
        changes = db.session.scalars(sa.select(LevelChange).where(LevelChange.user_id == account.user_id)).all()
        assert [(c.kind, c.to_level_id, c.actor_id) for c in changes] == [("join", entry.id, admin.user_id)]
        audit = db.session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "ambassador.application.approve")).one()
        assert audit.object_id == str(application_id) and audit.actor_id == admin.user_id

    me = client.get(ME, headers=account.headers).json
    assert me["application"]["status"] == "approved"
    amb = me["ambassador"]
    assert amb["status"] == "active" and amb["invite_code"] == ambassador.invite_code
    assert (amb["level"]["code"], amb["level"]["position"], amb["level"]["permissions"]) == ("trainee", 1, ["recruit"])
    assert amb["next_level"] == {"name": "银牌代言人", "threshold": 500}
    assert (amb["contribution_total"], amb["window_contribution"]) == (0, 0)
    assert sorted(e["id"] for e in amb["estates"]) == sorted(estates)
    # The window the level is judged on, as configured (the centre page explains the contribution).
    assert amb["window_days"] == 90
    app.config["AMBASSADOR_WINDOW_DAYS"] = 60
    assert client.get(ME, headers=account.headers).json["ambassador"]["window_days"] == 60
    app.config["AMBASSADOR_WINDOW_DAYS"] = 90

    response = client.post(f"{QUEUE}/{application_id}/approve", headers=admin.headers)
    assert response.status_code == 409 and error(response) == "already_decided"
    assert response.json["error"]["details"]["status"] == "approved"
    assert error(client.post(f"{QUEUE}/{application_id}/reject", headers=admin.headers,
                             json={"reason": "晚了"})) == "already_decided"
    assert error(client.post(f"{QUEUE}/999999/approve", headers=admin.headers)) == "application_not_found"


def test_invite_codes_are_drawn_again_on_a_collision(app, ctx, monkeypatch):
    with app.app_context():
        user = User(display_name="老代言人")
        db.session.add(user)
        db.session.flush()
        level = services.entry_level()
        db.session.add(Ambassador(user_id=user.id, level_id=level.id, channel="member", real_name="王五",
                                  phone="13900000000", invite_code="AAAAAAAA"))
        db.session.flush()
        draws = iter("A" * 8 + "B" * 8)
        monkeypatch.setattr(services.secrets, "choice", lambda alphabet: next(draws))
        assert services._new_invite_code() == "BBBBBBBB"
        db.session.rollback()


def test_bulk_decisions_report_each_outcome(app, client, admin, member, apply):
    ids = [apply(member()).json["id"] for _ in range(3)]
    assert client.post(f"{QUEUE}/{ids[0]}/approve", headers=admin.headers).status_code == 200
    response = client.post(f"{QUEUE}/decisions", headers=admin.headers,
                           json={"ids": [ids[0], ids[1], ids[2], 999999, ids[1]], "action": "approve"})
    assert response.status_code == 200, response.json
    assert response.json["decided"] == 2 and response.json["refused"] == 2
    assert {i["id"]: i["code"] for i in response.json["items"]} == {
        ids[0]: "already_decided", ids[1]: "ok", ids[2]: "ok", 999999: "application_not_found"}
    assert count(app, Ambassador) == 3

    more = [apply(member()).json["id"] for _ in range(2)]
    assert client.post(f"{QUEUE}/decisions", headers=admin.headers,
                       json={"ids": more, "action": "reject"}).status_code == 422
    response = client.post(f"{QUEUE}/decisions", headers=admin.headers,
                           json={"ids": more, "action": "reject", "reason": "名额已满"})
    assert response.json["decided"] == 2
    assert count(app, Application, Application.status == "rejected", Application.reason == "名额已满") == 2


def test_queue_lists_pending_oldest_first_with_filters(client, admin, member, apply, make_engineer, login):
    first = apply(member(), real_name="赵一").json["id"]
    second = apply(make_engineer(), channel="engineer", real_name="钱二", phone="13700000002").json["id"]
    third = apply(member(), real_name="孙三").json["id"]
    client.post(f"{QUEUE}/{third}/reject", headers=admin.headers, json={"reason": "重复"})

    page = client.get(f"{QUEUE}?status=pending&limit=1", headers=admin.headers).json
    assert [i["id"] for i in page["items"]] == [first]
    page = client.get(f"{QUEUE}?status=pending&limit=1&cursor={page['next_cursor']}", headers=admin.headers).json
    assert [i["id"] for i in page["items"]] == [second] and page["next_cursor"] is None
    assert [i["id"] for i in client.get(QUEUE, headers=admin.headers).json["items"]] == [third, second, first]
    assert [i["id"] for i in client.get(f"{QUEUE}?channel=engineer", headers=admin.headers).json["items"]] == [second]
    assert [i["id"] for i in client.get(f"{QUEUE}?q=钱", headers=admin.headers).json["items"]] == [second]
    assert [i["id"] for i in client.get(f"{QUEUE}?q=13700000002", headers=admin.headers).json["items"]] == [second]
    assert client.get(f"{QUEUE}?status=maybe", headers=admin.headers).status_code == 422
    assert client.get(f"{QUEUE}?cursor=bogus", headers=admin.headers).status_code == 400
    detail = client.get(f"{QUEUE}/{second}", headers=admin.headers).json
    assert detail["qualified"] is True and detail["phone"] == "13700000002"


def test_only_admins_decide_and_agents_may_read(app, client, member, apply, login, make_engineer):
    from core.accounts import services as accounts
    application_id = apply(member()).json["id"]
    with app.app_context():
        accounts.create_staff("agent1", "agent-pass-1", {"agent"})
        db.session.commit()
    agent = client.post("/api/v1/auth/password-login", json={"username": "agent1", "password": "agent-pass-1"})
    agent_headers = {"Authorization": f"Bearer {agent.json['token']}"}
    assert client.get(QUEUE, headers=agent_headers).status_code == 200
    for headers in (agent_headers, login().headers, make_engineer().headers):
        assert client.post(f"{QUEUE}/{application_id}/approve", headers=headers).status_code == 403
        assert client.post(f"{QUEUE}/{application_id}/reject", headers=headers,
                           json={"reason": "x"}).status_code == 403
        assert client.post(f"{QUEUE}/decisions", headers=headers,
                           json={"ids": [application_id], "action": "approve"}).status_code == 403
    for headers in (login().headers, make_engineer().headers):
        assert client.get(QUEUE, headers=headers).status_code == 403
    assert client.get(QUEUE).status_code == 401
    assert count(app, Application, Application.status == "pending") == 1


# -- concurrency (PostgreSQL) -----------------------------------------------------------------

def _race(calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        barrier.wait(timeout=30)
        try:
            results[i] = call()
        except BaseException as exc:  # noqa: BLE001 - reported below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()
    assert not [r for r in results if isinstance(r, BaseException)], results
    return results


postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (SQLite serialises writers)")


@postgres_only
def test_concurrent_submits_of_one_person_open_one_application(app, member, estates):
    account = member()
    body = {"channel": "member", "real_name": "张三", "phone": "13912345678", "estate_ids": [estates[0]],
            "statement": ""}

    def submit():
        response = app.test_client().post(APPLY, json=body, headers=account.headers)
        return response.status_code, response.json.get("error", {}).get("code")

    results = _race([submit for _ in range(8)])
    assert sorted(results, key=str) == sorted([(201, None)] + [(409, "application_open")] * 7, key=str)
    assert count(app, Application) == 1


@postgres_only
def test_two_admins_deciding_one_application_at_once_one_wins(app, make_admin, member, apply):
    admins = [make_admin(), make_admin()]
    for actions in (("approve", "approve"), ("approve", "reject")):
        account = member()
        application_id = apply(account).json["id"]

        def decide(admin, action):
            def call():
                response = app.test_client().post(f"{QUEUE}/{application_id}/{action}", headers=admin.headers,
                                                  json={"reason": "不符合"} if action == "reject" else None)
                return response.status_code, response.json.get("error", {}).get("code")
            return call

        results = _race([decide(admin, action) for admin, action in zip(admins, actions)])
        assert sorted(results, key=str) == sorted([(200, None), (409, "already_decided")], key=str)
        with app.app_context():
            status = db.session.get(Application, application_id).status
            ambassadors = db.session.scalar(sa.select(sa.func.count()).select_from(Ambassador).where(
                Ambassador.user_id == account.user_id))
            joins = db.session.scalar(sa.select(sa.func.count()).select_from(LevelChange).where(
                LevelChange.user_id == account.user_id))
        assert ambassadors == joins == (1 if status == "approved" else 0)
