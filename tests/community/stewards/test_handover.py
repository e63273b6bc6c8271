"""Consented steward handover (docs/community.md, "Steward handover"): an admin's move or an
engineer's departure offers each customer the new steward, who may refuse within 24 hours; the
job completes the rest. Residents drop their steward or ask for another; staff decide requests."""
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from core.db import utcnow
from core.extensions import db
from tests.conftest import ON_POSTGRES, bearer, html, post_form


def complete_handovers(app, hours: float = 25) -> dict:
    """Run the completion service as the job would, `hours` from now (committed)."""
    from community.stewards import services
    with app.app_context():
        result = services.complete_due_handovers(utcnow() + timedelta(hours=hours))
        db.session.commit()
        return result


def stewards(client, who) -> list[dict]:
    response = client.get("/api/v1/me/stewards", headers=who.headers)
    assert response.status_code == 200, response.json
    return response.json["items"]


def history(client, admin, user_id) -> list[dict]:
    return client.get(f"/api/v1/admin/residents/{user_id}/stewards", headers=admin.headers).json["items"]


def reassign(client, admin, source, target, **extra):
    response = client.post(f"/api/v1/admin/engineers/{source.engineer_id}/reassign", headers=admin.headers,
                           json={"to_engineer_id": target.engineer_id, **extra})
    assert response.status_code == 200, response.json
    return response.json


def offered(client, resident) -> dict:
    """The handover on the resident's steward card."""
    [card] = stewards(client, resident)
    assert card["handover"] is not None, card
    return card["handover"]


@pytest.fixture
def scene(make_estate, make_engineer, mint_code, bind, login):
    """Engineer A with one customer (an Account) in an estate that engineer B covers too."""
    class Scene:
        pass
    s = Scene()
    s.estate = make_estate(name="翠竹苑")
    s.a, s.b = make_engineer([s.estate], name="王建国"), make_engineer([s.estate], name="李师傅")
    body = bind(mint_code(s.a, s.estate)["scene"], openid="oHandoverCustomer").json
    s.customer = type("Who", (), {"user_id": body["user"]["id"], "headers": bearer(body["token"])})()
    return s


def test_a_move_offers_the_new_steward_and_tells_the_customer(app, client, admin, scene):
    from core.notifications.models import Notification, OutboxMessage, SubscriptionQuota
    with app.app_context():
        db.session.add(SubscriptionQuota(user_id=scene.customer.user_id, template_id=app.config["WECHAT_TEMPLATE_STEWARD"],
                                         remaining=1))
        db.session.commit()
    assert reassign(client, admin, scene.a, scene.b)["moved"] == 1
    # nothing moved yet: the card still shows the old steward, with the offer and its deadline
    [card] = stewards(client, scene.customer)
    assert card["engineer"]["id"] == scene.a.engineer_id
    h = card["handover"]
    assert (h["kind"], h["status"], h["to_engineer"]["name"]) == ("reassign", "pending", "李师傅")
    assert timedelta(hours=23, minutes=59) < datetime.fromisoformat(h["due_at"]) - utcnow() <= timedelta(hours=24)
    with app.app_context():
        notice = db.session.scalars(sa.select(Notification).where(
            Notification.user_id == scene.customer.user_id, Notification.kind == "steward_handover")).one()
        assert "李师傅" in notice.body and "王建国" in notice.body and "拒绝" in notice.body
        message = db.session.scalars(sa.select(OutboxMessage).where(
            OutboxMessage.user_id == scene.customer.user_id)).one()
        assert message.template_id == app.config["WECHAT_TEMPLATE_STEWARD"]
        assert message.data["thing1"] == "新管家 李师傅" and message.data["thing2"] == "翠竹苑"
    mine = client.get("/api/v1/me/handovers", headers=scene.customer.headers).json["items"]
    assert [(x["id"], x["from_engineer"]["name"], x["estate"]["name"]) for x in mine] == [(h["id"], "王建国", "翠竹苑")]


