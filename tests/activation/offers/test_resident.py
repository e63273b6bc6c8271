"""What a resident sees: the estate's live offers (an index read, newest first, cursor-paginated),
each with what they need to act on it; one offer as a notice opens it; the categories they mute;
and an offer-only reward redeemable only where an offer shows it."""
from __future__ import annotations

from datetime import timedelta

from tests.activation.offers.conftest import err, estate_offer_ids, iso, now


def test_the_estates_live_offers_with_what_to_act_on(app, client, admin, make_estate, coupon, activity, reward,
                                                    partner, listing, live_offer, create_offer, resident_of):
    home, away = make_estate(), make_estate(city="广州市")
    me = resident_of(home)
    template = coupon(name="清洗立减券", amount_fen=2000, min_spend_fen=10000, total_stock=100)
    by_coupon = live_offer("coupon", template, {"estate_ids": [home]})
    by_activity = live_offer("activity", activity([home, away], capacity=12, place="会所二楼"))
    by_reward = live_offer("reward", reward(name="电动牙刷", cost=800))
    by_listing = live_offer("partner_service", listing(partner()))
    live_offer("coupon", coupon(), {"cities": ["广州市"]})  # elsewhere
    live_offer("coupon", coupon(), starts_at=iso(now() + timedelta(days=1)))  # not yet
    draft = create_offer("coupon", coupon()).json  # never published
    gone = live_offer("coupon", coupon())
    client.post(f"/api/v1/admin/offers/{gone['id']}/withdraw", headers=admin.headers)
    r = client.get(f"/api/v1/estates/{home}/offers", headers=me.headers)
    assert r.status_code == 200, r.json
    items = r.json["items"]
    assert [i["id"] for i in items] == [by_listing["id"], by_reward["id"], by_activity["id"], by_coupon["id"]]
    assert draft["id"] not in [i["id"] for i in items]
    listing_item, reward_item, activity_item, coupon_item = items
    assert coupon_item["kind"] == "coupon" and coupon_item["kind_label"] == "优惠券" and coupon_item["estate_id"] == home
    assert coupon_item["coupon"]["face"] == "满100减20" and coupon_item["coupon"]["can_claim"] is True
    assert coupon_item["coupon"]["remaining"] == 100 and coupon_item["activity"] is None
    assert activity_item["activity"]["place"] == "会所二楼" and activity_item["activity"]["seats_left"] == 12
    assert activity_item["activity"]["signup_open"] is True and activity_item["activity"]["starts_at"]
    assert reward_item["reward"]["cost"] == 800 and reward_item["reward"]["name"] == "电动牙刷"
    assert listing_item["listing"]["price_fen"] == 19900 and listing_item["listing"]["signup_mode"] == "platform"
    assert listing_item["listing"]["partner"]["name"].startswith("洁净家政")
    assert listing_item["category"] == "partner" and reward_item["category"] == "reward"
    # act: claim the coupon; the list then says so
    assert client.post(f"/api/v1/coupon-templates/{template}/claim", headers=me.headers, json={}).status_code == 201
    again = client.get(f"/api/v1/estates/{home}/offers", headers=me.headers, query_string={"kind": "coupon"}).json
    assert [i["id"] for i in again["items"]] == [by_coupon["id"]]
    assert again["items"][0]["coupon"]["held"] == 1 and again["items"][0]["coupon"]["can_claim"] is False


def test_pages_follow_the_cursor(client, make_estate, coupon, live_offer, resident_of):
    home = make_estate()
    me = resident_of(home)
    ids = [live_offer("coupon", coupon())["id"] for _ in range(5)]
    first = client.get(f"/api/v1/estates/{home}/offers", headers=me.headers, query_string={"limit": 2}).json
    assert [i["id"] for i in first["items"]] == ids[::-1][:2] and first["next_cursor"]
    second = client.get(f"/api/v1/estates/{home}/offers", headers=me.headers,
                        query_string={"limit": 2, "cursor": first["next_cursor"]}).json
    third = client.get(f"/api/v1/estates/{home}/offers", headers=me.headers,
                       query_string={"limit": 2, "cursor": second["next_cursor"]}).json
    assert [i["id"] for i in second["items"] + third["items"]] == ids[::-1][2:] and third["next_cursor"] is None


