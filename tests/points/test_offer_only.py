"""Offer-only rewards: an admin marks a reward `offer_only` (API and form); residents then see it in
their catalogue and redeem it only where a live offer of it matches an estate they live in
(core.signals.reward_offered, answered by activation.offers for the whole catalogue at once)."""
import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from core.extensions import db
from points import services
from points.models import Reward
from tests.conftest import csrf_token, flashes, html, post_form
from tests.points.test_admin_api import audit_actions
from tests.points.test_api import error_code, give, make_reward, redeem
from tests.points.test_pages import reward_form


def _iso(value: datetime) -> str:
    return value.isoformat()


@pytest.fixture
def resident_of(client, login):
    """resident_of(*estate_ids) -> a logged-in resident living in those estates."""
    def make(*estate_ids):
        account = login()
        for estate_id in estate_ids:
            r = client.post("/api/v1/me/estates", headers=account.headers, json={"estate_id": estate_id})
            assert r.status_code == 201, r.json
        return account
    return make


@pytest.fixture
def offer_reward(client, admin):
    """offer_reward(reward_id, rule) -> a published reward offer, live from yesterday for a week."""
    def make(reward_id: int, rule: dict) -> dict:
        now = datetime.now(timezone.utc)
        r = client.post("/api/v1/admin/offers", headers=admin.headers, json={
            "kind": "reward", "ref_id": reward_id, "rule": rule, "starts_at": _iso(now - timedelta(days=1)),
            "ends_at": _iso(now + timedelta(days=7))})
        assert r.status_code == 201, r.json
        r = client.post(f"/api/v1/admin/offers/{r.json['id']}/publish", headers=admin.headers)
        assert r.status_code == 200, r.json
        return r.json
    return make


def catalogue(client, account) -> list[str]:
    r = client.get("/api/v1/rewards", headers=account.headers)
    assert r.status_code == 200, r.json
    return [item["name"] for item in r.json["items"]]


# -- admins set it ----------------------------------------------------------------------------

def test_admin_api_sets_and_clears_offer_only(app, client, admin):
    plain = make_reward(client, admin, name="纸巾")
    assert plain["offer_only"] is False  # the default
    prize = make_reward(client, admin, name="小区专享保温杯", offer_only=True)
    assert prize["offer_only"] is True
    assert client.get(f"/api/v1/admin/rewards/{prize['id']}", headers=admin.headers).json["offer_only"] is True
    r = client.patch(f"/api/v1/admin/rewards/{prize['id']}", headers=admin.headers, json={"offer_only": False})
    assert r.status_code == 200 and r.json["offer_only"] is False and r.json["name"] == "小区专享保温杯"
    r = client.patch(f"/api/v1/admin/rewards/{prize['id']}", headers=admin.headers, json={"cost": 120})
    assert r.json["offer_only"] is False  # a patch without it leaves it alone
    r = client.patch(f"/api/v1/admin/rewards/{prize['id']}", headers=admin.headers, json={"offer_only": "maybe"})
    assert r.status_code == 422 and "offer_only" in r.json["error"]["details"]["fields"]
    with app.app_context():
        assert db.session.get(Reward, prize["id"]).offer_only is False
        from core.models import AuditEntry
        update = db.session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "points.reward.update", AuditEntry.object_id == str(prize["id"]))
            .order_by(AuditEntry.id)).first()
        assert (update.before["offer_only"], update.after["offer_only"]) == (True, False)
    assert [a[0] for a in audit_actions(app)].count("points.reward.update") == 2


def test_the_reward_form_has_the_offer_only_box_with_its_help(app, console):
    page = html(console.get("/admin/points/rewards/new"))
    assert re.search(r'<input[^>]*id="offer_only"[^>]*type="checkbox"|<input[^>]*type="checkbox"[^>]*id="offer_only"',
                     page)
    assert "仅限投放的小区" in page and "其他住户的奖品列表里不显示它" in page
    response = post_form(console, "/admin/points/rewards/new", "/admin/points/rewards/new",
                         reward_form(name="小区专享保温杯", offer_only="y"), follow_redirects=True)
    assert flashes(response) == ["奖品已创建"]
    rows = re.findall(r'<tr data-testid="reward-row">(.*?)</tr>', html(response), re.S)
    assert len(rows) == 1 and "仅限投放的小区" in rows[0]
    with app.app_context():
        reward = db.session.scalars(sa.select(Reward)).one()
        assert reward.offer_only is True
        reward_id = reward.id
    page = html(console.get(f"/admin/points/rewards/{reward_id}"))
    assert re.search(r'<input[^>]*checked[^>]*id="offer_only"|<input[^>]*id="offer_only"[^>]*checked', page)
    # an unticked box clears it
    response = console.post(f"/admin/points/rewards/{reward_id}", follow_redirects=True,
                            data={"csrf_token": csrf_token(page), **reward_form(name="小区专享保温杯")})
    assert flashes(response) == ["奖品已保存"]
    with app.app_context():
        assert db.session.get(Reward, reward_id).offer_only is False
    rows = re.findall(r'<tr data-testid="reward-row">(.*?)</tr>', html(console.get("/admin/points/rewards")), re.S)
    assert "仅限投放的小区" not in rows[0]