def test_refusal_within_24_hours_keeps_the_working_steward_and_repeats_harmlessly(app, client, admin, scene):
    reassign(client, admin, scene.a, scene.b)
    h = offered(client, scene.customer)
    url = f"/api/v1/me/handovers/{h['id']}/refuse"
    first = client.post(url, headers=scene.customer.headers, json={"reason": "习惯王师傅"})
    assert first.status_code == 200 and first.json["status"] == "refused"
    assert first.json["refusal_reason"] == "习惯王师傅"
    again = client.post(url, headers=scene.customer.headers, json={})
    assert again.status_code == 200 and again.json == first.json
    # the job finds nothing to do; the old steward stays, and the card shows no offer
    assert complete_handovers(app)["completed"] == 0
    [card] = stewards(client, scene.customer)
    assert card["engineer"]["id"] == scene.a.engineer_id and card["handover"] is None
    assert [x["end_reason"] for x in history(client, admin, scene.customer.user_id)] == [None]
    accept = client.post(f"/api/v1/me/handovers/{h['id']}/accept", headers=scene.customer.headers)
    assert accept.status_code == 409 and accept.json["error"]["code"] == "handover_decided"
    # someone else's handover is not found
    other = client.post(url, headers=scene.a.headers, json={})
    assert other.status_code == 404 and other.json["error"]["code"] == "handover_not_found"


def test_without_an_answer_the_handover_completes_when_due_and_only_then(app, client, admin, scene):
    from community.stewards import services
    reassign(client, admin, scene.a, scene.b)
    assert complete_handovers(app, hours=23)["completed"] == 0
    assert stewards(client, scene.customer)[0]["engineer"]["id"] == scene.a.engineer_id
    assert complete_handovers(app, hours=24.01) == {"claimed": 1, "completed": 1, "cancelled": 0}
    assert complete_handovers(app, hours=48)["claimed"] == 0  # idempotent: nothing left
    [card] = stewards(client, scene.customer)
    assert card["engineer"]["id"] == scene.b.engineer_id and card["handover"] is None
    new, old = history(client, admin, scene.customer.user_id)
    assert (old["end_reason"], old["ended_by_id"], new["start_reason"]) == ("reassigned", admin.user_id, "reassigned")
    # too late to refuse now
    h = client.get("/api/v1/me/handovers", headers=scene.customer.headers).json["items"][0]
    assert h["status"] == "completed" and h["decided_at"]
    late = client.post(f"/api/v1/me/handovers/{h['id']}/refuse", headers=scene.customer.headers, json={})
    assert late.status_code == 409 and late.json["error"]["code"] == "handover_decided"
    with app.app_context():
        from core.audit import AuditEntry
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "steward.handover.complete")) == 1
        assert services.active_binding(scene.customer.user_id).engineer_id == scene.b.engineer_id


def test_a_refusal_after_the_window_is_refused_even_before_the_job_ran(app, client, admin, scene):
    from community.stewards import services
    from core.accounts.models import User
    from core.errors import Conflict
    reassign(client, admin, scene.a, scene.b)
    h = offered(client, scene.customer)
    with app.app_context():
        user = db.session.get(User, scene.customer.user_id)
        with pytest.raises(Conflict) as refused:
            services.refuse_handover(user, h["id"], now=utcnow() + timedelta(hours=25))
        assert refused.value.code == "handover_expired"


def test_accepting_takes_effect_at_once(client, admin, scene):
    reassign(client, admin, scene.a, scene.b)
    h = offered(client, scene.customer)
    url = f"/api/v1/me/handovers/{h['id']}/accept"
    assert client.post(url, headers=scene.customer.headers).json["status"] == "completed"
    assert client.post(url, headers=scene.customer.headers).status_code == 200  # repeated: the same
    assert stewards(client, scene.customer)[0]["engineer"]["id"] == scene.b.engineer_id


