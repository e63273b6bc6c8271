"""Who may organise activities and for which estates: admins anywhere (published at once),
ambassadors whose level has `lead_activities` in the estates they serve (published at once),
approved partners within their reach (pending until an admin approves); each organiser side
reaches only its own activities."""
from tests.activation.activities.conftest import error


def listed(client, estate_id, account):
    r = client.get(f"/api/v1/estates/{estate_id}/activities", headers=account.headers)
    assert r.status_code == 200, r.json
    return [a["id"] for a in r.json["items"]]


# -- admins -----------------------------------------------------------------------------------

def test_an_admin_publishes_for_listed_estates_at_once(client, make_estate, resident, make_activity, admin):
    here, there = make_estate(), make_estate()
    activity = make_activity([here])
    assert activity["status"] == "published" and activity["organizer"]["kind"] == "admin"
    assert activity["organizer"]["name"] == "邻里社区" and activity["estate_count"] == 1
    assert activity["estate_ids"] == [here] and len(activity["checkin_token"]) == 16
    assert listed(client, here, resident(here)) == [activity["id"]]
    assert listed(client, there, resident(there)) == []


def test_agents_and_residents_may_not_use_the_admin_api(client, make_estate, agent, resident, activity_body):
    estate = make_estate()
    for account in (agent, resident(estate)):
        r = client.post("/api/v1/admin/activities", headers=account.headers, json=activity_body([estate]))
        assert r.status_code == 403 and error(r) == "forbidden"


def test_an_admin_audience_rule_is_precomputed(app, client, make_estate, make_activity, resident):
    from activation.activities.models import ActivityEstate
    from core.extensions import db

    shenzhen = [make_estate(), make_estate()]
    guangzhou = make_estate(city="广州市")
    activity = make_activity(audience_rule={"cities": ["深圳市"]})
    with app.app_context():
        rows = set(db.session.scalars(db.select(ActivityEstate.estate_id).where(
            ActivityEstate.activity_id == activity["id"])))
    assert rows == set(shenzhen) and activity["audience_rule"] == {"cities": ["深圳市"]}
    assert listed(client, guangzhou, resident(guangzhou)) == []


def test_a_rule_matching_nothing_or_both_audiences_is_refused(client, admin, make_estate, activity_body):
    estate = make_estate()
    r = client.post("/api/v1/admin/activities", headers=admin.headers,
                    json=activity_body(audience_rule={"cities": ["拉萨市"]}))
    assert r.status_code == 422 and error(r) == "audience_empty"
    r = client.post("/api/v1/admin/activities", headers=admin.headers,
                    json=activity_body([estate], audience_rule={"cities": ["深圳市"]}))
    assert r.status_code == 422 and "audience_rule" in r.json["error"]["details"]["fields"]
    r = client.post("/api/v1/admin/activities", headers=admin.headers, json=activity_body())
    assert r.status_code == 422 and "estate_ids" in r.json["error"]["details"]["fields"]


def test_field_errors_come_in_the_one_shape(client, admin, make_estate, activity_body):
    from tests.activation.activities.conftest import later
    estate = make_estate()
    cases = [({"starts_at": later(hours=-1)}, "starts_at"), ({"ends_at": later(days=1)}, "ends_at"),
             ({"signup_deadline": later(days=3)}, "signup_deadline"), ({"capacity": 0}, "capacity"),
             ({"title": "x"}, "title"), ({"photos": ["nope.jpg"]}, "photos"),
             ({"ends_at": later(days=40)}, "ends_at")]
    for change, field in cases:
        r = client.post("/api/v1/admin/activities", headers=admin.headers, json=activity_body([estate], **change))
        assert r.status_code == 422, (change, r.json)
        assert set(r.json["error"]) == {"code", "message", "details"} and field in r.json["error"]["details"]["fields"]


# -- ambassadors ------------------------------------------------------------------------------

def test_a_gold_ambassador_organises_in_the_estates_they_serve(client, make_estate, make_ambassador, make_activity,
                                                               activity_body, resident):
    mine, other = make_estate(), make_estate()
    amb = make_ambassador(level=3, estate_ids=[mine])
    activity = make_activity([mine], by=amb)
    assert activity["status"] == "published" and activity["organizer"]["kind"] == "ambassador"
    assert listed(client, mine, resident(mine)) == [activity["id"]]
    r = client.post("/api/v1/activities", headers=amb.headers, json=activity_body([mine, other]))
    assert r.status_code == 422 and error(r) == "estate_out_of_reach"
    assert r.json["error"]["details"]["estate_ids"] == [other]
    # A rule reaches only their estates: {} matches every active estate, intersected with theirs.
    activity = make_activity(by=amb, audience_rule={})
    assert activity["estate_ids"] == [mine]
    me = client.get("/api/v1/organizer/me", headers=amb.headers).json
    assert me == {"may_organize": True, "kind": "ambassador", "estate_ids": [mine], "reason": None}


