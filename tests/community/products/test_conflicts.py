"""Serial conflicts settled by agents: keep (the owner keeps it), move (the claimant gets it, the
previous owner loses it, audited), reject; each once; the claimant is told; only staff decide."""
from datetime import timedelta

import sqlalchemy as sa

from community.products import services
from tests.community.products.conftest import err
from tests.conftest import flashes, html, post_form


def conflict(client, catalogue, owner, claimant, serial="SN-1", **claim):
    assert client.post("/api/v1/me/products", headers=owner.headers, json={
        "model_id": catalogue.purifier, "serial": serial,
        "install_date": (services.today() - timedelta(days=100)).isoformat()}).status_code == 201
    r = client.post("/api/v1/me/products", headers=claimant.headers, json={
        "model_id": catalogue.purifier, "serial": serial, **claim})
    assert r.status_code == 409
    return r.json["error"]["details"]["conflict_id"]


def test_move_gives_the_product_to_the_claimant_and_records_who_had_it(app, client, catalogue, resident, login,
                                                                      agent, estate, schedules):
    from community.products.models import Product
    from core.extensions import db
    from core.models import AuditEntry
    from core.notifications.models import Notification

    claimant = login()
    client.post("/api/v1/me/estates", headers=claimant.headers, json={"estate_id": estate})
    conflict_id = conflict(client, catalogue, resident, claimant, estate_id=estate, address="9栋 101")
    listed = client.get("/api/v1/admin/product-conflicts", headers=agent.headers).json["items"]
    assert [(c["id"], c["product"]["serial"], c["product"]["owner_id"], c["claimant"]["id"]) for c in listed] == [
        (conflict_id, "SN-1", resident.user_id, claimant.user_id)]
    r = client.post(f"/api/v1/admin/product-conflicts/{conflict_id}/resolve", headers=agent.headers,
                    json={"decision": "move", "note": "购房合同核实，设备随房转让"})
    assert r.status_code == 200, r.json
    assert (r.json["status"], r.json["resolution"], r.json["product"]["owner_id"]) == (
        "resolved", "moved", claimant.user_id)
    mine = client.get("/api/v1/me/products", headers=claimant.headers).json["items"]
    assert [(p["serial"], p["estate_id"], p["address"]) for p in mine] == [("SN-1", estate, "9栋 101")]
    assert client.get("/api/v1/me/products", headers=resident.headers).json["items"] == []
    assert len(schedules(mine[0]["id"])) == 2  # rescheduled for the new household
    again = client.post(f"/api/v1/admin/product-conflicts/{conflict_id}/resolve", headers=agent.headers,
                        json={"decision": "keep"})
    assert again.status_code == 409 and err(again) == "conflict_already_resolved"
    with app.app_context():
        entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "product_conflict.move")).one()
        assert entry.before["owner_id"] == resident.user_id and entry.after["owner_id"] == claimant.user_id
        assert entry.actor_id == agent.user_id and entry.after["conflict_id"] == conflict_id
        assert db.session.get(Product, mine[0]["id"]).owner_phone is None
        notice = db.session.scalars(sa.select(Notification).where(Notification.user_id == claimant.user_id)).one()
        assert "已登记到您的名下" in notice.body and "购房合同核实" in notice.body
    # the claimant registering it now is their own product
    assert client.post("/api/v1/me/products", headers=claimant.headers, json={
        "model_id": catalogue.purifier, "serial": "SN-1"}).status_code == 200


def test_keep_and_reject_leave_the_product_and_tell_the_claimant(app, client, catalogue, resident, login, admin):
    from core.extensions import db
    from core.notifications.models import Notification

    claimant = login()
    first = conflict(client, catalogue, resident, claimant, serial="SN-2")
    r = client.post(f"/api/v1/admin/product-conflicts/{first}/resolve", headers=admin.headers, json={"decision": "keep"})
    assert r.status_code == 200 and r.json["resolution"] == "kept"
    assert [p["serial"] for p in client.get("/api/v1/me/products", headers=resident.headers).json["items"]] == ["SN-2"]
    # claiming it again: the decision stands (no new conflict)
    r = client.post("/api/v1/me/products", headers=claimant.headers, json={"model_id": catalogue.purifier,
                                                                           "serial": "SN-2"})
    assert r.status_code == 409 and err(r) == "serial_conflict_decided"
    assert r.json["error"]["details"]["conflict_id"] == first
    second = conflict(client, catalogue, resident, claimant, serial="SN-3")
    r = client.post(f"/api/v1/admin/product-conflicts/{second}/resolve", headers=admin.headers,
                    json={"decision": "reject", "note": "序列号填写有误"})
    assert r.json["resolution"] == "rejected"
    resolved = client.get("/api/v1/admin/product-conflicts?status=resolved", headers=admin.headers).json["items"]
    assert [c["id"] for c in resolved] == [second, first]
    assert client.get("/api/v1/admin/product-conflicts", headers=admin.headers).json["items"] == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(Notification.user_id == claimant.user_id)) == 2


def test_only_staff_settle_conflicts(client, catalogue, resident, login, make_engineer, estate):
    claimant = login()
    conflict_id = conflict(client, catalogue, resident, claimant)
    for who in (claimant, resident, make_engineer([estate])):
        r = client.post(f"/api/v1/admin/product-conflicts/{conflict_id}/resolve", headers=who.headers,
                        json={"decision": "move"})
        assert r.status_code == 403
    assert client.post("/api/v1/admin/product-conflicts/1/resolve", headers=resident.headers,
                       json={"decision": "fly"}).status_code in (403, 422)


def test_the_conflicts_page_settles_a_conflict(app, client, console, catalogue, resident, login):
    claimant = login()
    conflict_id = conflict(client, catalogue, resident, claimant, serial="SN-7", address="2栋 801")
    page = client.get("/admin/products/conflicts")
    assert page.status_code == 200
    text = html(page)
    assert "SN-7" in text and "2栋 801" in text and 'data-label="申请人"' in text
    r = post_form(client, "/admin/products/conflicts", f"/admin/products/conflicts/{conflict_id}/resolve",
                  {"decision": "keep", "note": "原主有购买发票", "next": "/admin/products/conflicts"},
                  follow_redirects=True)
    assert f"冲突 #{conflict_id} 已维持原主" in flashes(r)
    assert "没有待核实的冲突" in html(r)
    assert "原主有购买发票" in html(client.get("/admin/products/conflicts?status=resolved"))