# -- the catalogue ----------------------------------------------------------------------------

def test_the_catalogue_lists_an_offer_only_reward_only_where_it_is_offered(
        app, client, admin, make_estate, resident_of, login, offer_reward):
    home, away = make_estate(city="深圳市"), make_estate(city="广州市")
    me, stranger, homeless = resident_of(home), resident_of(away), login()
    make_reward(client, admin, name="纸巾", cost=10)
    prize = make_reward(client, admin, name="小区专享保温杯", cost=100, offer_only=True)
    make_reward(client, admin, name="广州专享", cost=200, offer_only=True)  # never offered
    for who in (me, stranger, homeless):
        assert catalogue(client, who) == ["纸巾"]  # no offer yet: nobody sees the offer-only ones
    offer = offer_reward(prize["id"], {"cities": ["深圳市"]})
    assert catalogue(client, me) == ["纸巾", "小区专享保温杯"]
    # the flag decides what a resident is shown; it is not part of what they read
    assert all("offer_only" not in item for item in client.get("/api/v1/rewards", headers=me.headers).json["items"])
    assert catalogue(client, stranger) == ["纸巾"]
    assert catalogue(client, homeless) == ["纸巾"]
    # a resident who also lives in the offered estate sees it
    both = resident_of(away, home)
    assert catalogue(client, both) == ["纸巾", "小区专享保温杯"]
    # withdrawn: gone again
    r = client.post(f"/api/v1/admin/offers/{offer['id']}/withdraw", headers=admin.headers)
    assert r.status_code == 200, r.json
    assert catalogue(client, me) == ["纸巾"]


def test_the_catalogue_asks_once_for_all_its_offer_only_rewards(app, client, admin, make_estate, resident_of,
                                                               offer_reward):
    """Set-based: the statements run for the catalogue do not grow with the offer-only rewards."""
    home = make_estate()
    me = resident_of(home)
    first = make_reward(client, admin, name="专享 0", cost=10, offer_only=True)
    offer_reward(first["id"], {"estate_ids": [home]})

    def statements() -> tuple[int, list[str]]:
        seen = []
        with app.app_context():
            engine = db.engine
            listen = lambda *args: seen.append(args[2])  # noqa: E731 (conn, cursor, statement, ...)
            sa.event.listen(engine, "before_cursor_execute", listen)
            try:
                names = [r.name for r in services.rewards_for(me.user_id)]
            finally:
                sa.event.remove(engine, "before_cursor_execute", listen)
        return len(seen), names

    one, names = statements()
    assert names == ["专享 0"]
    for n in range(1, 8):
        reward = make_reward(client, admin, name=f"专享 {n}", cost=10 + n, offer_only=True)
        if n % 2:
            offer_reward(reward["id"], {"estate_ids": [home]})
    many, names = statements()
    assert names == ["专享 0", "专享 1", "专享 3", "专享 5", "专享 7"]
    assert many == one


# -- redemption -------------------------------------------------------------------------------

def test_redeeming_an_offer_only_reward_needs_a_live_offer_in_my_estate(
        app, client, admin, make_estate, resident_of, offer_reward):
    home, away = make_estate(city="深圳市"), make_estate(city="广州市")
    me, stranger = resident_of(home), resident_of(away)
    for who in (me, stranger):
        give(app, who.user_id, 500)
    prize = make_reward(client, admin, name="小区专享保温杯", cost=100, offer_only=True)
    r = redeem(client, me, prize["id"])
    assert r.status_code == 403 and error_code(r) == "reward_not_offered"
    assert r.json["error"]["message"] == "该奖品仅限活动小区的住户兑换"
    offer_reward(prize["id"], {"estate_ids": [home]})
    r = redeem(client, me, prize["id"])
    assert r.status_code == 201 and r.json["status"] == "pending" and r.json["points"] == 100
    r = redeem(client, stranger, prize["id"])
    assert r.status_code == 403 and error_code(r) == "reward_not_offered"
    # the admin clears the flag: everyone may redeem it
    client.patch(f"/api/v1/admin/rewards/{prize['id']}", headers=admin.headers, json={"offer_only": False})
    assert redeem(client, stranger, prize["id"]).status_code == 201
    with app.app_context():
        assert services.verify() == []
