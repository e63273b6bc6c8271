"""Customer health: each signal and its points, the bands, previous score and trend, customers who
lose their steward, alerts when a customer turns red (once, to the steward and the agents on
duty), the full rebuild equal to per-customer recomputes, the daily job, and the day of last use."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from community.book import services
from community.book.models import CustomerHealth, HealthAlert
from community.stewards.models import StewardBinding, Visit
from core.accounts.models import User
from core.extensions import db
from core.formatting import BUSINESS_TZ
from core.notifications.models import Notification, SubscriptionQuota
from tests.community.book.conftest import care_item, complain, health, recompute, review, served, set_user

TODAY = datetime.now(BUSINESS_TZ).date()
NOW = datetime.now(timezone.utc)


def age(app, resident_id, days):
    """Make the customer's binding, visits and account `days` old (and their last use of the app)."""
    past = NOW - timedelta(days=days)
    with app.app_context():
        db.session.execute(sa.update(StewardBinding).where(StewardBinding.resident_id == resident_id)
                           .values(started_at=past))
        db.session.execute(sa.update(Visit).where(Visit.resident_id == resident_id).values(created_at=past))
        db.session.execute(sa.update(User).where(User.id == resident_id).values(
            created_at=past, last_active_on=(past.astimezone(BUSINESS_TZ)).date()))
        db.session.commit()


def test_a_new_customer_is_green_at_100(app, customer):
    assert recompute(app) == {"scored": 1, "removed": 0, "alerts": 0}
    h = health(app, customer.user_id)
    assert h["score"] == 100 and h["band"] == "green" and h["previous_score"] is None
    assert h["signals"] == {"contact": 0, "overdue_care": 0, "open_complaints": 0, "low_ratings": 0, "inactive": 0,
                            "unsubscribed": 0}


@pytest.mark.parametrize("days,contact,inactive", [(59, 0, 0), (61, 10, 0), (89, 10, 0), (91, 10, 10), (121, 20, 10),
                                                   (179, 20, 10), (181, 30, 20), (364, 30, 20), (366, 40, 20)])
def test_days_since_the_last_contact_and_the_last_use_of_the_app(app, customer, days, contact, inactive):
    age(app, customer.user_id, days)
    recompute(app)
    h = health(app, customer.user_id)
    assert (h["signals"]["contact"], h["signals"]["inactive"]) == (contact, inactive)
    assert h["score"] == 100 - contact - inactive


def test_a_completed_order_or_a_visit_is_a_contact(app, client, make_customer, steward, estate, customer):
    age(app, customer.user_id, 200)
    recompute(app)
    assert health(app, customer.user_id)["signals"]["contact"] == 30
    served(client, customer, steward, estate)
    recompute(app)
    assert health(app, customer.user_id)["signals"]["contact"] == 0
    other = make_customer(steward, estate)
    age(app, other.user_id, 200)
    with app.app_context():  # a fresh visit (a scan of the code): contact again
        db.session.execute(sa.update(Visit).where(Visit.resident_id == other.user_id).values(created_at=NOW))
        db.session.commit()
    recompute(app)
    assert health(app, other.user_id)["signals"]["contact"] == 0


