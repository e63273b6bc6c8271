"""Where an offer is shown: its rule, within its partner's reach, and for an activity only where
the activity is for; kept fresh when tags change (the edited estates, at once), after the daily
profile refresh (stale offers, refreshed by the job), and ended offers leave the index."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tests.activation.offers.conftest import iso, matched_estates, now


def test_a_partners_offer_is_shown_only_within_its_reach(app, client, admin, make_estate, partner, listing, live_offer,
                                                        create_offer):
    sz, sz2, gz, fs = (make_estate(city="深圳市"), make_estate(city="深圳市", households=50),
                       make_estate(city="广州市"), make_estate(city="佛山市"))
    firm = partner(reach={"cities": ["深圳市", "佛山市"]})
    offer = live_offer("partner_service", listing(firm), {"cities": ["深圳市", "广州市"]})
    assert offer["partner_id"] == firm and offer["summary"].startswith("洁净家政") and "¥199起" in offer["summary"]
    assert matched_estates(app, offer["id"]) == {sz, sz2}
    preview = client.get(f"/api/v1/admin/offers/{offer['id']}/preview", headers=admin.headers).json
    assert preview["count"] == 2
    # a new reach applies to its live offers (activation.ecosystem.set_reach refreshes them)
    from activation.offers import services
    from activation.partners.models import Partner
    from core.extensions import db
    with app.app_context():
        db.session.execute(sa.update(Partner).where(Partner.id == firm).values(reach_rule={"households": {"min": 100}}))
        services.refresh_matches(offer["id"])
        db.session.commit()
    assert matched_estates(app, offer["id"]) == {sz, gz}
    # a partner's coupon template carries its partner: the reach applies to it too
    r = client.post("/api/v1/admin/coupon-templates", headers=admin.headers, json={
        "name": "家政券", "kind": "amount", "amount_fen": 500, "valid_days": 10, "claimable": True, "partner_id": firm})
    assert r.status_code == 201, r.json
    coupon_offer = create_offer("coupon", r.json["id"], {"cities": ["深圳市"]}).json
    assert coupon_offer["partner_id"] == firm
    preview = client.get(f"/api/v1/admin/offers/{coupon_offer['id']}/preview", headers=admin.headers).json
    assert [e["id"] for e in preview["estates"]] == [sz]  # sz2 has 50 households: outside the reach
    assert fs


def test_approving_a_listing_publishes_its_offer_within_the_reach(app, admin, make_estate, partner, listing):
    """activation.ecosystem publishes a moderated listing through publish_offer(partner_id=...)."""
    from activation.ecosystem import services as ecosystem
    from activation.offers.models import Offer
    from core.accounts.models import User
    from core.extensions import db
    inside, outside = make_estate(city="深圳市"), make_estate(city="广州市")
    firm = partner(reach={"cities": ["深圳市"]})
    listing_id = listing(firm, status="pending", audience_rule={})
    with app.app_context():
        ecosystem.publish_listing(listing_id, db.session.get(User, admin.user_id))
        db.session.commit()
        offer = db.session.scalars(sa.select(Offer)).one()
        assert (offer.kind, offer.ref_id, offer.partner_id, offer.status) == ("partner_service", listing_id, firm,
                                                                           "published")
    assert matched_estates(app, offer.id) == {inside} and outside


def test_an_activity_is_offered_only_where_it_is_for(app, make_estate, activity, live_offer):
    a, b, c = make_estate(), make_estate(), make_estate()
    offer = live_offer("activity", activity([a, b]), {})
    assert matched_estates(app, offer["id"]) == {a, b}
    assert offer["summary"].endswith("· 小区会所")
    assert c


def test_a_tag_edit_rematches_live_offers_for_that_estate_only(app, client, admin, make_estate, coupon, live_offer):
    villas, plain, other = make_estate(), make_estate(), make_estate(city="广州市")
    client.put(f"/api/v1/admin/estates/{villas}/tags", headers=admin.headers, json={"tags": ["别墅"]})
    by_tag = live_offer("coupon", coupon(), {"tags_any": ["别墅"]})
    by_city = live_offer("coupon", coupon(), {"cities": ["深圳市"]})
    assert matched_estates(app, by_tag["id"]) == {villas}
    r = client.post(f"/api/v1/admin/estates/{plain}/tags", headers=admin.headers, json={"tags": ["别墅"]})
    assert r.status_code == 200
    assert matched_estates(app, by_tag["id"]) == {villas, plain}
    client.delete(f"/api/v1/admin/estates/{villas}/tags/别墅", headers=admin.headers)
    assert matched_estates(app, by_tag["id"]) == {plain}
    assert client.get(f"/api/v1/admin/offers/{by_tag['id']}", headers=admin.headers).json["matched"] == 1
    assert matched_estates(app, by_city["id"]) == {villas, plain}  # reads no tags: left alone
    assert other


def test_the_csv_import_rematches_too(app, tmp_path, make_estate, coupon, live_offer):
    a, b = make_estate(code="IMP001"), make_estate(code="IMP002")
    offer = live_offer("coupon", coupon(), {"tags_none": ["老旧小区"]})
    assert matched_estates(app, offer["id"]) == {a, b}
    path = tmp_path / "tags.csv"
    path.write_text("estate_code,tags\nIMP002,老旧小区\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["estates", "import-tags", str(path)])
    assert result.exit_code == 0, result.output
    assert matched_estates(app, offer["id"]) == {a}


def test_the_daily_refresh_marks_live_offers_stale_and_the_job_rematches_them(app, make_estate, coupon, live_offer):
    from activation.offers import jobs
    from activation.offers.models import Offer
    from community.profiles.jobs import JOBS as PROFILE_JOBS
    from community.stats.models import EstateMonthStat
    from core.extensions import db
    from core.scheduler import run_job
    busy, quiet = make_estate(households=100), make_estate(households=100)
    offer = live_offer("coupon", coupon(), {"orders_per_1000": {"min": 50}})
    assert matched_estates(app, offer["id"]) == set()  # no figures yet
    from community.profiles import services as profiles
    with app.app_context():
        first, _ = profiles.profile_months()
        db.session.add(EstateMonthStat(estate_id=busy, month=first, orders=9, complaints=0, ratings_count=0,
                                       ratings_sum=0))
        db.session.commit()
    run_job(app, next(j for j in PROFILE_JOBS if j.name == "refresh-estate-profiles"))
    with app.app_context():
        assert db.session.get(Offer, offer["id"]).matched_at is None  # stale: waits for the job
    assert matched_estates(app, offer["id"]) == set()
    job = next(j for j in jobs.JOBS if j.name == "rematch-offers")
    assert run_job(app, job) == {"refreshed": 1, "purged": 0}
    assert matched_estates(app, offer["id"]) == {busy}
    assert run_job(app, job) == {"refreshed": 0, "purged": 0}
    assert quiet


def test_ended_offers_leave_the_index(app, make_estate, coupon, live_offer):
    from activation.offers import services
    from activation.offers.models import Offer
    from core.extensions import db
    make_estate()
    offer = live_offer("coupon", coupon())
    with app.app_context():
        db.session.execute(sa.update(Offer).where(Offer.id == offer["id"]).values(
            starts_at=now() - timedelta(days=3), ends_at=now() - timedelta(minutes=1)))
        db.session.commit()
        assert services.purge_ended() == 1
        db.session.commit()
        stored = db.session.get(Offer, offer["id"])
        assert (stored.matched, stored.notify_state) == (1, "done")  # the figure stays; the fan-out stops
    assert matched_estates(app, offer["id"]) == set()


def test_refresh_matches_writes_only_the_difference(app, make_estate, coupon, live_offer):
    from activation.offers import services
    from activation.offers.models import Offer
    from core.extensions import db
    a, b = make_estate(city="深圳市"), make_estate(city="深圳市")
    offer = live_offer("coupon", coupon(), {"cities": ["深圳市"]})
    with app.app_context():
        c = make_estate(city="深圳市")
        assert services.refresh_matches(offer["id"]) == 3
        assert services._sync(offer["id"], services._matching(db.session.get(Offer, offer["id"]))) == (0, 0)
        db.session.commit()
    assert matched_estates(app, offer["id"]) == {a, b, c}


def test_a_claim_needs_a_live_offer_in_my_estate(client, make_estate, coupon, live_offer, resident_of, admin):
    mine, elsewhere = make_estate(city="深圳市"), make_estate(city="广州市")
    template = coupon()
    me, neighbour = resident_of(mine), resident_of(elsewhere)
    r = client.post(f"/api/v1/coupon-templates/{template}/claim", headers=me.headers, json={})
    assert r.status_code == 403 and r.json["error"]["code"] == "coupon_not_offered"
    live_offer("coupon", template, {"cities": ["深圳市"]})
    r = client.post(f"/api/v1/coupon-templates/{template}/claim", headers=me.headers, json={})
    assert r.status_code == 201, r.json
    from activation.coupons.models import Coupon
    from core.extensions import db
    with client.application.app_context():
        assert db.session.get(Coupon, r.json["id"]).estate_id == mine  # claimed where the offer shows it
    r = client.post(f"/api/v1/coupon-templates/{template}/claim", headers=neighbour.headers, json={})
    assert r.status_code == 403
    body = {"kind": "coupon", "ref_id": template, "starts_at": iso(now()), "ends_at": iso(now() + timedelta(days=1))}
    assert client.post("/api/v1/admin/offers", headers=admin.headers, json=body).status_code == 201
