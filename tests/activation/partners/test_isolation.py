"""A partner sees only its own audience: every partner endpoint and page that names an id answers
another partner's ids with 404 and changes nothing; every list and the dashboard hold only the
partner's own rows. The tests enumerate the routes, so a new route with an id must be added here."""
from __future__ import annotations

import secrets
from datetime import timedelta

import sqlalchemy as sa

from activation.activities.models import Activity, ActivitySignup
from activation.coupons.models import Coupon, CouponTemplate
from activation.partners import services as partners
from activation.partners.models import PartnerLead, PartnerListing
from core.accounts import services as accounts
from core.accounts.models import User
from core.db import utcnow
from core.extensions import db
from core.formatting import business_today
from tests.activation.partners.conftest import SERVICE, submit_listing, web_client
from tests.conftest import csrf_token, html


def _audience(app, admin_id: int, partner_id: int, listing_id: int, resident_id: int, estate_id: int) -> dict:
    """A lead, a coupon of the partner's template and a sign-up for its activity, made in the database."""
    now = utcnow()
    with app.app_context():
        actor = accounts.get_user(admin_id)
        listing = partners.approve_listing(listing_id, actor)
        lead = partners.create_lead(listing, db.session.get(User, resident_id), {"contact_phone": "13811112222"},
                                    estate_id=estate_id)
        template = CouponTemplate(name=f"伙伴券{partner_id}", kind="amount", amount_fen=500, valid_days=30,
                                  partner_id=partner_id, issued=1)
        activity = Activity(title=f"伙伴活动{partner_id}", place="会所", starts_at=now + timedelta(days=2),
                            ends_at=now + timedelta(days=2, hours=2), signup_deadline=now + timedelta(days=1),
                            capacity=10, confirmed=1, organizer_kind="partner", organizer_user_id=admin_id,
                            partner_id=partner_id, checkin_token=secrets.token_hex(8), status="published")
        db.session.add_all([template, activity])
        db.session.flush()
        coupon = Coupon(code=secrets.token_hex(6).upper(), template_id=template.id, user_id=resident_id,
                        estate_id=estate_id, slot=1, source="claim", valid_from=business_today(),
                        expires_on=business_today() + timedelta(days=30))
        signup = ActivitySignup(activity_id=activity.id, user_id=resident_id, estate_id=estate_id, status="confirmed",
                                code=secrets.token_hex(8), contact_name="林女士", contact_phone="13811113333")
        db.session.add_all([coupon, signup])
        db.session.commit()
        return {"lead": lead.id, "coupon": coupon.id, "signup": signup.id}


def _two_partners(app, client, admin, make_partner, make_estate, login, add_staff):
    estate = make_estate()
    resident = login()
    a, b = make_partner(name="甲家政"), make_partner(name="乙洗衣")
    a_staff, _ = add_staff(client, a.partner_id)
    a_staff_id = client.get("/api/v1/partner/staff", headers=a.owner.headers).json["items"][-1]["user_id"]
    listing_a = submit_listing(client, a.owner)["id"]
    listing_b = submit_listing(client, b.owner, title="乙的服务")["id"]
    rows_a = _audience(app, admin.user_id, a.partner_id, listing_a, resident.user_id, estate)
    rows_b = _audience(app, admin.user_id, b.partner_id, listing_b, resident.user_id, estate)
    return a, b, {"listing": listing_a, "staff": a_staff_id, **rows_a}, {"listing": listing_b, **rows_b}


def _state(app, ids):
    with app.app_context():
        return (db.session.get(PartnerListing, ids["listing"]).status, db.session.get(PartnerLead, ids["lead"]).status,
                db.session.get(User, ids["staff"]).status)


def test_every_partner_api_with_an_id_answers_another_partner_with_404(
        app, client, admin, make_partner, make_estate, login, add_staff):
    a, b, ids_a, ids_b = _two_partners(app, client, admin, make_partner, make_estate, login, add_staff)
    before = _state(app, ids_a)
    calls = {
        ("GET", "/api/v1/partner/listings/<int:listing_id>"): f"/api/v1/partner/listings/{ids_a['listing']}",
        ("PUT", "/api/v1/partner/listings/<int:listing_id>"): f"/api/v1/partner/listings/{ids_a['listing']}",
        ("POST", "/api/v1/partner/listings/<int:listing_id>/withdraw"):
            f"/api/v1/partner/listings/{ids_a['listing']}/withdraw",
        ("GET", "/api/v1/partner/leads/<int:lead_id>"): f"/api/v1/partner/leads/{ids_a['lead']}",
        ("PATCH", "/api/v1/partner/leads/<int:lead_id>"): f"/api/v1/partner/leads/{ids_a['lead']}",
        ("DELETE", "/api/v1/partner/staff/<int:user_id>"): f"/api/v1/partner/staff/{ids_a['staff']}",
        ("POST", "/api/v1/partner/staff/<int:user_id>/password"): f"/api/v1/partner/staff/{ids_a['staff']}/password",
    }
    bodies = {"PUT": SERVICE, "PATCH": {"status": "closed"}, "POST": {"password": "taken-over-1"}}
    for (method, _rule), url in calls.items():
        response = client.open(url, method=method, headers=b.owner.headers, json=bodies.get(method, {}))
        assert response.status_code == 404, (method, url, response.status_code, response.json)
        assert response.json["error"]["code"].endswith("_not_found")
        # the owner of A reaches the same id (the 404 is about whose it is, not about the id)
        assert client.get(f"/api/v1/partner/listings/{ids_a['listing']}", headers=a.owner.headers).status_code == 200
    assert _state(app, ids_a) == before
    # every partner API route that names an id is covered above
    with_ids = {(m, r.rule) for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/partner/") and r.arguments
                for m in r.methods - {"HEAD", "OPTIONS"}}
    assert with_ids == set(calls)


