"""The ambassador console pages through the test client: real login, real forms, CSRF on."""
import re

import pytest
import sqlalchemy as sa

from ambassador.levels import services as contributions
from ambassador.models import Ambassador, Application, LevelChange
from core.accounts import services as accounts
from core.extensions import db
from tests.conftest import csrf_token, flashes, html, post_form

QUEUE = "/admin/ambassador/applications"
LIST = "/admin/ambassador/ambassadors"


@pytest.fixture
def applications(app, client, console, login, make_estate):
    """Three pending member applications (the applicants hold a gold membership)."""
    estate = make_estate(name="翠苑", city="深圳市")
    ids, accounts_ = [], []
    for name in ("赵一", "钱二", "孙三"):
        account = login()
        client.put(f"/api/v1/admin/users/{account.user_id}/membership", headers=console.admin.headers,
                   json={"tier": "gold"})
        response = client.post("/api/v1/ambassador/applications", headers=account.headers, json={
            "channel": "member", "real_name": name, "phone": "13912345678", "estate_ids": [estate],
            "statement": f"{name}的申请说明"})
        assert response.status_code == 201, response.json
        ids.append(response.json["id"])
        accounts_.append(account)
    return {"ids": ids, "accounts": accounts_, "estate": estate}


def statuses(app, ids) -> list[str]:
    with app.app_context():
        return [db.session.get(Application, i).status for i in ids]


def test_pages_need_a_staff_session_and_agents_only_read(app, console, applications, make_ambassador,
                                                         web_login, make_engineer):
    ambassador = make_ambassador()
    pages = [QUEUE, LIST, f"{LIST}/{ambassador.user_id}"]
    for path in pages:
        assert console.get(path).status_code == 200, path
    anonymous = app.test_client()
    for path in pages:
        response = anonymous.get(path)
        assert response.status_code == 302 and "/login" in response.location, path

    engineer_client = app.test_client()
    engineer = make_engineer()
    engineer_client.put("/api/v1/me/password", headers=engineer.headers, json=engineer.first_password("eng-pass-123"))
    token = csrf_token(html(engineer_client.get("/login")))
    engineer_client.post("/login", data={"csrf_token": token, "username": engineer.employee_no,
                                         "password": "eng-pass-123"})
    for path in pages:
        assert engineer_client.get(path, headers={"Accept": "text/html"}).status_code == 403, path

    with app.app_context():
        accounts.create_staff("agent9", "agent-pass-9", {"agent"})
        db.session.commit()
    agent = app.test_client()
    token = csrf_token(html(agent.get("/login")))
    agent.post("/login", data={"csrf_token": token, "username": "agent9", "password": "agent-pass-9"})
    page = agent.get(QUEUE)
    assert page.status_code == 200 and "赵一" in html(page)
    assert "批量通过" not in html(page) and "/approve" not in html(page) and 'name="ids"' not in html(page)  # no actions for readers
    detail = html(agent.get(f"{LIST}/{ambassador.user_id}"))
    assert "暂停" not in detail.split("等级与状态记录")[0]
    token = csrf_token(html(agent.get(QUEUE)))  # the logout form's token: the session's one
    response = agent.post(f"{QUEUE}/{applications['ids'][0]}/approve", data={"csrf_token": token},
                          headers={"Accept": "text/html"})
    assert response.status_code == 403
    assert statuses(app, applications["ids"]) == ["pending"] * 3


def test_queue_lists_filters_and_decides_one(app, console, applications):
    page = html(console.get(QUEUE))
    for name in ("赵一", "钱二", "孙三", "翠苑", "赵一的申请说明", "资格已核验"):
        assert name in page
    rows = re.findall(r'data-testid="application-row" data-id="(\d+)"', page)
    assert [int(r) for r in rows] == applications["ids"]  # oldest first
    assert "钱二" not in html(console.get(f"{QUEUE}?q=赵"))

    first, second = applications["ids"][:2]
    response = post_form(console, QUEUE, f"{QUEUE}/{first}/approve", {"next": QUEUE}, follow_redirects=True)
    assert any("已通过" in f for f in flashes(response))
    response = post_form(console, QUEUE, f"{QUEUE}/{second}/reject", {"reason": ""}, follow_redirects=True)
    assert any("原因" in f for f in flashes(response))
    response = post_form(console, QUEUE, f"{QUEUE}/{second}/reject", {"reason": "资料不全"}, follow_redirects=True)
    assert any("已拒绝" in f for f in flashes(response))
    assert statuses(app, applications["ids"]) == ["approved", "rejected", "pending"]
    assert "资料不全" in html(console.get(f"{QUEUE}?status=rejected"))
    response = post_form(console, QUEUE, f"{QUEUE}/{first}/approve", {}, follow_redirects=True)
    assert any("不能再处理" in f for f in flashes(response))


