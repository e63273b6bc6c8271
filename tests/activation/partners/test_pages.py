"""The partner pages: an admin enters, approves and staffs a partner and moderates its listings in
the console; the partner's staff publish, follow their sign-ups up and manage their colleagues."""
from __future__ import annotations

import io
import re

import sqlalchemy as sa
from PIL import Image

from activation.partners.models import Partner, PartnerListing
from core.extensions import db
from tests.activation.partners.conftest import submit_listing, web_client
from tests.conftest import csrf_token, flashes, html, post_form


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), (200, 120, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def test_an_admin_enters_approves_staffs_and_scopes_a_partner(app, console):
    r = post_form(console, "/admin/partners/new", "/admin/partners/new", {
        "name": "顺心洗衣", "category": "洗衣洗护", "description": "上门取送", "contact_name": "周店长",
        "contact_phone": "13700001111", "code": ""})
    assert r.status_code == 302, flashes(r) or html(r)[:2000]
    with app.app_context():
        partner = db.session.scalar(sa.select(Partner).where(Partner.name == "顺心洗衣"))
        partner_id, code = partner.id, partner.code
    detail = f"/admin/partners/{partner_id}"
    page = html(console.get(detail))
    assert code in page and "待审核" in page
    assert "顺心洗衣" in html(console.get("/admin/partners?status=pending"))

    r = post_form(console, detail, f"/admin/partners/{partner_id}/decide", {"action": "reject", "note": ""})
    assert "拒绝必须填写说明" in flashes(console.get(r.headers["Location"]))
    r = post_form(console, detail, f"/admin/partners/{partner_id}/decide", {"action": "approve", "note": "资料齐全"})
    assert flashes(console.get(r.headers["Location"])) == ["已通过"]
    assert "合作中" in html(console.get(detail))

    r = post_form(console, detail, f"/admin/partners/{partner_id}/reach", {"reach_rule": "not json"})
    assert "覆盖范围须为 JSON 对象" in flashes(console.get(r.headers["Location"]))[0]
    r = post_form(console, detail, f"/admin/partners/{partner_id}/reach", {"reach_rule": '{"cities": ["深圳市"]}'})
    page = console.get(r.headers["Location"])
    assert flashes(page) == ["覆盖范围已保存，在线展示已按新范围重新匹配"] and "城市：深圳市" in html(page)

    r = post_form(console, detail, f"/admin/partners/{partner_id}/staff", {
        "username": "shunxin", "display_name": "周店长", "password": "shunxin-pass-1", "owner": "y"})
    assert flashes(console.get(r.headers["Location"])) == ["员工账号 shunxin 已创建，可在 /login 登录"]
    r = post_form(console, detail, f"/admin/partners/{partner_id}/staff", {"username": "weak", "password": "123"})
    assert flashes(console.get(r.headers["Location"])) == ["密码至少 8 位"]
    staff, target = web_client(app, "shunxin", "shunxin-pass-1")
    assert target.endswith("/partner/") and "顺心洗衣" in html(staff.get("/partner/"))
    # the admin sees what the partner sees
    assert "覆盖小区" in html(console.get(f"/admin/partners/{partner_id}/dashboard"))

    r = post_form(console, f"/admin/partners/{partner_id}/edit", f"/admin/partners/{partner_id}/edit", {
        "name": "顺心洗衣", "category": "洗衣洗护", "description": "改过的简介", "contact_name": "周店长",
        "contact_phone": "13700001111"}, content_type="multipart/form-data")
    assert r.status_code == 302
    assert "改过的简介" in html(console.get(detail))


def test_a_partner_publishes_through_moderation_and_follows_its_sign_ups(
        app, client, console, make_partner, make_estate, resident_in):
    estate = make_estate()
    world = make_partner(name="好邻居保洁")
    web, _ = web_client(app, world.owner_username)
    form_url = "/partner/listings/new"
    data = {"kind": "service", "title": "厨房深度清洁", "body": "油烟机拆洗", "price": "129.5", "price_note": "/次",
            "signup_mode": "platform", "link_url": "", "cities": "", "estate_ids": str(estate),
            "photo_files": (io.BytesIO(png()), "kitchen.png")}
    bad = post_form(web, form_url, form_url, {**data, "price": "12.345", "photo_files": (io.BytesIO(b""), "")},
                    content_type="multipart/form-data")
    assert bad.status_code == 200 and "请填写金额，例如 99 或 99.50" in html(bad)
    r = post_form(web, form_url, form_url, data, content_type="multipart/form-data")
    assert r.status_code == 302, html(r)[:3000]
    with app.app_context():
        listing = db.session.scalar(sa.select(PartnerListing).where(PartnerListing.title == "厨房深度清洁"))
        assert (listing.status, listing.price_fen, listing.audience_rule, len(listing.photos)) == (
            "pending", 12950, {"estate_ids": [estate]}, 1)
        listing_id = listing.id
    page = html(web.get(f"/partner/listings/{listing_id}"))
    assert "待审核" in page and f"小区 #{estate}" in page

    queue = html(console.get("/admin/partners/listings"))
    assert "厨房深度清洁" in queue and "好邻居保洁" in queue
    detail = f"/admin/partners/listings/{listing_id}"
    r = post_form(console, detail, f"{detail}/approve", {"note": ""})
    assert flashes(console.get(r.headers["Location"])) == [f"#{listing_id} 已通过并发布到匹配的小区"]
    assert 'data-testid="offer-matched">1<' in html(web.get(f"/partner/listings/{listing_id}"))

    resident = resident_in(estate, phone="13800005555")
    assert client.post(f"/api/v1/partner-listings/{listing_id}/leads", headers=resident.headers,
                       json={"note": "下午方便"}).status_code == 201
    leads = html(web.get("/partner/leads"))
    assert "13800005555" in leads and "下午方便" in leads
    lead_id = re.search(r'data-testid="lead-row" data-id="(\d+)"', leads).group(1)
    r = post_form(web, "/partner/leads", f"/partner/leads/{lead_id}/status", {"status": "contacted"})
    assert flashes(web.get(r.headers["Location"])) == ["已标记为“已联系”"]
    assert "已联系" in html(web.get("/partner/leads?status=contacted"))

    # published: the edit page sends the partner back; withdrawing takes it down
    assert web.get(f"/partner/listings/{listing_id}/edit").status_code == 302
    r = post_form(web, f"/partner/listings/{listing_id}", f"/partner/listings/{listing_id}/withdraw", {})
    assert flashes(web.get(r.headers["Location"])) == ["已撤下，住户将不再看到该内容"]
    assert client.get(f"/api/v1/partner-listings/{listing_id}", headers=resident.headers).status_code == 404


def test_moderators_reject_with_a_reason_the_partner_reads(app, client, console, make_partner):
    world = make_partner()
    listing = submit_listing(client, world.owner)
    detail = f"/admin/partners/listings/{listing['id']}"
    r = post_form(console, detail, f"{detail}/reject", {"reason": "价格说明不清楚"})
    assert flashes(console.get(r.headers["Location"])) == [f"#{listing['id']} 已驳回，伙伴可修改后重新提交"]
    web, _ = web_client(app, world.owner_username)
    edit = html(web.get(f"/partner/listings/{listing['id']}/edit"))
    assert "驳回原因：价格说明不清楚" in edit
    token = csrf_token(edit)
    r = web.post(f"/partner/listings/{listing['id']}/edit", data={
        "csrf_token": token, "kind": "service", "title": "深度保洁 3 小时", "body": "含工具", "price": "199",
        "price_note": "起（不含耗材）", "signup_mode": "platform"})
    assert r.status_code == 302, html(r)[:2000]
    assert "待审核" in html(web.get(f"/partner/listings/{listing['id']}"))


def test_an_owner_adds_staff_in_the_console_and_every_partner_page_opens(app, make_partner, add_staff, client):
    world = make_partner()
    web, _ = web_client(app, world.owner_username)
    r = post_form(web, "/partner/staff", "/partner/staff", {"username": "helper-1", "password": "helper-pass-1"})
    assert flashes(web.get(r.headers["Location"])) == ["员工账号 helper-1 已创建，可在 /login 登录"]
    assert "helper-1" in html(web.get("/partner/staff"))
    for url in ("/partner/", "/partner/listings", "/partner/listings/new", "/partner/leads", "/partner/audience",
                "/partner/audience?tab=activities", "/partner/staff", "/partner/orders"):
        response = web.get(url)
        assert response.status_code == 200, url
        assert "伙伴概览" in html(response)  # the partner's own navigation, never the admin's
        assert "代言人" not in html(response)
    # a plain staff member sees the staff but cannot add any
    username, _ = add_staff(client, world.partner_id)
    plain, _ = web_client(app, username)
    assert "只有负责人可以添加或移除员工账号" in html(plain.get("/partner/staff"))
    r = post_form(plain, "/partner/staff", "/partner/staff", {"username": "sneaky", "password": "sneaky-pass-1"})
    assert flashes(plain.get(r.headers["Location"])) == ["只有伙伴的负责人可以管理员工账号"]


def test_the_admin_partner_pages_open(console, make_partner, client):
    world = make_partner()
    submit_listing(client, world.owner)
    for url in ("/admin/partners", "/admin/partners?status=approved", f"/admin/partners/{world.partner_id}",
                f"/admin/partners/{world.partner_id}/edit", "/admin/partners/new", "/admin/partners/listings",
                "/admin/partners/listings?status=&kind=service", f"/admin/partners/{world.partner_id}/dashboard"):
        assert console.get(url).status_code == 200, url
    assert console.get("/admin/partners?status=nope").status_code == 404
    assert console.get("/admin/partners/999999").status_code == 404
