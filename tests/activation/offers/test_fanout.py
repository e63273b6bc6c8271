"""Publishing tells the matching estates' residents, estate by estate in id order, 09:00–20:00
Asia/Shanghai only: a subscribe message ("offer") where they hold quota, the inbox otherwise;
muted categories skipped; each resident once; each batch committed with the cursor, so a crash
resumes and a repeat tells nobody twice."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.activation.offers.conftest import iso, now, tomorrow_at

TEMPLATE = "tmpl_offer_notice"


@pytest.fixture
def notify(app):
    def run(when, per_batch: int = 50, commit: bool = True) -> dict:
        from activation.offers import services
        from core.extensions import db
        with app.app_context():
            counts = services.notify_batch(when, per_batch)
            db.session.commit() if commit else db.session.rollback()
            return counts
    return run


def inbox(client, account) -> list[dict]:
    return client.get("/api/v1/me/notifications", headers=account.headers).json["items"]


def outbox(app) -> list[dict]:
    from core.extensions import db
    from core.notifications.models import OutboxMessage
    with app.app_context():
        return [{"user_id": m.user_id, "template_id": m.template_id, "page": m.page, "data": m.data}
                for m in db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id))]


def offer_row(app, offer_id: int):
    from activation.offers.models import Offer
    from core.extensions import db
    with app.app_context():
        return db.session.get(Offer, offer_id)


def test_estate_by_estate_once_each_muted_skipped_one_channel(app, client, make_estate, coupon, live_offer,
                                                             resident_of, notify):
    a, b, outside = make_estate(name="翠竹苑"), make_estate(name="碧海湾"), make_estate(name="别处")
    subscriber, muted, in_both, neighbour, stranger = (resident_of(a), resident_of(a), resident_of(a, b),
                                                       resident_of(b), resident_of(outside))
    r = client.post("/api/v1/me/subscriptions", headers=subscriber.headers, json={"template_ids": [TEMPLATE]})
    assert r.status_code == 200 and r.json["quotas"][TEMPLATE] == 1
    assert client.put("/api/v1/me/offer-mutes", headers=muted.headers, json={"muted": ["coupon"]}).status_code == 200
    offer = live_offer("coupon", coupon(name="空调清洗券"), {"estate_ids": [a, b]}, summary="立减20元")
    assert offer["notify_state"] == "pending"

    assert notify(tomorrow_at(20, 0))["outside_window"] == 1  # 20:00 is past the window
    assert notify(tomorrow_at(8, 59))["outside_window"] == 1
    first = notify(tomorrow_at(10), per_batch=1)
    assert (first["offer_id"], first["estates"], first["residents"], first["subscribe"], first["inbox"]) == (
        offer["id"], 1, 2, 1, 1)
    assert offer_row(app, offer["id"]).notify_cursor == a
    second = notify(tomorrow_at(10), per_batch=1)
    assert (second["estates"], second["residents"]) == (1, 1)  # in_both was told at estate a
    done = notify(tomorrow_at(10), per_batch=1)
    assert done["residents"] == 0 and offer_row(app, offer["id"]).notify_state == "done"
    assert notify(tomorrow_at(10))["offer_id"] is None  # nothing left
    stored = offer_row(app, offer["id"])
    assert (stored.notified, stored.notify_cursor) == (3, b)

    assert inbox(client, subscriber) == []  # the subscribe message instead
    [message] = outbox(app)
    assert (message["user_id"], message["template_id"]) == (subscriber.user_id, TEMPLATE)
    assert message["page"] == f"pages/estate/index?id={a}&tab=offers"
    assert message["data"]["thing1"] == "空调清洗券" and message["data"]["thing4"] == "翠竹苑专享"
    assert message["data"]["thing2"].startswith("优惠券·立减20元")
    [notice] = inbox(client, in_both)
    assert notice["title"] == "翠竹苑有新的优惠券：空调清洗券" and notice["page"] == f"pages/estate/index?id={a}&tab=offers"
    assert notice["body"].startswith("立减20元。") and notice["body"].endswith("前有效，点击查看。")
    assert [n["title"] for n in inbox(client, neighbour)] == ["碧海湾有新的优惠券：空调清洗券"]
    assert inbox(client, muted) == [] and inbox(client, stranger) == []


def test_a_crash_mid_batch_resumes_and_nobody_is_told_twice(app, client, make_estate, coupon, live_offer, resident_of,
                                                              notify):
    estates = [make_estate() for _ in range(3)]
    people = [resident_of(e) for e in estates]
    offer = live_offer("coupon", coupon())
    notify(tomorrow_at(11), per_batch=1)
    crashed = notify(tomorrow_at(11), per_batch=1, commit=False)  # the process died before committing
    assert crashed["residents"] == 1
    assert offer_row(app, offer["id"]).notify_cursor == estates[0]
    notify(tomorrow_at(11), per_batch=1)
    notify(tomorrow_at(11), per_batch=1)
    notify(tomorrow_at(11), per_batch=1)
    assert [len(inbox(client, p)) for p in people] == [1, 1, 1]
    assert offer_row(app, offer["id"]).notified == 3


def test_not_before_the_offer_starts_and_not_after_withdrawal(app, client, admin, make_estate, coupon, live_offer,
                                                              resident_of, notify):
    e = make_estate()
    someone = resident_of(e)
    later = live_offer("coupon", coupon(), starts_at=iso(now() + timedelta(days=3)))
    assert later["state"] == "scheduled"
    assert notify(tomorrow_at(10))["offer_id"] is None
    withdrawn = live_offer("coupon", coupon())
    client.post(f"/api/v1/admin/offers/{withdrawn['id']}/withdraw", headers=admin.headers)
    assert notify(tomorrow_at(10))["offer_id"] is None
    assert inbox(client, someone) == []


def test_the_job_runs_the_batches_inside_the_window(app, client, make_estate, coupon, live_offer, resident_of,
                                                   monkeypatch):
    from activation.offers import jobs, services
    from core.scheduler import run_job
    estates = [make_estate() for _ in range(3)]
    people = [resident_of(e) for e in estates]
    offer = live_offer("coupon", coupon())
    job = next(j for j in jobs.JOBS if j.name == "notify-offers")
    assert job.trigger_args == {"hour": "9-19", "minute": "*/10", "timezone": "Asia/Shanghai"}
    monkeypatch.setattr(services, "utcnow", lambda: tomorrow_at(21).astimezone(tz=None))
    assert run_job(app, job)["residents"] == 0
    monkeypatch.setattr(services, "utcnow", lambda: tomorrow_at(15).astimezone(tz=None))
    monkeypatch.setattr(services, "NOTIFY_ESTATES", 2)
    totals = run_job(app, job)
    assert (totals["batches"], totals["estates"], totals["residents"], totals["inbox"]) == (3, 3, 3, 3)
    assert all(len(inbox(client, p)) == 1 for p in people)
    assert run_job(app, job)["residents"] == 0
    assert offer_row(app, offer["id"]).notify_state == "done"