def test_the_lists_4xx(client, login, make_estate):
    home = make_estate()
    me = login()
    assert client.get(f"/api/v1/estates/{home}/offers").status_code == 401
    r = client.get("/api/v1/estates/999999/offers", headers=me.headers)
    assert r.status_code == 404 and err(r) == "estate_not_found"
    r = client.get(f"/api/v1/estates/{home}/offers", headers=me.headers, query_string={"cursor": "x"})
    assert r.status_code == 400 and err(r) == "invalid_cursor"
    r = client.get(f"/api/v1/estates/{home}/offers", headers=me.headers, query_string={"kind": "poster", "limit": 0})
    assert r.status_code == 422 and set(r.json["error"]["details"]["fields"]) == {"kind", "limit"}
    assert estate_offer_ids(client, me, home) == []


def test_one_offer_as_a_notice_opens_it(client, admin, make_estate, coupon, live_offer, resident_of):
    home, other = make_estate(), make_estate(city="广州市")
    offer = live_offer("coupon", coupon(), {"cities": ["深圳市"]})
    me, stranger = resident_of(home), resident_of(other)
    r = client.get(f"/api/v1/offers/{offer['id']}", headers=me.headers)
    assert r.status_code == 200 and r.json["estate_id"] == home and r.json["coupon"]["can_claim"] is True
    assert client.get(f"/api/v1/offers/{offer['id']}", headers=me.headers,
                      query_string={"estate_id": home}).status_code == 200
    for who, params in ((stranger, {}), (me, {"estate_id": other})):
        r = client.get(f"/api/v1/offers/{offer['id']}", headers=who.headers, query_string=params)
        assert r.status_code == 404 and err(r) == "offer_not_found"
    assert client.get(f"/api/v1/offers/{offer['id']}", headers=admin.headers).status_code == 200
    client.post(f"/api/v1/admin/offers/{offer['id']}/withdraw", headers=admin.headers)
    assert client.get(f"/api/v1/offers/{offer['id']}", headers=me.headers).status_code == 404


def test_mutes(client, login):
    me = login()
    r = client.get("/api/v1/me/offer-mutes", headers=me.headers)
    assert r.status_code == 200
    assert [(m["category"], m["muted"]) for m in r.json["items"]] == [
        ("coupon", False), ("activity", False), ("reward", False), ("partner", False)]
    assert r.json["items"][0]["name"] == "优惠券"
    for _ in range(2):
        r = client.put("/api/v1/me/offer-mutes", headers=me.headers, json={"muted": ["partner", "coupon"]})
        assert r.status_code == 200
        assert {m["category"] for m in r.json["items"] if m["muted"]} == {"coupon", "partner"}
    r = client.put("/api/v1/me/offer-mutes", headers=me.headers, json={"muted": ["spam"]})
    assert r.status_code == 422 and "muted" in r.json["error"]["details"]["fields"]
    r = client.put("/api/v1/me/offer-mutes", headers=me.headers, json={})
    assert r.status_code == 422 and "muted" in r.json["error"]["details"]["fields"]
    r = client.put("/api/v1/me/offer-mutes", headers=me.headers, json={"muted": []})
    assert not any(m["muted"] for m in r.json["items"])
    assert client.get("/api/v1/me/offer-mutes").status_code == 401


def test_an_offer_only_reward_is_redeemable_where_an_offer_shows_it(app, client, admin, make_estate, reward,
                                                                    live_offer, resident_of):
    home, other = make_estate(city="深圳市"), make_estate(city="广州市")
    prize = reward(offer_only=True, cost=50)
    me, stranger = resident_of(home), resident_of(other)
    for who in (me, stranger):
        r = client.post("/api/v1/admin/points/adjustments", headers=admin.headers,
                        json={"user_id": who.user_id, "amount": 200, "reason": "活动补发"})
        assert r.status_code == 201, r.json
    r = client.post("/api/v1/redemptions", headers=me.headers, json={"reward_id": prize})
    assert r.status_code == 403 and err(r) == "reward_not_offered"
    assert r.json["error"]["message"] == "该奖品仅限活动小区的住户兑换"
    live_offer("reward", prize, {"cities": ["深圳市"]})
    r = client.post("/api/v1/redemptions", headers=me.headers, json={"reward_id": prize})
    assert r.status_code == 201, r.json
    r = client.post("/api/v1/redemptions", headers=stranger.headers, json={"reward_id": prize})
    assert r.status_code == 403 and err(r) == "reward_not_offered"
    everyone = reward(cost=10)  # not offer-only: no offer needed
    assert client.post("/api/v1/redemptions", headers=stranger.headers, json={"reward_id": everyone}).status_code == 201
    from activation.offers import services
    with app.app_context():
        assert services.reward_offered(user_id=me.user_id, reward_id=prize) is True
        assert services.reward_offered(user_id=999999, reward_id=prize) is False