def test_ambassadors_without_the_permission_and_residents_are_refused(client, make_estate, make_ambassador, login,
                                                                      activity_body):
    estate = make_estate()
    silver = make_ambassador(level=1, estate_ids=[estate])
    r = client.post("/api/v1/activities", headers=silver.headers, json=activity_body([estate]))
    assert r.status_code == 403 and error(r) == "permission_denied"
    nobody = login()
    r = client.post("/api/v1/activities", headers=nobody.headers, json=activity_body([estate]))
    assert r.status_code == 403 and error(r) == "not_an_ambassador"
    me = client.get("/api/v1/organizer/me", headers=nobody.headers).json
    assert me["may_organize"] is False and me["reason"] == "仅限服务代言人使用"


def test_only_admins_set_points_and_ambassadors_attach_no_coupons(client, make_estate, make_ambassador, activity_body,
                                                                 make_activity, admin):
    estate = make_estate()
    amb = make_ambassador(level=3, estate_ids=[estate])
    r = client.post("/api/v1/activities", headers=amb.headers, json=activity_body([estate], points_reward=50))
    assert r.status_code == 422 and "points_reward" in r.json["error"]["details"]["fields"]
    activity = make_activity([estate], by=amb)
    r = client.patch(f"/api/v1/activities/{activity['id']}", headers=admin.headers, json={"points_reward": 50})
    assert r.status_code == 200 and r.json["points_reward"] == 50


# -- partners ---------------------------------------------------------------------------------

def test_a_partners_activity_waits_for_an_admins_approval(client, make_estate, make_partner, make_activity, admin,
                                                         resident):
    estate = make_estate()
    partner = make_partner(reach={"estate_ids": [estate]})
    activity = make_activity([estate], by=partner.staff)
    assert activity["status"] == "pending" and activity["partner_id"] == partner.partner_id
    neighbour = resident(estate)
    assert listed(client, estate, neighbour) == []
    assert client.get(f"/api/v1/activities/{activity['id']}", headers=neighbour.headers).status_code == 404
    r = client.post(f"/api/v1/activities/{activity['id']}/signups", headers=neighbour.headers, json={})
    assert r.status_code == 404
    queue = client.get("/api/v1/admin/activities?status=pending", headers=admin.headers).json["items"]
    assert [a["id"] for a in queue] == [activity["id"]]
    r = client.post(f"/api/v1/admin/activities/{activity['id']}/review", headers=admin.headers, json={"action": "approve"})
    assert r.status_code == 200 and r.json["status"] == "published"
    assert listed(client, estate, neighbour) == [activity["id"]]
    r = client.post(f"/api/v1/admin/activities/{activity['id']}/review", headers=admin.headers, json={"action": "reject",
                                                                                                    "note": "晚了"})
    assert r.status_code == 409 and error(r) == "already_decided"


def test_a_rejection_needs_a_note_and_an_edit_goes_back_to_review(client, make_estate, make_partner, make_activity,
                                                                  admin):
    estate = make_estate()
    partner = make_partner(reach={"estate_ids": [estate]})
    activity = make_activity([estate], by=partner.staff)
    url = f"/api/v1/admin/activities/{activity['id']}/review"
    r = client.post(url, headers=admin.headers, json={"action": "reject"})
    assert r.status_code == 422 and "note" in r.json["error"]["details"]["fields"]
    r = client.post(url, headers=admin.headers, json={"action": "reject", "note": "照片不清楚"})
    assert r.status_code == 200 and r.json["status"] == "rejected" and r.json["review_note"] == "照片不清楚"
    r = client.patch(f"/api/v1/activities/{activity['id']}", headers=partner.staff.headers, json={"title": "亲子手工课（新）"})
    assert r.status_code == 200 and r.json["status"] == "pending" and r.json["review_note"] is None
    assert client.post(url, headers=admin.headers, json={"action": "approve"}).json["status"] == "published"
    r = client.patch(f"/api/v1/activities/{activity['id']}", headers=partner.staff.headers, json={"place": "会所二楼"})
    assert r.status_code == 200 and r.json["status"] == "pending"  # what residents see is moderated again