def test_overdue_care_open_complaints_low_ratings_and_spent_subscriptions(app, client, agent, steward, estate, customer):
    yesterday, tomorrow = TODAY - timedelta(days=1), TODAY + timedelta(days=1)
    care_item(app, customer.user_id, estate, due_on=yesterday)
    care_item(app, customer.user_id, estate, due_on=tomorrow)  # not due yet
    care_item(app, customer.user_id, estate, due_on=yesterday, status="snoozed")  # the steward put it off
    recompute(app)
    assert health(app, customer.user_id)["signals"]["overdue_care"] == 1
    assert health(app, customer.user_id)["score"] == 90
    for _ in range(3):
        care_item(app, customer.user_id, estate, due_on=yesterday)
    recompute(app)
    assert health(app, customer.user_id)["score"] == 70  # capped at 30

    first, second = served(client, customer, steward, estate), served(client, customer, steward, estate)
    review(client, customer, first["id"], 2)
    review(client, customer, second["id"], 3)  # three stars is not a low rating
    complaint = complain(client, customer, first["id"])
    recompute(app)
    h = health(app, customer.user_id)
    assert (h["signals"]["low_ratings"], h["signals"]["open_complaints"]) == (1, 1)
    assert h["score"] == 100 - 30 - 15 - 35 == 20 and h["band"] == "red"
    resolved = client.post(f"/api/v1/admin/complaints/{complaint['id']}/resolve", headers=agent.headers,
                           json={"resolution": "已致电道歉并补偿"})
    assert resolved.status_code == 200, resolved.json
    recompute(app)
    assert health(app, customer.user_id)["score"] == 55
    # a low rating older than 180 days no longer counts
    recompute(app, today=TODAY + timedelta(days=181))
    assert health(app, customer.user_id)["signals"]["low_ratings"] == 0

    with app.app_context():
        db.session.add(SubscriptionQuota(user_id=customer.user_id, template_id="tpl-order", remaining=0))
        db.session.commit()
    recompute(app)
    assert health(app, customer.user_id)["signals"]["unsubscribed"] == 1
    with app.app_context():
        db.session.add(SubscriptionQuota(user_id=customer.user_id, template_id="tpl-visit", remaining=1))
        db.session.commit()
    recompute(app)
    assert health(app, customer.user_id)["signals"]["unsubscribed"] == 0


def test_a_low_rating_at_a_visit_counts(app, make_customer, steward, estate):
    rated = make_customer(steward, estate, rating=1)
    recompute(app)
    assert health(app, rated.user_id)["signals"]["low_ratings"] == 1


def test_bands_and_the_formula_agree(app):
    assert [services.band_of(s) for s in (100, 70, 69, 40, 39, 0)] == ["green", "green", "yellow", "yellow", "red",
                                                                       "red"]
    assert services.score_of({"contact": 40, "overdue_care": 5, "open_complaints": 3, "low_ratings": 9,
                              "inactive": 20, "unsubscribed": 1}) == 0


def test_previous_score_and_trend_move_only_when_the_score_changes(app, client, steward, estate, customer):
    recompute(app)
    complain(client, customer, served(client, customer, steward, estate)["id"])
    recompute(app)
    h = health(app, customer.user_id)
    assert (h["score"], h["band"], h["previous_score"], h["previous_band"]) == (65, "yellow", 100, "green")
    recompute(app)  # nothing changed: the trend stays
    assert health(app, customer.user_id)["previous_score"] == 100
    detail = client.get(f"/api/v1/engineer/customers/{customer.user_id}", headers=steward.headers).json
    assert detail["health"]["trend"] == -35 and detail["health"]["band_label"] == "黄色"
    assert detail["health"]["reasons"] == [{"signal": "open_complaints", "points": 35, "text": "1 个投诉未处理"}]


def test_a_customer_without_a_steward_has_no_score_and_their_alert_closes(app, client, admin, steward, estate, customer):
    first, second = served(client, customer, steward, estate), served(client, customer, steward, estate)
    complain(client, customer, first["id"])
    complain(client, customer, second["id"])
    assert recompute(app)["alerts"] == 1
    assert client.post(f"/api/v1/admin/engineers/{steward.engineer_id}/deactivate", headers=admin.headers,
                       json={}).status_code == 200
    assert recompute(app) == {"scored": 0, "removed": 1, "alerts": 0}
    assert health(app, customer.user_id) is None
    with app.app_context():
        alert = db.session.scalars(sa.select(HealthAlert)).one()
        assert alert.status == "handled" and alert.handled_by_id is None and "自动关闭" in alert.handled_note


def notices(app, user_id):
    with app.app_context():
        return [n.body for n in db.session.scalars(sa.select(Notification).where(
            Notification.user_id == user_id, Notification.kind == "health_alert").order_by(Notification.id))]


