"""The pages: the admin console (list, create with estates or a rule, approve a partner's
activity, the attendee list and CSV, check-in) and the organiser's pages for ambassadors and
partners' staff (their own activities only, check-in by code, CSV)."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pytest

from core.formatting import BUSINESS_TZ
from tests.activation.activities.conftest import STAFF_PASSWORD, later
from tests.conftest import flashes, html, post_form


def wall(**delta) -> str:
    """A datetime-local value that far from now (Shanghai wall time)."""
    return (datetime.now(BUSINESS_TZ) + timedelta(**delta)).strftime("%Y-%m-%dT%H:%M")


def form(estate_ids="", **changes) -> dict:
    return {"title": "中秋游园会", "description": "猜灯谜\r\n做月饼", "place": "中心花园", "starts_at": wall(days=3),
            "ends_at": wall(days=3, hours=3), "signup_deadline": "", "capacity": "50", "points_reward": "10",
            "coupon_template_id": "", "audience": "estates", "estate_ids": estate_ids, "audience_rule": "", **changes}


@pytest.fixture
def engineer_ambassador(client, make_engineer, make_ambassador, web_login):
    """engineer_ambassador(estate_ids, level=3) -> an engineer who is an ambassador, logged in to the web."""
    def make(estate_ids, level: int = 3):
        engineer = make_engineer(estate_ids)
        make_ambassador(level=level, estate_ids=estate_ids, user=engineer)
        r = client.put("/api/v1/me/password", headers=engineer.headers, json=engineer.first_password("eng-pass-123"))
        assert r.status_code in (200, 204)
        web_login(engineer.employee_no, "eng-pass-123")
        return engineer
    return make


def test_an_admin_creates_lists_and_exports_an_activity(app, console, make_estate, resident, sign_up):
    here, there = make_estate(name="阳光花园"), make_estate()
    r = post_form(console, "/admin/activities/new", "/admin/activities/new", form(f"{here}, {there}"))
    assert r.status_code == 302, flashes(r) or html(r)[:2000]
    detail = r.headers["Location"]
    activity_id = int(detail.rsplit("/", 1)[1])
    page = html(console.get(detail))
    assert "中秋游园会" in page and "2 个小区" in page and "阳光花园" in page and "<svg" in page
    listing = html(console.get("/admin/activities"))
    assert f'data-id="{activity_id}"' in listing and "邻里社区" in listing
    # Someone signs up with a name a spreadsheet would run as a formula: the CSV keeps it text.
    person = resident(here)
    assert sign_up(activity_id, person, contact_name="=HYPERLINK(\"http://x\")", contact_phone="13800138000").status_code == 200
    sign_up(activity_id, resident(there))
    csv_response = console.get(f"/admin/activities/{activity_id}/attendees.csv")
    assert csv_response.status_code == 200 and csv_response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(csv_response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["序号", "状态", "姓名", "手机号", "小区", "报名时间", "候补顺位", "签到时间"]
    assert rows[1][2] == "'=HYPERLINK(\"http://x\")" and rows[1][3] == "13800138000" and rows[1][4] == "阳光花园"
    assert len(rows) == 3
    attendees = html(console.get(f"{detail}?tab=confirmed"))
    assert attendees.count('data-testid="attendee-row"') == 2


def test_a_form_error_stays_on_the_form(console, make_estate):
    estate = make_estate()
    r = post_form(console, "/admin/activities/new", "/admin/activities/new",
                  form(str(estate), ends_at=wall(days=2)))
    assert r.status_code == 200 and "结束时间须晚于开始时间" in html(r)
    r = post_form(console, "/admin/activities/new", "/admin/activities/new", form("12, abc"))
    assert r.status_code == 200 and "小区编号须为数字" in html(r)
    r = post_form(console, "/admin/activities/new", "/admin/activities/new",
                  form(audience="rule", audience_rule="[1, 2]"))
    assert r.status_code == 200 and "须为 JSON 对象" in html(r)


def test_a_rule_is_previewed_then_saved(console, make_estate):
    make_estate(city="深圳市"), make_estate(city="深圳市"), make_estate(city="广州市")
    rule = '{"cities": ["深圳市"]}'
    r = post_form(console, "/admin/activities/new", "/admin/activities/new",
                  form(audience="rule", audience_rule=rule, preview="1"))
    assert r.status_code == 200 and re.search(r"匹配 <strong>2</strong> 个小区", html(r))
    r = post_form(console, "/admin/activities/new", "/admin/activities/new", form(audience="rule", audience_rule=rule))
    assert r.status_code == 302
    assert "2 个小区" in html(console.get(r.headers["Location"]))


def test_an_admin_edits_and_cancels(console, make_estate, make_activity, resident, sign_up):
    estate = make_estate()
    activity = make_activity([estate])
    url = f"/admin/activities/{activity['id']}/edit"
    page = html(console.get(url))
    assert "亲子手工课" in page and f"{estate}" in page
    r = post_form(console, url, url, form(str(estate), title="亲子手工课（加场）",
                                          starts_at=wall(days=4), ends_at=wall(days=4, hours=2)))
    assert r.status_code == 302, html(r)[:3000]
    assert "亲子手工课（加场）" in html(console.get(r.headers["Location"]))
    person = resident(estate)
    sign_up(activity["id"], person)
    detail = f"/admin/activities/{activity['id']}"
    r = post_form(console, detail, f"{detail}/cancel", {"reason": "场地冲突"})
    assert r.status_code == 302 and "已取消" in html(console.get(detail))


def test_an_admin_approves_a_partners_activity_from_the_page(console, make_estate, make_partner, make_activity):
    estate = make_estate()
    partner = make_partner(reach={})
    activity = make_activity([estate], by=partner.staff)
    listing = html(console.get("/admin/activities"))
    assert 'data-testid="pending-link"' in listing
    detail = f"/admin/activities/{activity['id']}"
    assert 'data-testid="review"' in html(console.get(detail))
    r = post_form(console, detail, f"{detail}/review", {"action": "reject"})
    assert r.status_code == 302 and "请填写驳回原因" in flashes(console.get(detail))[0]
    r = post_form(console, detail, f"{detail}/review", {"action": "approve"})
    assert r.status_code == 302 and "活动已通过审核并发布" in flashes(console.get(detail))[0]
    assert 'data-testid="review"' not in html(console.get(detail))


def test_the_admin_checks_in_by_code_on_the_page(console, make_estate, make_activity, resident, sign_up):
    estate = make_estate()
    activity = make_activity([estate], points_reward=8, starts_at=later(minutes=30), ends_at=later(hours=2))
    code = sign_up(activity["id"], resident(estate), contact_name="张阿姨").json["signup"]["code"]
    detail = f"/admin/activities/{activity['id']}"
    assert 'data-testid="check-in"' in html(console.get(detail))
    post_form(console, detail, f"{detail}/check-in", {"code": code})
    assert flashes(console.get(detail)) == ["签到成功：张阿姨，获得 8 积分"]
    post_form(console, detail, f"{detail}/check-in", {"code": code})
    assert re.fullmatch(r"张阿姨 已于 \d\d:\d\d 签到过", flashes(console.get(detail))[0])
    post_form(console, detail, f"{detail}/check-in", {"code": "WRONG123"})
    assert flashes(console.get(detail)) == ["签到码不属于该活动的报名"]


def test_an_ambassador_organises_from_the_phone_pages(client, make_estate, engineer_ambassador, resident, sign_up):
    mine, _ = make_estate(name="滨海花园"), make_estate(name="滨海新城")  # the search finds only the one they serve
    engineer_ambassador([mine])
    home = html(client.get("/organizer/activities"))
    assert "组织新活动" in home and 'href="/organizer/activities"' in home  # the menu links here
    new = html(client.get("/organizer/activities/new"))
    assert "滨海花园" in new and 'name="points_reward"' not in new and 'name="coupon_template_id"' not in new
    body = form(served=str(mine))
    body.pop("estate_ids"), body.pop("points_reward"), body.pop("coupon_template_id")
    body.update(starts_at=wall(minutes=30), ends_at=wall(hours=2))
    r = post_form(client, "/organizer/activities/new", "/organizer/activities/new", body)
    assert r.status_code == 302, html(r)[:3000]
    detail = r.headers["Location"]
    activity_id = int(detail.rsplit("/", 1)[1])
    code = sign_up(activity_id, resident(mine), contact_name="李先生").json["signup"]["code"]
    post_form(client, detail, f"{detail}/check-in", {"code": code})
    assert flashes(client.get(detail)) == ["签到成功：李先生"]
    assert client.get(f"{detail}/attendees.csv").status_code == 200
    search = client.get(f"/organizer/activities/estates?q={'滨海'}").json
    assert [e["id"] for e in search["items"]] == [mine]


def test_an_organiser_sees_only_their_own(client, make_estate, make_activity, engineer_ambassador):
    estate = make_estate()
    theirs = make_activity([estate])  # the admin's
    engineer_ambassador([estate])
    for path in (f"/organizer/activities/{theirs['id']}", f"/organizer/activities/{theirs['id']}/edit",
                 f"/organizer/activities/{theirs['id']}/attendees.csv"):
        assert client.get(path).status_code == 404, path
    assert client.get("/admin/activities").status_code == 403
    assert f'data-id="{theirs["id"]}"' not in html(client.get("/organizer/activities"))


def test_a_partners_staff_use_the_organiser_pages(client, make_estate, make_partner, web_login):
    estate = make_estate()
    partner = make_partner(reach={"estate_ids": [estate]})
    web_login(partner.username, STAFF_PASSWORD)
    page = html(client.get("/organizer/activities"))
    assert "须经平台审核" in page and "组织新活动" in page
    body = form(str(estate))
    body.pop("points_reward")
    r = post_form(client, "/organizer/activities/new", "/organizer/activities/new", body)
    assert r.status_code == 302
    assert "活动已提交，等待平台审核" in flashes(client.get(r.headers["Location"]))[0]


def test_a_level_without_the_permission_is_told_why(client, make_estate, engineer_ambassador):
    engineer_ambassador([make_estate()], level=1)
    page = html(client.get("/organizer/activities"))
    assert 'data-testid="refusal"' in page and "组织社区活动" in page
    assert client.get("/organizer/activities/new").status_code == 403