def test_refusing_the_successor_of_an_engineer_who_left_leaves_no_steward_until_the_next_scan(
        app, client, admin, scene, mint_code, bind):
    response = client.post(f"/api/v1/admin/engineers/{scene.a.engineer_id}/deactivate", headers=admin.headers,
                           json={"reassign_to": scene.b.engineer_id})
    assert response.status_code == 200 and response.json["moved"] == 1
    [card] = stewards(client, scene.customer)  # still bound to the engineer who left, until it decides
    assert card["engineer"]["status"] == "left" and card["handover"]["kind"] == "engineer_left"
    refused = client.post(f"/api/v1/me/handovers/{card['handover']['id']}/refuse", headers=scene.customer.headers)
    assert refused.status_code == 200 and refused.json["status"] == "refused"
    assert stewards(client, scene.customer) == []
    [ended] = history(client, admin, scene.customer.user_id)
    assert (ended["end_reason"], ended["ended_by_id"]) == ("refused", scene.customer.user_id)
    assert complete_handovers(app)["completed"] == 0
    again = bind(mint_code(scene.b, scene.estate)["scene"], openid="oHandoverCustomer")
    assert again.json["result"] == "created"


def test_a_scan_of_another_engineer_meanwhile_cancels_the_offer(app, client, admin, scene, make_engineer, mint_code,
                                                                 bind):
    client.post(f"/api/v1/admin/engineers/{scene.a.engineer_id}/deactivate", headers=admin.headers,
                json={"reassign_to": scene.b.engineer_id})
    third = make_engineer([scene.estate])
    assert bind(mint_code(third, scene.estate)["scene"], openid="oHandoverCustomer").json["result"] == "switched"
    assert complete_handovers(app)["completed"] == 0
    [card] = stewards(client, scene.customer)
    assert card["engineer"]["id"] == third.engineer_id and card["handover"] is None
    assert client.get("/api/v1/me/handovers", headers=scene.customer.headers).json["items"][0]["status"] == "cancelled"


def test_at_most_two_handovers_in_90_days(app, client, admin, scene):
    from community.estates.models import Engineer
    from community.stewards import services
    from core.accounts.models import User
    with app.app_context():
        actor, a, b = db.session.get(User, admin.user_id), db.session.get(Engineer, scene.a.engineer_id), \
            db.session.get(Engineer, scene.b.engineer_id)
        start = utcnow()
        for source, target, day in ((a, b, 0), (b, a, 2)):
            outcome = services.reassign_customers(source, target, actor, now=start + timedelta(days=day))
            assert outcome.moved == 1
            services.complete_due_handovers(start + timedelta(days=day + 1.1))
        third = services.reassign_customers(a, b, actor, now=start + timedelta(days=4))
        assert (third.moved, third.skipped) == (0, {"limit": 1, "pending": 0})
        # a refused handover does not count; after 90 days the first no longer counts either
        later = services.reassign_customers(a, b, actor, now=start + timedelta(days=91))
        assert later.moved == 1
        db.session.commit()
    response = client.post(f"/api/v1/admin/engineers/{scene.a.engineer_id}/reassign", headers=admin.headers,
                           json={"to_engineer_id": scene.b.engineer_id})
    assert response.json["skipped_reasons"] == {"limit": 0, "pending": 1} and response.json["skipped"] == 1


def test_a_resident_drops_their_steward_with_a_reason(app, client, admin, scene, login):
    [card] = stewards(client, scene.customer)
    url = f"/api/v1/me/stewards/{card['binding_id']}"
    missing = client.delete(url, headers=scene.customer.headers)
    assert missing.status_code == 422 and "reason" in missing.json["error"]["details"]["fields"]
    assert client.delete(url, headers=login().headers, query_string={"reason": "x"}).status_code == 404
    assert client.delete(url, headers=scene.customer.headers, json={"reason": "服务不及时"}).status_code == 204
    assert client.delete(url, headers=scene.customer.headers, query_string={"reason": "again"}).status_code == 204
    assert stewards(client, scene.customer) == []
    [ended] = history(client, admin, scene.customer.user_id)
    assert (ended["end_reason"], ended["ended_by_id"]) == ("dropped", scene.customer.user_id)
    with app.app_context():
        from core.audit import AuditEntry
        entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "steward.drop")).one()
        assert "服务不及时" in str(entry.after)