def test_turning_red_raises_one_alert_for_the_steward_and_the_agents_on_duty(
        app, client, admin, make_admin, make_customer, make_estate, make_engineer, steward, estate, customer):
    on_duty, elsewhere, idle = make_admin(roles={"agent"}), make_admin(roles={"agent"}), make_admin(roles={"agent"})
    for who, city, district in ((on_duty, "深圳市", "南山区"), (elsewhere, "深圳市", "福田区")):
        assert client.post("/api/v1/admin/agent-duties", headers=admin.headers,
                           json={"user_id": who.user_id, "city": city, "district": district}).status_code == 201
    recompute(app)
    assert health(app, customer.user_id)["band"] == "green"
    first, second = served(client, customer, steward, estate), served(client, customer, steward, estate)
    complain(client, customer, first["id"])
    complain(client, customer, second["id"])
    assert recompute(app)["alerts"] == 1
    assert notices(app, steward.user_id) == [f"您的客户 住户 #{customer.user_id} 健康分降至 30 分（红色），请尽快联系。"]
    assert len(notices(app, on_duty.user_id)) == 1 and "王建国" in notices(app, on_duty.user_id)[0]
    assert notices(app, elsewhere.user_id) == [] and notices(app, idle.user_id) == []
    # still red tomorrow: no second alert, no second notice
    assert recompute(app)["alerts"] == 0
    assert recompute(app, resident_id=customer.user_id) is not None
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(HealthAlert)) == 1
    alerts = client.get("/api/v1/engineer/health-alerts", headers=steward.headers).json["items"]
    assert [a["resident_id"] for a in alerts] == [customer.user_id] and alerts[0]["score"] == 30
    assert [r["signal"] for r in alerts[0]["reasons"]] == ["open_complaints"]
    handled = client.post(f"/api/v1/engineer/health-alerts/{alerts[0]['id']}/handle", headers=steward.headers,
                          json={"note": "已上门致歉，约了复查"})
    assert handled.status_code == 200 and handled.json["status"] == "handled"
    assert handled.json["handled_by_name"] == "王建国"
    again = client.post(f"/api/v1/engineer/health-alerts/{alerts[0]['id']}/handle", headers=steward.headers,
                        json={"note": "再次处理"})
    assert again.status_code == 409 and again.json["error"]["code"] == "alert_already_handled"
    assert client.get("/api/v1/engineer/health-alerts", headers=steward.headers).json["items"] == []
    # handled and still red: nothing new; back to yellow and red again: a new alert
    assert recompute(app)["alerts"] == 0
    with app.app_context():
        db.session.execute(sa.text("UPDATE service_complaints SET status = 'resolved'"))
        db.session.commit()
    recompute(app)
    assert health(app, customer.user_id)["band"] == "green"
    with app.app_context():
        db.session.execute(sa.text("UPDATE service_complaints SET status = 'open'"))
        db.session.commit()
    assert recompute(app)["alerts"] == 1
    # nobody on duty in another city: every active agent hears of it
    far = make_estate(city="广州市", district="天河区")
    far_steward = make_engineer([far])
    far_customer = make_customer(far_steward, far)
    one, two = served(client, far_customer, far_steward, far), served(client, far_customer, far_steward, far)
    complain(client, far_customer, one["id"])
    complain(client, far_customer, two["id"])
    before = {who.user_id: len(notices(app, who.user_id)) for who in (on_duty, elsewhere, idle)}
    recompute(app, resident_id=far_customer.user_id)
    assert health(app, far_customer.user_id)["band"] == "red"
    assert all(len(notices(app, uid)) == n + 1 for uid, n in before.items())


def test_one_notice_per_steward_per_run(app, client, make_customer, steward, estate):
    customers = [make_customer(steward, estate) for _ in range(4)]
    for c in customers:
        first, second = served(client, c, steward, estate), served(client, c, steward, estate)
        complain(client, c, first["id"])
        complain(client, c, second["id"])
    assert recompute(app)["alerts"] == 4
    [body] = notices(app, steward.user_id)
    assert body.startswith("4 位客户健康分转为红色：") and body.endswith("等，请在工作台查看。")


