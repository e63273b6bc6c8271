"""Visit announcements, subscribe-message quota, the in-app inbox, the outbox sender and its error
policy, and follow-on bookings, through the API and the fake WeChat server."""
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from core.formatting import BUSINESS_TZ
from tests.concurrency import http_race
from tests.conftest import ON_POSTGRES

TEMPLATE = "tmpl_visit_notice"


def err(response):
    return response.json["error"]["code"]


def tomorrow() -> str:
    return (datetime.now(BUSINESS_TZ).date() + timedelta(days=1)).isoformat()


@pytest.fixture
def estate(make_estate):
    return make_estate(name="阳光花园")


@pytest.fixture
def make_resident(client, login, wechat, estate):
    def make(quota: int = 0, wechat_quota: int | None = None):
        account = login()
        client.post("/api/v1/me/estates", headers=account.headers, json={"estate_id": estate})
        for _ in range(quota):
            r = client.post("/api/v1/me/subscriptions", headers=account.headers, json={"template_ids": [TEMPLATE]})
            assert r.status_code == 200, r.json
        granted = quota if wechat_quota is None else wechat_quota
        if granted:
            wechat.control("POST", "subscriptions", json={"openid": account.openid, "template_id": TEMPLATE,
                                                          "count": granted})
        return account
    return make


def announce(client, engineer, estate, slots=("09:00-10:00", "10:00-11:00"), day=None):
    return client.post("/api/v1/engineer/visits", headers=engineer.headers,
                       json={"estate_id": estate, "date": day or tomorrow(), "slots": list(slots)})


def send(app, now=None, limit=None):
    from core.notifications import services
    with app.app_context():
        return services.send_due(limit=limit, now=now)


def outbox(app):
    from core.extensions import db
    from core.notifications.models import OutboxMessage
    with app.app_context():
        return {m.user_id: (m.status, m.attempts) for m in db.session.scalars(sa.select(OutboxMessage))}


def messages(wechat):
    return wechat.control("GET", "messages")["messages"]


def test_the_client_learns_the_template_of_each_purpose(client, app):
    templates = client.get("/api/v1/subscriptions/templates").json["templates"]
    assert templates["visit"] == app.config["WECHAT_TEMPLATE_VISIT"] == TEMPLATE
    assert templates["order"] == app.config["WECHAT_TEMPLATE_ORDER"]


def test_subscriptions_count_acceptances(client, login):
    account = login()
    r = client.post("/api/v1/me/subscriptions", headers=account.headers, json={"template_ids": [TEMPLATE, TEMPLATE]})
    assert r.status_code == 200 and r.json["quotas"] == {TEMPLATE: 2}
    r = client.post("/api/v1/me/subscriptions", headers=account.headers, json={"template_ids": ["tmpl_bogus"]})
    assert r.status_code == 422
    assert client.get("/api/v1/me/subscriptions", headers=account.headers).json["quotas"] == {TEMPLATE: 2}


def test_announcement_notifies_every_resident_inbox_always_wechat_with_quota(app, client, wechat, estate,
                                                                            make_resident, make_engineer):
    subscribed, unsubscribed = make_resident(quota=1), make_resident()
    engineer = make_engineer([estate], name="王建国")
    r = announce(client, engineer, estate)
    assert r.status_code == 201, r.json
    assert (r.json["notified"], r.json["wechat"]) == (2, 1)
    for who in (subscribed, unsubscribed):
        inbox = client.get("/api/v1/me/notifications", headers=who.headers).json
        assert inbox["unread_count"] == 1 and "王建国师傅" in inbox["items"][0]["title"]
    assert client.get("/api/v1/me/notifications", headers=subscribed.headers).json["items"][0]["wechat"] is True
    assert client.get("/api/v1/me/subscriptions", headers=subscribed.headers).json["quotas"] == {TEMPLATE: 0}
    assert messages(wechat) == []  # nothing is sent inside the announcement's transaction
    assert send(app)["sent"] == 1
    sent = messages(wechat)
    assert [m["touser"] for m in sent] == [subscribed.openid]
    assert sent[0]["data"]["thing1"]["value"] == "阳光花园上门服务" and sent[0]["data"]["thing3"]["value"] == "王建国师傅"
    assert send(app)["claimed"] == 0  # exactly once
    # marking read
    r = client.post("/api/v1/me/notifications/read", headers=unsubscribed.headers, json={})
    assert r.json == {"updated": 1, "unread_count": 0}
    assert client.get("/api/v1/me/notifications?unread=true", headers=unsubscribed.headers).json["items"] == []


def test_announcement_rules(client, estate, make_estate, make_engineer, make_resident):
    engineer = make_engineer([estate])
    assert announce(client, make_engineer([make_estate()]), estate).status_code == 403
    r = announce(client, engineer, estate, slots=("10:00-09:00",))
    assert r.status_code == 422
    assert announce(client, engineer, estate, slots=("09:00-10:30", "10:00-11:00")).status_code == 422
    assert announce(client, engineer, estate, day="2020-01-01").status_code == 422
    assert announce(client, engineer, estate, slots=()).status_code == 422
    assert announce(client, engineer, estate).status_code == 201
    again = announce(client, engineer, estate)
    assert again.status_code == 409 and err(again) == "already_announced"
    assert announce(client, make_resident(), estate).status_code == 403


