"""Races on the review queue and the signs of life (PostgreSQL: SQLite serialises writers)."""
import pytest
import sqlalchemy as sa

from tests.community.trust.conftest import balance, watch
from tests.concurrency import http_race
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (SQLite serialises writers)")


def test_two_agents_confirming_at_once_take_the_points_back_once(app, client, make_admin, wechat, rated_binding):
    from core.extensions import db
    from core.models import AuditEntry

    agents = [make_admin(roles={"agent"}) for _ in range(2)]
    fake = rated_binding(latitude=22.58, longitude=113.95)
    code = wechat.control("POST", "phone-codes", json={"phone": "13977778888"})["code"]
    client.post("/api/v1/me/phone", headers=fake.headers, json={"code": code})  # released: 20 spendable
    flag = client.get("/api/v1/admin/binding-flags", headers=agents[0].headers).json["items"][0]["id"]
    responses = http_race(app, [
        lambda c, a=a: c.post(f"/api/v1/admin/binding-flags/{flag}/confirm", headers=a.headers, json={})
        for a in agents])
    assert [r.status_code for r in responses] == [200, 200]
    assert balance(app, fake.user_id).available == 0  # reversed once, not twice (never negative)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "binding_flag.confirm")) == 1


def test_a_sign_of_life_racing_a_confirmation_settles_once(app, client, make_admin, wechat, rated_binding):
    agent = make_admin(roles={"agent"})
    fake = rated_binding(latitude=22.58, longitude=113.95)
    flag = client.get("/api/v1/admin/binding-flags", headers=agent.headers).json["items"][0]["id"]
    code = wechat.control("POST", "phone-codes", json={"phone": "13977779999"})["code"]
    responses = http_race(app, [
        lambda c: c.post(f"/api/v1/admin/binding-flags/{flag}/confirm", headers=agent.headers, json={}),
        lambda c: c.post("/api/v1/me/phone", headers=fake.headers, json={"code": code})])
    assert [r.status_code for r in responses] == [200, 200]
    summary = balance(app, fake.user_id)
    assert (summary.available, summary.pending) == (0, 0)  # whichever came first, the fake keeps nothing
    assert watch(app, fake.binding_id).status == "fake"