def snapshot(app):
    with app.app_context():
        return {h.resident_id: (h.score, h.band, h.engineer_id, h.estate_id, dict(h.signals))
                for h in db.session.scalars(sa.select(CustomerHealth))}


def test_the_full_rebuild_equals_the_per_customer_recomputes(app, client, admin, make_customer, make_engineer,
                                                             make_estate, steward, estate, customer):
    """A mixed dataset: every signal, two engineers, two estates, a handover, a customer who lost
    their steward, a subscription spent."""
    other_estate = make_estate(city="深圳市", district="福田区")
    second = make_engineer([estate, other_estate])
    mixed = [customer] + [make_customer(steward, estate) for _ in range(3)] + \
        [make_customer(second, other_estate) for _ in range(3)]
    order = served(client, mixed[1], steward, estate)
    review(client, mixed[1], order["id"], 1)
    complain(client, mixed[2], served(client, mixed[2], steward, estate)["id"])
    care_item(app, mixed[3].user_id, estate, due_on=TODAY - timedelta(days=3))
    care_item(app, mixed[4].user_id, other_estate, due_on=TODAY - timedelta(days=40))
    age(app, mixed[5].user_id, 150)
    age(app, mixed[6].user_id, 400)
    set_user(app, mixed[0].user_id, last_active_on=None)
    with app.app_context():
        db.session.add(SubscriptionQuota(user_id=mixed[5].user_id, template_id="tpl-order", remaining=0))
        db.session.commit()
    client.post(f"/api/v1/admin/engineers/{second.engineer_id}/reassign", headers=admin.headers,
                json={"to_engineer_id": steward.engineer_id, "estate_id": other_estate})
    left = make_engineer([estate])
    gone = make_customer(left, estate)
    recompute(app)
    client.post(f"/api/v1/admin/engineers/{left.engineer_id}/deactivate", headers=admin.headers, json={})

    result = recompute(app, today=TODAY + timedelta(days=20))
    assert result["removed"] == 1
    full = snapshot(app)
    assert set(full) == {c.user_id for c in mixed} and gone.user_id not in full
    assert len({v[0] for v in full.values()}) >= 5  # the dataset is mixed indeed
    assert all(v[0] == services.score_of(v[4]) and v[1] == services.band_of(v[0]) for v in full.values())
    with app.app_context():
        db.session.execute(sa.delete(CustomerHealth))
        db.session.commit()
    for c in mixed + [gone]:
        recompute(app, today=TODAY + timedelta(days=20), resident_id=c.user_id)
    assert snapshot(app) == full


def test_the_daily_job(app, customer):
    result = app.test_cli_runner().invoke(args=["jobs", "run-once", "recompute-customer-health"])
    assert result.exit_code == 0, result.output
    assert "'scored': 1" in result.output
    assert health(app, customer.user_id)["score"] == 100


def test_the_app_notes_the_day_of_last_use_once_a_day(app, client, customer):
    from tests.community.stats.test_ranking_and_history import count_statements

    set_user(app, customer.user_id, last_active_on=TODAY - timedelta(days=3))
    assert client.get("/api/v1/me", headers=customer.headers).status_code == 200
    with app.app_context():
        assert db.session.get(User, customer.user_id).last_active_on == TODAY
    with count_statements(app) as statements:
        assert client.get("/api/v1/me", headers=customer.headers).status_code == 200
    assert not any(s.lstrip().upper().startswith("UPDATE USERS") for s in statements), statements
    # a failed write rolls the day back with it; the next request notes it again
    set_user(app, customer.user_id, last_active_on=None)
    assert client.post("/api/v1/service-requests", headers=customer.headers, json={}).status_code == 422
    client.get("/api/v1/me", headers=customer.headers)
    with app.app_context():
        assert db.session.get(User, customer.user_id).last_active_on == TODAY
