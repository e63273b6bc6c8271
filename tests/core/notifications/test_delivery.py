"""Subscribe messages WeChat may have delivered are never sent again: no answer to a sent request
(a timeout), and 43101 on a message reclaimed after a crash. A connection that never opened is
retried."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.db import utcnow

TEMPLATE = "tmpl_visit_notice"
DATA = {"thing1": "阳光花园上门服务", "time2": "2026年12月06日 09:00", "thing3": "王师傅"}


@pytest.fixture(autouse=True)
def short_timeout(app_config):
    app_config["WECHAT_TIMEOUT"] = 1  # the sender's (the scheduler's) timeout


@pytest.fixture
def make_resident(client, login, wechat):
    def make(quota: int = 1, wechat_quota: int | None = None):
        account = login()
        for _ in range(quota):
            r = client.post("/api/v1/me/subscriptions", headers=account.headers, json={"template_ids": [TEMPLATE]})
            assert r.status_code == 200, r.json
        granted = quota if wechat_quota is None else wechat_quota
        if granted:
            wechat.control("POST", "subscriptions", json={"openid": account.openid, "template_id": TEMPLATE,
                                                          "count": granted})
        return account
    return make


def notify(app, residents) -> None:
    from core.extensions import db
    from core.notifications import services
    with app.app_context():
        counts = services.notify([r.user_id for r in residents], kind="visit", title="上门服务", body="",
                                 purpose="visit", data=DATA)
        db.session.commit()
    assert counts["wechat"] == len(residents)


def send(app, now=None):
    from core.notifications import services
    with app.app_context():
        return services.send_due(now=now)


def send_until_nothing_is_due(app) -> list[dict]:
    """Run the sender as the scheduler would, for hours of its clock, until nothing is left."""
    now, runs = utcnow(), []
    for _ in range(12):
        runs.append(send(app, now))
        if outbox(app) and all(status not in ("pending", "sending") for status, _, _ in outbox(app).values()):
            break
        now += timedelta(minutes=10)
    return runs


def outbox(app) -> dict[int, tuple[str, int, str | None]]:
    from core.extensions import db
    from core.notifications.models import OutboxMessage
    with app.app_context():
        return {m.user_id: (m.status, m.attempts, m.last_error) for m in db.session.scalars(sa.select(OutboxMessage))}


def quota(client, resident) -> int:
    return client.get("/api/v1/me/subscriptions", headers=resident.headers).json["quotas"].get(TEMPLATE, 0)


def test_a_send_without_an_answer_is_maybe_delivered_and_never_sent_again(app, client, wechat, make_resident):
    residents = [make_resident() for _ in range(3)]
    notify(app, residents)
    # WeChat delivers each message but answers after the sender's timeout
    wechat.fault("cgi-bin/message/subscribe/send", count=100, delay=2)
    runs = send_until_nothing_is_due(app)
    attempts = [c["body"]["touser"] for c in wechat.calls("cgi-bin/message/subscribe/send")]
    assert sorted(attempts) == sorted(r.openid for r in residents)  # one attempt each
    delivered = [m["touser"] for m in wechat.control("GET", "messages")["messages"]]
    assert sorted(delivered) == sorted(r.openid for r in residents)  # one copy each
    assert {status for status, _, _ in outbox(app).values()} == {"unknown"}
    assert all(error.startswith("no answer") for _, _, error in outbox(app).values())
    assert runs[0]["unknown"] == 3 and runs[0]["sent"] == 0


def test_a_connection_that_never_opened_is_retried(app_config, app, client, wechat, make_resident):
    from core import create_app
    from core.extensions import db
    from core.notifications import services

    resident = make_resident()
    notify(app, [resident])
    down = create_app({**app_config, "WECHAT_API_BASE": "http://127.0.0.1:9/"})  # nothing listens there
    with down.app_context():
        try:
            assert services.send_due()["retry"] == 1
        finally:
            db.session.remove()
            db.engine.dispose()
    assert outbox(app)[resident.user_id][:2] == ("pending", 1)
    assert send(app, utcnow() + timedelta(seconds=31))["sent"] == 1


def test_43101_on_a_message_reclaimed_after_a_crash_keeps_the_quota_and_is_not_failed(app, client, wechat,
                                                                                    make_resident, monkeypatch):
    from core.notifications import services

    # Our count says 2; WeChat holds 1 acceptance, which the first attempt uses.
    resident = make_resident(quota=2, wechat_quota=1)
    notify(app, [resident])
    assert quota(client, resident) == 1  # one reserved for the message

    def crash(*args):
        raise SystemExit("sender killed after WeChat accepted the message, before recording it")

    monkeypatch.setattr(services, "record", crash)
    with pytest.raises(SystemExit):
        send(app)
    monkeypatch.undo()
    assert len(wechat.control("GET", "messages")["messages"]) == 1
    counts = send(app, utcnow() + services.CLAIM_LEASE + timedelta(seconds=1))  # reclaimed: WeChat says 43101
    assert quota(client, resident) == 1  # not zeroed: the 43101 was about our own first attempt
    status, attempts, error = outbox(app)[resident.user_id]
    assert status == "unknown" and error == "errcode 43101 after a reclaim"
    assert (counts["claimed"], counts["unknown"], counts["failed"]) == (1, 1, 0)
    assert send(app, utcnow() + timedelta(hours=1))["claimed"] == 0
    assert len(wechat.control("GET", "messages")["messages"]) == 1