def test_a_partner_reaches_only_its_estates_and_must_be_approved(client, make_estate, make_partner, activity_body):
    inside, outside = make_estate(), make_estate()
    partner = make_partner(reach={"estate_ids": [inside]})
    r = client.post("/api/v1/activities", headers=partner.staff.headers, json=activity_body([inside, outside]))
    assert r.status_code == 422 and error(r) == "estate_out_of_reach"
    r = client.post("/api/v1/activities", headers=partner.staff.headers, json=activity_body(audience_rule={}))
    assert r.status_code == 201 and r.json["estate_ids"] == [inside]
    r = client.post("/api/v1/activities", headers=partner.staff.headers,
                    json=activity_body([inside], points_reward=10))
    assert r.status_code == 422 and "points_reward" in r.json["error"]["details"]["fields"]
    waiting = make_partner(status="pending")
    r = client.post("/api/v1/activities", headers=waiting.staff.headers, json=activity_body([inside]))
    assert r.status_code == 403 and error(r) == "partner_not_approved"


def test_a_partner_attaches_only_its_own_coupons(app, client, make_estate, make_partner, activity_body, admin):
    from activation.coupons import services as coupons
    from core.accounts import services as accounts
    from core.extensions import db

    estate = make_estate()
    partner = make_partner(reach={})
    with app.app_context():
        actor = accounts.get_user(admin.user_id)
        base = {"kind": "amount", "amount_fen": 500, "valid_days": 30}
        own = coupons.create_template({**base, "name": "伙伴券", "partner_id": partner.partner_id}, actor).id
        platform = coupons.create_template({**base, "name": "平台券"}, actor).id
        db.session.commit()
    r = client.post("/api/v1/activities", headers=partner.staff.headers,
                    json=activity_body([estate], coupon_template_id=platform))
    assert r.status_code == 422 and "coupon_template_id" in r.json["error"]["details"]["fields"]
    r = client.post("/api/v1/activities", headers=partner.staff.headers,
                    json=activity_body([estate], coupon_template_id=own))
    assert r.status_code == 201 and r.json["coupon"]["name"] == "伙伴券"


# -- object-level access -----------------------------------------------------------------------

def test_organisers_reach_only_their_own_activities(client, make_estate, make_ambassador, make_partner, make_activity,
                                                    resident, sign_up, agent, admin):
    estate = make_estate()
    amb, rival = make_ambassador(level=3, estate_ids=[estate]), make_ambassador(level=3, estate_ids=[estate])
    partner = make_partner(reach={})
    activity = make_activity([estate], by=amb)
    assert sign_up(activity["id"], resident(estate)).status_code == 200
    aid = activity["id"]
    for outsider in (rival, partner.staff, resident(estate)):
        for method, path, body in (("get", f"/api/v1/activities/{aid}/attendees", None),
                                   ("get", f"/api/v1/activities/{aid}/attendees.csv", None),
                                   ("get", f"/api/v1/activities/{aid}/manage", None),
                                   ("patch", f"/api/v1/activities/{aid}", {"title": "别人的活动"}),
                                   ("post", f"/api/v1/activities/{aid}/cancel", {"reason": "捣乱"}),
                                   ("post", f"/api/v1/activities/{aid}/check-ins", {"code": "ABCDEFGH"})):
            r = getattr(client, method)(path, headers=outsider.headers, json=body)
            assert r.status_code == 404 and error(r) == "activity_not_found", (path, r.json)
        mine = client.get("/api/v1/organizer/activities", headers=outsider.headers).json["items"]
        assert aid not in [a["id"] for a in mine]
    assert [a["id"] for a in client.get("/api/v1/organizer/activities", headers=amb.headers).json["items"]] == [aid]
    # Agents read every attendee list; they manage nothing.
    assert client.get(f"/api/v1/activities/{aid}/attendees", headers=agent.headers).json["items"]
    assert client.post(f"/api/v1/activities/{aid}/cancel", headers=agent.headers,
                       json={"reason": "x"}).status_code == 404
    assert client.get(f"/api/v1/activities/{aid}/attendees", headers=admin.headers).status_code == 200