def test_bulk_decisions_show_a_confirmation_first(app, console, applications):
    ids = applications["ids"]
    post_form(console, QUEUE, f"{QUEUE}/{ids[0]}/approve", {})
    data = {"ids": [str(i) for i in ids], "action": "reject", "reason": "名额已满"}
    response = post_form(console, QUEUE, f"{QUEUE}/bulk", {**data, "reason": ""}, follow_redirects=True)
    assert any("必须填写拒绝原因" in f for f in flashes(response))

    confirm = post_form(console, QUEUE, f"{QUEUE}/bulk", data)
    page = html(confirm)
    assert confirm.status_code == 200 and "确认批量拒绝" in page and "名额已满" in page
    assert len(re.findall('data-testid="confirm-row"', page)) == 3 and "将跳过" in page
    assert "确认拒绝 2 份" in page
    assert statuses(app, ids) == ["approved", "pending", "pending"]  # nothing decided yet

    response = console.post(f"{QUEUE}/bulk", data={**data, "confirmed": "1", "csrf_token": csrf_token(page)},
                            follow_redirects=True)
    messages = flashes(response)
    assert any("已拒绝 2 份" in m for m in messages) and any("已被处理" in m for m in messages)
    assert statuses(app, ids) == ["approved", "rejected", "rejected"]


def test_bulk_approve_makes_ambassadors(app, console, applications):
    ids = applications["ids"]
    data = {"ids": [str(i) for i in ids], "action": "approve"}
    page = html(post_form(console, QUEUE, f"{QUEUE}/bulk", data))
    assert "确认通过 3 份" in page
    console.post(f"{QUEUE}/bulk", data={**data, "confirmed": "1", "csrf_token": csrf_token(page)})
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Ambassador)) == 3


def test_ambassadors_list_and_detail_with_actions(app, console, make_ambassador, make_estate):
    north, south = make_estate(name="北苑", city="北京市"), make_estate(name="南苑", city="深圳市")
    one = make_ambassador(level=1, estate_ids=[north], city="北京市")
    two = make_ambassador(level=2, estate_ids=[south], city="深圳市")
    with app.app_context():
        db.session.get(Ambassador, two.user_id).real_name = "钱代言"
        contributions.credit(two.user_id, 70)
        db.session.commit()

    page = html(console.get(LIST))
    assert len(re.findall('data-testid="ambassador-row"', page)) == 2
    assert re.findall(r'data-testid="ambassador-row" data-id="(\d+)"', html(console.get(f"{LIST}?city=深圳市"))) == [
        str(two.user_id)]
    assert re.findall(r'data-testid="ambassador-row" data-id="(\d+)"', html(console.get(f"{LIST}?estate_id={north}"))) == [
        str(one.user_id)]
    assert "钱代言" in html(console.get(f"{LIST}?q=钱")) and "钱代言" not in html(console.get(f"{LIST}?status=removed"))

    url = f"{LIST}/{two.user_id}"
    detail = html(console.get(url))
    assert "南苑" in detail and "银牌代言人" in detail and 'data-testid="contribution">70<' in detail
    response = post_form(console, url, f"{url}/status", {"action": "suspend", "reason": ""}, follow_redirects=True)
    assert any("必须填写原因" in f for f in flashes(response))
    response = post_form(console, url, f"{url}/status", {"action": "suspend", "reason": "投诉核实中"},
                         follow_redirects=True)
    assert any("已暂停" in f for f in flashes(response)) and "投诉核实中" in html(response)
    response = post_form(console, url, f"{url}/estates", {"estate_ids": f"{north}，{south}"}, follow_redirects=True)
    assert any("服务小区已更新" in f for f in flashes(response))
    with app.app_context():
        assert db.session.get(Ambassador, two.user_id).city == "北京市"
    response = post_form(console, url, f"{url}/estates", {"estate_ids": "abc"}, follow_redirects=True)
    assert any("服务小区无效" in f for f in flashes(response))
    # The kept estates (checkboxes) and one added by name with the picker (no script: the typed name).
    response = post_form(console, url, f"{url}/estates", [("estate_ids", str(south)), ("estate", "北苑")],
                         follow_redirects=True)
    assert any("服务小区已更新" in f for f in flashes(response))
    assert 'id="estate-%d" name="estate_ids" value="%d" checked' % (north, north) in html(response)
    response = post_form(console, url, f"{url}/status", {"action": "remove", "reason": "违规"}, follow_redirects=True)
    assert any("代言人已移除" in f for f in flashes(response)) and "该代言人已移除" in html(response)
    response = post_form(console, url, f"{url}/status", {"action": "reinstate", "reason": "申诉"},
                         follow_redirects=True)
    assert any("不能恢复" in f for f in flashes(response))
    with app.app_context():
        kinds = list(db.session.scalars(sa.select(LevelChange.kind).where(LevelChange.user_id == two.user_id)
                                        .order_by(LevelChange.id)))
    assert kinds == ["join", "suspend", "remove"]
    assert len(re.findall('data-testid="history-row"', html(console.get(url)))) == 3
    assert console.get(f"{LIST}/999999", headers={"Accept": "text/html"}).status_code == 404