def test_a_change_request_is_approved_by_staff(app, client, admin, agent, scene, make_engineer, make_estate):
    url = "/api/v1/me/stewards/change-requests"
    h = scene.customer.headers
    elsewhere = make_engineer([make_estate()])
    assert client.post(url, headers=h, json={"engineer_id": elsewhere.engineer_id, "reason": "想换"}).json[
        "error"]["code"] == "estate_not_covered"
    assert client.post(url, headers=h, json={"engineer_id": scene.a.engineer_id, "reason": "想换"}).json[
        "error"]["code"] == "already_steward"
    assert client.post(url, headers=h, json={"engineer_id": scene.b.engineer_id}).status_code == 422
    created = client.post(url, headers=h, json={"engineer_id": scene.b.engineer_id, "reason": "李师傅住得近"})
    assert created.status_code == 201 and (created.json["kind"], created.json["status"]) == ("request", "pending")
    repeated = client.post(url, headers=h, json={"engineer_id": scene.b.engineer_id, "reason": "李师傅住得近"})
    assert repeated.json["id"] == created.json["id"]
    # a request is no offer on the card, and an admin's move skips the customer meanwhile
    assert stewards(client, scene.customer)[0]["handover"] is None
    assert reassign(client, admin, scene.a, scene.b)["skipped_reasons"]["pending"] == 1
    # the queue: the agent sees it and approves
    queue = client.get("/api/v1/admin/handovers", headers=agent.headers,
                       query_string={"status": "pending", "kind": "request"}).json["items"]
    assert [x["id"] for x in queue] == [created.json["id"]]
    approved = client.post(f"/api/v1/admin/handovers/{created.json['id']}/approve", headers=agent.headers)
    assert approved.status_code == 200 and approved.json["status"] == "completed"
    assert approved.json["decided_by_id"] == agent.user_id
    assert client.post(f"/api/v1/admin/handovers/{created.json['id']}/approve", headers=agent.headers).status_code == 200
    assert stewards(client, scene.customer)[0]["engineer"]["id"] == scene.b.engineer_id
    new, old = history(client, admin, scene.customer.user_id)
    assert (old["end_reason"], new["start_reason"]) == ("changed", "requested")
    # the resident's own request does not count against the 2-in-90-days limit
    assert reassign(client, admin, scene.b, scene.a)["moved"] == 1
    assert client.post(f"/api/v1/admin/handovers/{created.json['id']}/approve",
                       headers=scene.customer.headers).status_code == 403


def test_a_rejected_request_keeps_the_steward_and_the_dashboard_counts_the_queue(app, client, admin, scene):
    from core import signals
    from core.accounts.services import Principal
    created = client.post("/api/v1/me/stewards/change-requests", headers=scene.customer.headers,
                          json={"engineer_id": scene.b.engineer_id, "reason": "想换"}).json
    with app.test_request_context():
        queues = signals.collect(signals.work_waiting, who=Principal(id=admin.user_id, roles=frozenset({"admin"})))
        [mine] = [q for q in queues if q.label == "待确认的管家变更申请"]
        assert mine.count == 1 and mine.url.endswith("/admin/handovers?tab=request")
        assert not [q for q in signals.collect(signals.work_waiting, who=Principal(id=1, roles=frozenset({"resident"})))
                    if q.label == "待确认的管家变更申请"]
    url = f"/api/v1/admin/handovers/{created['id']}/reject"
    assert client.post(url, headers=admin.headers, json={}).status_code == 422
    rejected = client.post(url, headers=admin.headers, json={"reason": "李师傅本月满额"})
    assert rejected.json["status"] == "rejected" and rejected.json["refusal_reason"] == "李师傅本月满额"
    assert stewards(client, scene.customer)[0]["engineer"]["id"] == scene.a.engineer_id
    approve = client.post(f"/api/v1/admin/handovers/{created['id']}/approve", headers=admin.headers)
    assert approve.status_code == 409 and approve.json["error"]["code"] == "handover_decided"