def test_every_partner_list_and_the_dashboard_hold_only_the_partner_s_own_rows(
        app, client, admin, make_partner, make_estate, login, add_staff):
    a, b, ids_a, ids_b = _two_partners(app, client, admin, make_partner, make_estate, login, add_staff)
    lists = {"/api/v1/partner/listings": "listing", "/api/v1/partner/leads": "lead",
             "/api/v1/partner/coupon-holders": "coupon", "/api/v1/partner/activity-signups": "signup"}
    for url, key in lists.items():
        for world, own, other in ((a, ids_a, ids_b), (b, ids_b, ids_a)):
            found = [x["id"] for x in client.get(url, headers=world.owner.headers).json["items"]]
            assert found == [own[key]], (url, found)
    # a filter naming another partner's listing finds nothing
    assert client.get(f"/api/v1/partner/leads?listing_id={ids_a['listing']}", headers=b.owner.headers).json[
        "items"] == []
    assert {s["user_id"] for s in client.get("/api/v1/partner/staff", headers=b.owner.headers).json["items"]} == {
        b.owner.user_id}
    for world in (a, b):
        d = client.get("/api/v1/partner/dashboard", headers=world.owner.headers).json
        assert (d["leads"]["new"], d["coupons"]["issued"], d["activities"]["confirmed"], d["listings"]["published"]) \
            == (1, 1, 1, 1)
    # every partner API route without an id is a list, the dashboard or the caller's own: all tried
    plain = {r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/partner/") and not r.arguments}
    assert plain == {*lists, "/api/v1/partner/staff", "/api/v1/partner/dashboard", "/api/v1/partner/me",
                     "/api/v1/partner/orders"}


def test_every_partner_page_with_an_id_answers_another_partner_with_404(
        app, client, admin, make_partner, make_estate, login, add_staff):
    a, b, ids_a, ids_b = _two_partners(app, client, admin, make_partner, make_estate, login, add_staff)
    before = _state(app, ids_a)
    web, _ = web_client(app, b.owner_username)
    token = csrf_token(html(web.get("/partner/")))
    calls = {
        ("GET", "/partner/listings/<int:listing_id>"): f"/partner/listings/{ids_a['listing']}",
        ("GET", "/partner/listings/<int:listing_id>/edit"): f"/partner/listings/{ids_a['listing']}/edit",
        ("POST", "/partner/listings/<int:listing_id>/edit"): f"/partner/listings/{ids_a['listing']}/edit",
        ("POST", "/partner/listings/<int:listing_id>/withdraw"): f"/partner/listings/{ids_a['listing']}/withdraw",
        ("POST", "/partner/leads/<int:lead_id>/status"): f"/partner/leads/{ids_a['lead']}/status",
        ("POST", "/partner/staff/<int:user_id>/remove"): f"/partner/staff/{ids_a['staff']}/remove",
        ("POST", "/partner/staff/<int:user_id>/password"): f"/partner/staff/{ids_a['staff']}/password",
    }
    for (method, _rule), url in calls.items():
        response = web.open(url, method=method, data={"csrf_token": token, "status": "closed", "title": "改",
                                                      "kind": "service", "password": "taken-over-1"})
        assert response.status_code == 404, (method, url, response.status_code)
    assert _state(app, ids_a) == before
    with_ids = {(m, r.rule) for r in app.url_map.iter_rules() if r.rule.startswith("/partner/") and r.arguments
                for m in r.methods - {"HEAD", "OPTIONS"}}
    assert with_ids == set(calls)
    # the lists show only B's rows
    assert "甲家政" not in html(web.get("/partner/"))
    leads = html(web.get(f"/partner/leads?listing_id={ids_a['listing']}"))
    assert 'data-testid="lead-row"' not in leads
    for tab, marker, key in (("coupons", "coupon-row", "coupon"), ("activities", "signup-row", "signup")):
        page = html(web.get(f"/partner/audience?tab={tab}"))
        assert page.count(f'data-testid="{marker}"') == 1
        assert f'data-id="{ids_b[key]}"' in page and f'data-id="{ids_a[key]}"' not in page
    listings = html(web.get("/partner/listings"))
    assert f'data-id="{ids_a["listing"]}"' not in listings and f'data-id="{ids_b["listing"]}"' in listings


def test_residents_and_other_partners_see_no_unoffered_listing(app, client, admin, make_partner, make_estate,
                                                               login, add_staff):
    a, b, ids_a, _ = _two_partners(app, client, admin, make_partner, make_estate, login, add_staff)
    # published (approved by the service here, without an offer): offered nowhere, so 404 to all but staff and A
    url = f"/api/v1/partner-listings/{ids_a['listing']}"
    assert client.get(url, headers=b.owner.headers).status_code == 404
    assert client.get(url, headers=login().headers).status_code == 404
    assert client.get(url, headers=a.owner.headers).status_code == 200
    assert client.get(url, headers=admin.headers).status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PartnerLead)) == 2
