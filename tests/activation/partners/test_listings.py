"""Listings: a partner's staff submit, moderation approves (an offer shows it in the estates its
rule matches within the partner's reach), rejects with a reason or withdraws; residents see a
listing only where it is offered, sign up once (Idempotency-Key), and find their sign-ups; the
partner follows its leads up. Suspending a partner takes everything down."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from activation.offers.models import Offer, OfferEstate
from activation.partners.models import PartnerLead
from core.extensions import db
from core.models import AuditEntry
from tests.activation.partners.conftest import SERVICE, approve, refused, submit_listing
from tests.concurrency import http_race
from tests.conftest import ON_POSTGRES


def offers_of(app, listing_id):
    with app.app_context():
        return [(o.kind, o.status, o.partner_id, sorted(db.session.scalars(sa.select(OfferEstate.estate_id).where(
            OfferEstate.offer_id == o.id)))) for o in db.session.scalars(
            sa.select(Offer).where(Offer.ref_id == listing_id, Offer.kind.in_(("partner_service", "announcement"))))]


def test_an_approved_listing_is_offered_in_the_estates_its_rule_matches_within_the_reach(
        app, client, admin, make_estate, make_partner, resident_in):
    shenzhen, guangzhou = make_estate(city="深圳市"), make_estate(city="广州市", district="天河区")
    shenzhen_villas = make_estate(city="深圳市", district="福田区")
    world = make_partner(reach={"cities": ["深圳市"]})
    # the partner asks for Futian and Tianhe; only Futian is within its reach
    listing = submit_listing(client, world.owner, audience_rule={"districts": ["福田区", "天河区"]})
    assert listing["status"] == "pending" and listing["audience_rule"] == {"districts": ["福田区", "天河区"]}
    in_futian, in_nanshan, in_tianhe = (resident_in(shenzhen_villas), resident_in(shenzhen), resident_in(guangzhou))
    url = f"/api/v1/partner-listings/{listing['id']}"
    refused(client.get(url, headers=in_futian.headers), 404, "listing_not_found")  # pending: nobody sees it

    queue = client.get("/api/v1/admin/partner-listings?status=pending", headers=admin.headers).json["items"]
    assert [x["id"] for x in queue] == [listing["id"]]
    approved = approve(client, admin, listing["id"], note="资料齐全")
    assert approved["status"] == "published" and approved["review_note"] == "资料齐全"
    assert offers_of(app, listing["id"]) == [("partner_service", "published", world.partner_id, [shenzhen_villas])]

    seen = client.get(url, headers=in_futian.headers)
    assert seen.status_code == 200, seen.json
    assert (seen.json["title"], seen.json["price_fen"], seen.json["signup_mode"], seen.json["estate_id"],
            seen.json["my_lead"]) == (SERVICE["title"], 19900, "platform", shenzhen_villas, None)
    assert seen.json["partner"]["id"] == world.partner_id and "contact_phone" not in seen.json["partner"]
    refused(client.get(url, headers=in_nanshan.headers), 404)  # not asked for
    refused(client.get(url, headers=in_tianhe.headers), 404)  # asked for, outside the reach
    assert client.get(url, headers=admin.headers).status_code == 200  # staff see it
    assert client.get(url, headers=world.owner.headers).status_code == 200  # so does its partner
    refused(client.post(f"/api/v1/admin/partner-listings/{listing['id']}/approve", headers=admin.headers, json={}),
            409, "already_decided")

    # the partner withdraws it: it leaves the estates at once
    withdrawn = client.post(f"/api/v1/partner/listings/{listing['id']}/withdraw", headers=world.owner.headers)
    assert withdrawn.status_code == 200 and withdrawn.json["status"] == "withdrawn"
    assert [o[1] for o in offers_of(app, listing["id"])] == ["withdrawn"]
    refused(client.get(url, headers=in_futian.headers), 404)
    refused(client.post(f"/api/v1/partner/listings/{listing['id']}/withdraw", headers=world.owner.headers),
            409, "not_withdrawable")


def test_moderation_rejects_with_a_reason_and_the_partner_resubmits(app, client, admin, agent, make_partner):
    world = make_partner()
    listing = submit_listing(client, world.owner, kind="announcement", title="本周六社区义剪", price_fen=None,
                             price_note="", signup_mode="none")
    reject_url = f"/api/v1/admin/partner-listings/{listing['id']}/reject"
    refused(client.post(reject_url, headers=agent.headers, json={"reason": "x"}), 403)
    error = refused(client.post(reject_url, headers=admin.headers, json={}), 422)
    assert error["details"]["fields"]["reason"] == ["必填"]
    rejected = client.post(reject_url, headers=admin.headers, json={"reason": "请补充活动地点"}).json
    assert (rejected["status"], rejected["review_note"]) == ("rejected", "请补充活动地点")
    mine = client.get(f"/api/v1/partner/listings/{listing['id']}", headers=world.owner.headers).json
    assert mine["review_note"] == "请补充活动地点"
    assert client.get("/api/v1/partner/listings?status=rejected", headers=world.owner.headers).json["items"][0][
        "id"] == listing["id"]

    edited = client.put(f"/api/v1/partner/listings/{listing['id']}", headers=world.owner.headers,
                        json={"kind": "announcement", "title": "本周六社区义剪", "body": "地点：3 号楼前广场"})
    assert edited.status_code == 200 and (edited.json["status"], edited.json["review_note"]) == ("pending", None)
    approve(client, admin, listing["id"])
    assert offers_of(app, listing["id"])[0][:2] == ("announcement", "published")
    refused(client.put(f"/api/v1/partner/listings/{listing['id']}", headers=world.owner.headers,
                       json={"kind": "announcement", "title": "改标题"}), 409, "listing_published")
    # an admin withdraws with a reason the partner reads (audited)
    refused(client.post(f"/api/v1/admin/partner-listings/{listing['id']}/withdraw", headers=admin.headers, json={}),
            422)
    taken = client.post(f"/api/v1/admin/partner-listings/{listing['id']}/withdraw", headers=admin.headers,
                        json={"reason": "内容与实际不符"}).json
    assert (taken["status"], taken["review_note"]) == ("withdrawn", "内容与实际不符")
    with app.app_context():
        actions = [a.action for a in db.session.scalars(sa.select(AuditEntry).where(
            AuditEntry.object_type == "partner_listing").order_by(AuditEntry.id))]
    assert actions == ["activation.listing.reject", "activation.listing.approve", "activation.listing.withdraw"]


def test_a_listing_is_checked_field_by_field_in_chinese(client, make_partner):
    world = make_partner()

    def fields_of(**changes):
        body = {**SERVICE, **changes}
        return refused(client.post("/api/v1/partner/listings", headers=world.owner.headers, json=body),
                       422)["details"]["fields"]

    assert fields_of(kind="announcement") == {"price_fen": ["公告没有价格"]}
    assert fields_of(kind="announcement", price_fen=None, price_note="") == {
        "signup_mode": ["公告不能在平台内报名，请发布为服务"]}
    assert fields_of(signup_mode="link") == {"link_url": ["请填写以 https:// 开头的报名链接"]}
    assert fields_of(signup_mode="link", link_url="http://example.com/x") == {
        "link_url": ["请填写以 https:// 开头的报名链接"]}
    assert fields_of(link_url="https://example.com/x") == {"link_url": ["只有“跳转外部链接”的报名方式需要链接"]}
    assert fields_of(title="a") == {"title": ["标题应为 2–64 个字"]}
    assert fields_of(price_fen=-1) == {"price_fen": ["价格应为 0–100 万元（以分计）"]}
    assert "照片" in fields_of(photos=["nonexistent.jpg"])["photos"][0]
    assert fields_of(audience_rule={"planet": ["火星"]}) == {"planet": ["不支持的筛选条件：planet"]}
    assert fields_of(show_from="2026-13-01T00:00:00") == {"show_from": ["时间格式不对，例如 2026-12-05T09:30:00+08:00"]}
    assert fields_of(show_until="2020-01-01T00:00:00+08:00") == {"show_until": ["结束时间须晚于开始时间和当前时间"]}
    assert fields_of(kind="ad") == {"kind": ["应为以下之一：announcement, service"]}
    # a link listing with its https link goes through
    assert submit_listing(client, world.owner, signup_mode="link", link_url="https://example.com/book")["link_url"] \
        == "https://example.com/book"


def _published(client, admin, world, **fields) -> dict:
    listing = submit_listing(client, world.owner, **fields)
    approve(client, admin, listing["id"])
    return listing


def test_a_resident_signs_up_once_with_an_idempotency_key_and_finds_it(
        app, client, admin, make_estate, make_partner, resident_in):
    estate = make_estate()
    world = make_partner()
    listing = _published(client, admin, world)
    resident = resident_in(estate, phone="13800001111")
    url = f"/api/v1/partner-listings/{listing['id']}/leads"
    headers = {**resident.headers, "Idempotency-Key": "signup-1"}
    first = client.post(url, headers=headers, json={"note": "周末上午方便"})
    assert first.status_code == 201, first.json
    assert (first.json["contact_phone"], first.json["note"], first.json["status"]) == ("13800001111", "周末上午方便", "new")
    again = client.post(url, headers=headers, json={"note": "周末上午方便"})
    assert again.status_code == 201 and again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    refused(client.post(url, headers=resident.headers, json={}), 409, "already_signed_up")
    refused(client.post(url, headers=headers, json={"note": "改了"}), 409, "idempotency_key_reused")

    detail = client.get(f"/api/v1/partner-listings/{listing['id']}", headers=resident.headers).json
    assert detail["my_lead"]["id"] == first.json["id"] and detail["my_lead"]["status"] == "new"
    mine = client.get("/api/v1/me/partner-leads", headers=resident.headers).json
    assert [(x["id"], x["listing"]["title"], x["listing"]["partner_name"]) for x in mine["items"]] == [
        (first.json["id"], SERVICE["title"], client.get("/api/v1/partner/me", headers=world.owner.headers)
         .json["partner"]["name"])]
    with app.app_context():
        lead = db.session.get(PartnerLead, first.json["id"])
        assert (lead.partner_id, lead.estate_id, lead.user_id) == (world.partner_id, estate, resident.user_id)

    # no confirmed phone and none given: asked for one; a typed one must be a mobile number
    other = resident_in(estate)
    error = refused(client.post(url, headers=other.headers, json={}), 422)
    assert error["details"]["fields"]["contact_phone"] == ["请填写联系电话"]
    error = refused(client.post(url, headers=other.headers, json={"contact_phone": "12345"}), 422)
    assert error["details"]["fields"]["contact_phone"] == ["请填写 11 位手机号"]
    assert client.post(url, headers=other.headers, json={"contact_phone": "139 0000 2222", "contact_name": "陈"}
                       ).json["contact_phone"] == "13900002222"

    # the partner follows up
    leads = client.get("/api/v1/partner/leads", headers=world.owner.headers).json["items"]
    assert {x["contact_phone"] for x in leads} == {"13800001111", "13900002222"}
    lead_url = f"/api/v1/partner/leads/{first.json['id']}"
    assert client.patch(lead_url, headers=world.owner.headers, json={"status": "contacted"}).json["status"] == "contacted"
    refused(client.patch(lead_url, headers=world.owner.headers, json={"status": "new"}), 422)
    assert client.get("/api/v1/partner/leads?status=contacted", headers=world.owner.headers).json["items"][0][
        "id"] == first.json["id"]
    assert client.get("/api/v1/me/partner-leads", headers=resident.headers).json["items"][0]["status"] == "contacted"


def test_only_platform_services_offered_to_me_take_sign_ups(client, admin, make_estate, make_partner, resident_in,
                                                            login):
    estate = make_estate()
    world = make_partner()
    link = _published(client, admin, world, signup_mode="link", link_url="https://example.com/book")
    resident = resident_in(estate, phone="13800003333")
    refused(client.post(f"/api/v1/partner-listings/{link['id']}/leads", headers=resident.headers, json={}),
            409, "signup_closed")
    platform = _published(client, admin, world)
    # someone living in no estate is offered nothing
    refused(client.post(f"/api/v1/partner-listings/{platform['id']}/leads", headers=login().headers, json={}), 404)
    refused(client.post("/api/v1/partner-listings/999999/leads", headers=resident.headers, json={}), 404)
    refused(client.post(f"/api/v1/partner-listings/{platform['id']}/leads", json={}), 401)


def test_suspending_a_partner_takes_its_listings_and_offers_down(app, client, admin, make_estate, make_partner,
                                                                 resident_in):
    estate = make_estate()
    world = make_partner()
    listing = _published(client, admin, world)
    pending = submit_listing(client, world.owner, title="待审核的服务")
    resident = resident_in(estate)
    assert client.get(f"/api/v1/partner-listings/{listing['id']}", headers=resident.headers).status_code == 200
    r = client.post(f"/api/v1/admin/partners/{world.partner_id}/decisions", headers=admin.headers,
                    json={"action": "suspend", "note": "资质到期"})
    assert r.status_code == 200, r.json
    assert [o[1] for o in offers_of(app, listing["id"])] == ["withdrawn"]
    mine = client.get(f"/api/v1/partner/listings/{listing['id']}", headers=world.owner.headers).json
    assert (mine["status"], mine["review_note"]) == ("withdrawn", "合作已暂停：资质到期")
    refused(client.get(f"/api/v1/partner-listings/{listing['id']}", headers=resident.headers), 404)
    # its pending listing cannot be approved while suspended
    refused(client.post(f"/api/v1/admin/partner-listings/{pending['id']}/approve", headers=admin.headers, json={}),
            409, "partner_not_approved")
    # reinstated: nothing comes back by itself; the partner resubmits
    client.post(f"/api/v1/admin/partners/{world.partner_id}/decisions", headers=admin.headers,
                json={"action": "reinstate"})
    refused(client.get(f"/api/v1/partner-listings/{listing['id']}", headers=resident.headers), 404)
    resubmitted = client.put(f"/api/v1/partner/listings/{listing['id']}", headers=world.owner.headers, json=SERVICE)
    assert resubmitted.json["status"] == "pending"
    approve(client, admin, listing["id"])
    assert client.get(f"/api/v1/partner-listings/{listing['id']}", headers=resident.headers).status_code == 200


def test_a_new_reach_matches_the_live_offers_again(app, client, admin, make_estate, make_partner, resident_in):
    shenzhen, guangzhou = make_estate(city="深圳市"), make_estate(city="广州市")
    world = make_partner(reach={"cities": ["深圳市"]})
    listing = _published(client, admin, world)
    in_guangzhou = resident_in(guangzhou)
    refused(client.get(f"/api/v1/partner-listings/{listing['id']}", headers=in_guangzhou.headers), 404)
    assert offers_of(app, listing["id"])[0][3] == [shenzhen]
    r = client.put(f"/api/v1/admin/partners/{world.partner_id}/reach", headers=admin.headers,
                   json={"reach_rule": {"cities": ["深圳市", "广州市"]}})
    assert r.status_code == 200, r.json
    assert offers_of(app, listing["id"])[0][3] == sorted([shenzhen, guangzhou])
    assert client.get(f"/api/v1/partner-listings/{listing['id']}", headers=in_guangzhou.headers).status_code == 200


@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (SQLite serialises writers)")
def test_concurrent_sign_ups_of_one_resident_make_one_lead(app, client, admin, make_estate, make_partner, resident_in):
    estate = make_estate()
    world = make_partner()
    listing = _published(client, admin, world)
    resident = resident_in(estate, phone="13800004444")
    url = f"/api/v1/partner-listings/{listing['id']}/leads"
    responses = http_race(app, [lambda c: c.post(url, headers=resident.headers, json={})] * 8)
    assert sorted(r.status_code for r in responses) == [201] + [409] * 7
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PartnerLead)) == 1