def test_thing_values_are_cut_to_wechat_limits(app):
    from core.notifications.services import fit
    with app.app_context():
        assert fit("thing1", "一二三四五六七八九十一二三四五六七八九十一二") == "一二三四五六七八九十一二三四五六七八九…"
        assert len(fit("thing1", "x" * 50)) == 20
        assert fit("thing3", "第一行\n第二行") == "第一行 第二行"
        assert fit("phrase3", "已完成ok") == "已完成"
        assert fit("character_string1", "No. 12-34 号") == "No.12-34"
        assert fit("thing1", "") == "—"


def test_booking_a_slot_makes_a_scheduled_order_and_a_taken_slot_is_refused(client, estate, make_engineer,
                                                                         make_resident, login):
    engineer = make_engineer([estate])
    announce(client, engineer, estate)
    first, second = make_resident(), make_resident()
    visits = client.get(f"/api/v1/estates/{estate}/visits", headers=first.headers).json["items"]
    slot = visits[0]["slots"][0]
    assert slot["available"] is True and visits[0]["engineer"]["id"] == engineer.engineer_id
    r = client.post(f"/api/v1/visit-slots/{slot['id']}/book", headers=first.headers,
                    json={"service_type": "maintenance", "description": "空调保养"})
    assert r.status_code == 201, r.json
    assert (r.json["status"], r.json["engineer_id"], r.json["source"]) == ("scheduled", engineer.engineer_id, "booking")
    assert r.json["scheduled_for"] == slot["starts_at"]
    taken = client.post(f"/api/v1/visit-slots/{slot['id']}/book", headers=second.headers,
                        json={"service_type": "repair"})
    assert taken.status_code == 409 and err(taken) == "slot_taken"
    outsider = login()
    assert client.post(f"/api/v1/visit-slots/{visits[0]['slots'][1]['id']}/book", headers=outsider.headers,
                       json={"service_type": "repair"}).status_code == 403
    after = client.get(f"/api/v1/estates/{estate}/visits", headers=first.headers).json["items"][0]["slots"]
    assert [(s["available"], s["mine"]) for s in after] == [(False, True), (True, False)]
    assert client.get("/api/v1/engineer/service-orders?status=scheduled",
                      headers=engineer.headers).json["items"][0]["id"] == r.json["id"]


@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (SQLite serialises writers)")
def test_concurrent_bookings_of_one_slot_exactly_one_wins(app, client, estate, make_engineer, make_resident):
    engineer = make_engineer([estate])
    announce(client, engineer, estate)
    residents = [make_resident() for _ in range(8)]
    slot = client.get(f"/api/v1/estates/{estate}/visits", headers=residents[0].headers).json["items"][0]["slots"][0]
    results = http_race(app, [lambda c, who=who: c.post(f"/api/v1/visit-slots/{slot['id']}/book", headers=who.headers,
                                                   json={"service_type": "repair"}) for who in residents])
    assert sorted(r.status_code for r in results) == [201] + [409] * 7
    orders = [o for who in residents
              for o in client.get("/api/v1/me/service-orders", headers=who.headers).json["items"]]
    assert len(orders) == 1


def test_no_quota_at_wechat_zeroes_ours_and_is_final(app, client, wechat, estate, make_engineer, make_resident):
    resident = make_resident(quota=2, wechat_quota=0)  # our count says 2, WeChat says none (43101)
    announce(client, make_engineer([estate]), estate)
    counts = send(app)
    assert (counts["sent"], counts["failed"]) == (0, 1)
    assert outbox(app)[resident.user_id] == ("failed", 0)
    assert client.get("/api/v1/me/subscriptions", headers=resident.headers).json["quotas"] == {TEMPLATE: 0}
    assert send(app)["claimed"] == 0


def test_rate_limit_pauses_the_template_until_the_next_shanghai_day(app, client, wechat, estate, make_engineer,
                                                                   make_resident):
    residents = [make_resident(quota=1) for _ in range(3)]
    announce(client, make_engineer([estate]), estate)
    wechat.fault("cgi-bin/message/subscribe/send", count=1, errcode=45009)
    counts = send(app)
    assert counts["sent"] == 0 and counts["paused"] == 3  # the first got 45009; the rest were not tried
    assert messages(wechat) == []
    assert send(app)["claimed"] == 0  # still paused
    midnight = datetime.combine(datetime.now(BUSINESS_TZ).date() + timedelta(days=1), datetime.min.time(),
                                tzinfo=BUSINESS_TZ)
    assert send(app, now=midnight + timedelta(minutes=1))["sent"] == 3
    assert sorted(m["touser"] for m in messages(wechat)) == sorted(r.openid for r in residents)