def test_a_partners_staff_share_the_partners_activities(app, client, make_estate, make_partner, make_activity, admin):
    from activation.partners import services
    from core.accounts import services as accounts
    from core.extensions import db

    estate = make_estate()
    partner = make_partner(reach={})
    activity = make_activity([estate], by=partner.staff)
    with app.app_context():
        services.add_staff(partner.partner_id, {"username": "colleague", "password": "partner-pass-1"},
                           accounts.get_user(admin.user_id))
        db.session.commit()
    token = client.post("/api/v1/auth/password-login", json={"username": "colleague", "password": "partner-pass-1"}).json
    headers = {"Authorization": f"Bearer {token['token']}"}
    assert client.get(f"/api/v1/activities/{activity['id']}/manage", headers=headers).status_code == 200
    mine = client.get("/api/v1/organizer/activities", headers=headers).json["items"]
    assert [a["id"] for a in mine] == [activity["id"]]


def test_cancelling_notifies_everyone_signed_up(app, client, make_estate, make_activity, resident, sign_up, admin):
    from core.notifications.models import Notification
    from tests.concurrency import count

    estate = make_estate()
    activity = make_activity([estate], capacity=1)
    people = [resident(estate) for _ in range(3)]
    for person in people:
        assert sign_up(activity["id"], person).status_code == 200
    url = f"/api/v1/activities/{activity['id']}/cancel"
    assert client.post(url, headers=admin.headers, json={}).status_code == 422
    r = client.post(url, headers=admin.headers, json={"reason": "暴雨预警"})
    assert r.status_code == 200 and r.json["status"] == "cancelled" and r.json["cancelled_reason"] == "暴雨预警"
    assert count(app, Notification, kind="activity") == 3
    notice = client.get("/api/v1/me/notifications", headers=people[2].headers).json["items"][0]
    assert "暴雨预警" in notice["body"]
    assert client.post(url, headers=admin.headers, json={"reason": "再取消"}).status_code == 409
    r = sign_up(activity["id"], resident(estate))
    assert r.status_code == 409 and error(r) == "activity_cancelled"
    assert client.get(f"/api/v1/estates/{estate}/activities", headers=people[0].headers).json["items"] == []


def upload(client, who) -> str:
    import io

    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", (30, 20), (250, 120, 0)).save(out, "JPEG")
    r = client.post("/api/v1/uploads", headers=who.headers, data={"file": (io.BytesIO(out.getvalue()), "a.jpg")},
                    content_type="multipart/form-data")
    assert r.status_code == 201, r.json
    return r.json["id"]


def test_photos_are_the_organisers_own_uploads(client, admin, make_estate, make_activity, make_ambassador,
                                               activity_body):
    estate = make_estate()
    mine = upload(client, admin)
    activity = make_activity([estate], photos=[mine])
    assert activity["photos"] == [f"http://linli.test/api/v1/uploads/{mine}"] and activity["photo_names"] == [mine]
    amb = make_ambassador(level=3, estate_ids=[estate])
    r = client.post("/api/v1/activities", headers=amb.headers, json=activity_body([estate], photos=[mine]))
    assert r.status_code == 422 and "photos" in r.json["error"]["details"]["fields"]  # someone else's upload
    # An edit keeps the photos it had without re-checking them, and drops the ones left out.
    second = upload(client, admin)
    r = client.patch(f"/api/v1/activities/{activity['id']}", headers=admin.headers, json={"photos": [second, mine]})
    assert r.status_code == 200 and r.json["photo_names"] == [second, mine]


def test_requests_fail_in_the_one_error_shape(client, admin, make_estate, make_activity, resident):
    estate = make_estate()
    activity = make_activity([estate])
    person = resident(estate)
    cases = [
        (client.get(f"/api/v1/activities/{activity['id']}"), 401, "unauthorized"),
        (client.get("/api/v1/activities/123456789", headers=person.headers), 404, "activity_not_found"),
        (client.post("/api/v1/admin/activities", headers=admin.headers, json={"title": "缺字段"}), 422,
         "validation_error"),
        (client.post("/api/v1/admin/activities", headers=admin.headers,
                     json={"title": "活动", "place": "活动室", "starts_at": "明天", "ends_at": "后天", "capacity": "多"}),
         422, "validation_error"),
        (client.post(f"/api/v1/activities/{activity['id']}/check-ins", headers=person.headers, json={"code": "A",
                                                                                                     "token": "B"}),
         422, "validation_error"),
        (client.get(f"/api/v1/activities/{activity['id']}/attendees?status=nope", headers=admin.headers), 422,
         "validation_error"),
        (client.get("/api/v1/me/activities?cursor=%%%", headers=person.headers), 400, "invalid_cursor"),
        (client.patch(f"/api/v1/activities/{activity['id']}", headers=admin.headers, json={"unknown": 1}), 422,
         "validation_error"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.json
        assert set(response.json) == {"error"} and response.json["error"]["code"] == code
        assert response.json["error"]["message"]