def test_the_admin_list_filters_and_pages(client, admin, scene, make_engineer, mint_code, bind, login):
    for _ in range(2):
        bind(mint_code(scene.a, scene.estate)["scene"])
    reassign(client, admin, scene.a, scene.b)  # 3 pending
    h = client.get("/api/v1/me/handovers", headers=scene.customer.headers).json["items"][0]
    client.post(f"/api/v1/me/handovers/{h['id']}/refuse", headers=scene.customer.headers, json={})
    url = "/api/v1/admin/handovers"
    listed = lambda **q: client.get(url, headers=admin.headers, query_string=q)  # noqa: E731
    assert len(listed(status="pending").json["items"]) == 2
    assert [x["id"] for x in listed(status="refused").json["items"]] == [h["id"]]
    assert len(listed(engineer_id=scene.b.engineer_id).json["items"]) == 3
    assert listed(engineer_id=make_engineer([]).engineer_id).json["items"] == []
    first = listed(limit=2).json
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = listed(limit=2, cursor=first["next_cursor"]).json
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert listed(status="nonsense").status_code == 422
    assert client.get(url, headers=login().headers).status_code == 403


def test_the_console_queue_approves_and_the_engineer_page_links_to_it(app, client, console, scene):
    created = client.post("/api/v1/me/stewards/change-requests", headers=scene.customer.headers,
                          json={"engineer_id": scene.b.engineer_id, "reason": "想换近一点的师傅"}).json
    page = client.get("/admin/handovers")
    assert page.status_code == 200 and "想换近一点的师傅" in html(page) and "待审核申请" in html(page)
    engineer_page = html(client.get(f"/admin/engineers/{scene.a.engineer_id}"))
    assert f"/admin/handovers?tab=all&amp;engineer_id={scene.a.engineer_id}" in engineer_page
    done = post_form(client, "/admin/handovers", f"/admin/handovers/{created['id']}/approve", {"next": "/admin/handovers"})
    assert done.status_code == 302
    assert stewards(client, scene.customer)[0]["engineer"]["id"] == scene.b.engineer_id
    for tab in ("completed", "all", "pending"):
        assert client.get("/admin/handovers", query_string={"tab": tab}).status_code == 200
    assert "李师傅" in html(client.get("/admin/handovers", query_string={"tab": "completed"}))


def test_the_reassign_form_reports_the_offer(client, console, scene):
    url = f"/admin/engineers/{scene.a.engineer_id}"
    response = post_form(client, url, url + "/reassign", {"target": scene.b.employee_no, "estate_id": "",
                                                        "action": "reassign"}, follow_redirects=True)
    assert "已向 1 位客户发出管家变更通知，24 小时内未拒绝即生效" in html(response)


@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (SQLite serialises writers)")
def test_two_completion_runs_at_once_complete_each_handover_once(app, client, admin, make_estate, make_engineer,
                                                                  mint_code, bind):
    from community.stewards import services
    from community.stewards.models import StewardBinding, StewardHandover
    from tests.concurrency import in_own_context, race
    estate = make_estate()
    a, b = make_engineer([estate]), make_engineer([estate])
    for _ in range(3):
        code = mint_code(a, estate)["scene"]
        for _ in range(10):
            bind(code)
    assert reassign(client, admin, a, b)["moved"] == 30
    due = utcnow() + timedelta(hours=25)
    results = race([in_own_context(app, lambda: services.complete_due_handovers(due, batch=10)) for _ in range(4)])
    completed = [value["completed"] for kind, value in results]
    assert all(kind == "ok" for kind, _ in results)
    assert sum(completed) <= 30 and len([c for c in completed if c]) >= 2  # they shared the rows
    assert complete_handovers(app)["completed"] == 30 - sum(completed)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StewardHandover).where(
            StewardHandover.status == "completed")) == 30
        active = db.session.execute(sa.select(StewardBinding.engineer_id, sa.func.count()).where(
            StewardBinding.ended_at.is_(None)).group_by(StewardBinding.engineer_id)).all()
        assert active == [(b.engineer_id, 30)]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StewardBinding)) == 60