def test_busy_wechat_is_retried_with_backoff_up_to_five_attempts(app, client, wechat, estate, make_engineer,
                                                               make_resident):
    from core.db import utcnow

    resident = make_resident(quota=1)
    announce(client, make_engineer([estate]), estate)
    wechat.fault("cgi-bin/message/subscribe/send", count=2, status=503)
    assert send(app)["retry"] == 1
    assert outbox(app)[resident.user_id] == ("pending", 1)
    assert send(app)["claimed"] == 0  # not due yet: 30 s backoff
    now = utcnow()
    assert send(app, now=now + timedelta(seconds=31))["retry"] == 1
    assert send(app, now=now + timedelta(seconds=62))["claimed"] == 0  # 60 s after the second attempt
    assert send(app, now=now + timedelta(seconds=95))["sent"] == 1
    assert len(messages(wechat)) == 1
    # a message that never gets through fails after five attempts
    other = make_resident(quota=1)
    announce(client, make_engineer([estate]), estate)
    wechat.fault("cgi-bin/message/subscribe/send", count=5, errcode=-1)
    later = now + timedelta(hours=1)
    for attempt in range(5):
        send(app, now=later)
        later += timedelta(minutes=10)
    assert outbox(app)[other.user_id] == ("failed", 5)


def test_an_expired_token_is_refreshed_and_the_message_sent_once(app, client, wechat, estate, make_engineer,
                                                                make_resident):
    resident = make_resident(quota=1)
    announce(client, make_engineer([estate]), estate)
    wechat.fault("cgi-bin/message/subscribe/send", count=1, errcode=42001)
    assert send(app)["sent"] == 1
    assert [m["touser"] for m in messages(wechat)] == [resident.openid]


def test_a_sender_killed_mid_batch_loses_nothing_and_resends_only_what_was_in_flight(app, client, wechat, estate,
                                                                                   make_engineer, make_resident,
                                                                                   monkeypatch):
    from core.db import utcnow
    from core.notifications import services

    # WeChat would take a second message from each (it is WeChat's quota that a duplicate uses)
    residents = [make_resident(quota=1, wechat_quota=2) for _ in range(5)]
    announce(client, make_engineer([estate]), estate)
    real_record, recorded = services.record, []

    def crash_on_third(message_id, outcome, value, now):
        if len(recorded) == 2:
            raise SystemExit("sender killed")  # after WeChat accepted the third message, before recording it
        recorded.append(message_id)
        return real_record(message_id, outcome, value, now)

    monkeypatch.setattr(services, "record", crash_on_third)
    with pytest.raises(SystemExit):
        send(app)
    monkeypatch.setattr(services, "record", real_record)
    assert len(messages(wechat)) == 3
    statuses = sorted(status for status, _ in outbox(app).values())
    assert statuses == ["sending", "sending", "sending", "sent", "sent"]
    assert send(app)["claimed"] == 0  # the lease of the claimed rows has not run out
    counts = send(app, now=utcnow() + services.CLAIM_LEASE + timedelta(seconds=1))
    assert counts == {"claimed": 3, "sent": 3, "failed": 0, "retry": 0, "paused": 0, "unknown": 0}
    delivered = [m["touser"] for m in messages(wechat)]
    assert sorted(set(delivered)) == sorted(r.openid for r in residents)  # nothing lost
    duplicates = len(delivered) - len(set(delivered))
    assert duplicates == 1  # only the message in flight at the crash went out twice


def test_no_database_transaction_is_open_during_a_wechat_call(app, client, wechat, estate, make_engineer,
                                                            make_resident, monkeypatch):
    """Asked of the database itself: PostgreSQL's backends of this database (none may be "idle in
    transaction"), SQLite's connection (not in a transaction)."""
    from core.extensions import db
    from core.wechat import gateway

    for _ in range(3):
        make_resident(quota=1)
    announce(client, make_engineer([estate]), estate)
    real, open_during_call = gateway.send_subscribe_message, []

    def in_transaction() -> bool:
        if ON_POSTGRES:
            import psycopg
            url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            with psycopg.connect(url, autocommit=True) as probe:
                return probe.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                     "AND state LIKE 'idle in transaction%'").fetchone()[0] > 0
        connection = db.session().connection().connection.dbapi_connection
        return connection.in_transaction

    def watched(*args, **kwargs):
        open_during_call.append(in_transaction())
        return real(*args, **kwargs)

    with app.app_context():
        monkeypatch.setattr(gateway, "send_subscribe_message", watched)
        from core.notifications import services
        assert services.send_due()["sent"] == 3
    assert open_during_call == [False, False, False]


@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (FOR UPDATE SKIP LOCKED)")
def test_two_senders_at_once_never_send_a_message_twice(app, client, wechat, estate, make_engineer, make_resident):
    import threading

    residents = [make_resident(quota=1) for _ in range(20)]
    announce(client, make_engineer([estate]), estate)
    barrier, results = threading.Barrier(2), []

    def sender():
        barrier.wait()
        with app.app_context():
            from core.notifications import services
            results.append(services.send_due(limit=8))
            results.append(services.send_due(limit=8))

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    send(app)  # whatever is left
    delivered = [m["touser"] for m in messages(wechat)]
    assert sorted(delivered) == sorted(r.openid for r in residents)  # each exactly once
    assert sum(r["claimed"] for r in results) <= 20
