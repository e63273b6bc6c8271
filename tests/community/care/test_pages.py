"""The workbench's 保养提醒 page (tabs, the outcome forms, CSRF on) and the console's report and
agent queue pages."""
from datetime import timedelta

import pytest

from tests.community.care.conftest import today
from tests.conftest import csrf_token, flashes, html


@pytest.fixture
def engineer_web(client, web_login):
    def login_as(engineer):
        r = client.put("/api/v1/me/password", headers=engineer.headers, json=engineer.first_password("eng-pass-123"))
        assert r.status_code in (200, 204), r.get_data(as_text=True)
        web_login(engineer.employee_no, "eng-pass-123")
    return login_as


def test_the_steward_works_the_list_on_the_workbench(app, client, make_estate, make_engineer, household, make_product,
                                                     generate, items, engineer_web):
    estate = make_estate(name="阳光花园")
    steward = make_engineer([estate])
    home = household(estate, steward)
    snoozed, _ = make_product(owner_id=home.user_id, estate_id=estate, model_name="RO-600G")
    booked, _ = make_product(owner_id=home.user_id, estate_id=estate, address="3栋 1201", category="air_conditioner",
                             model_name="KFR-35GW")
    late, _ = make_product(owner_id=home.user_id, estate_id=estate, due_on=today() - timedelta(days=2),
                           model_name="RO-400")
    generate()
    made = {i["product_id"]: i["id"] for i in items()}
    engineer_web(steward)
    page = html(client.get("/engineer/reminders"))
    assert ">保养提醒</a>" in page  # in the workbench navigation
    assert "RO-600G" in page and "KFR-35GW" in page and "RO-400" not in page  # the overdue one has its tab
    assert "代客预约" in page and "稍后提醒" in page and "客户不需要" in page
    assert "RO-400" in html(client.get("/engineer/reminders?tab=overdue")) and "逾期 2 天" in html(
        client.get("/engineer/reminders?tab=overdue"))
    token = csrf_token(page)
    url = lambda product: f"/engineer/reminders/{made[product]}/outcome"  # noqa: E731
    until = today() + timedelta(days=7)
    r = client.post(url(snoozed), data={"csrf_token": token, "outcome": "snoozed", "snoozed_until": until.isoformat(),
                                        "next": "/engineer/reminders?tab=due"}, follow_redirects=True)
    assert flashes(r) == [f"将于 {until.month}月{until.day}日 再次提醒"]
    r = client.post(url(booked), data={"csrf_token": token, "outcome": "booked", "preferred_time": "周末"},
                    follow_redirects=True)
    [said] = flashes(r)
    assert said.startswith("已为客户预约，服务单 #")
    assert items(id=made[booked])[0]["status"] == "booked"
    assert "KFR-35GW" in html(client.get("/engineer/reminders?tab=booked"))
    assert "RO-600G" in html(client.get("/engineer/reminders?tab=snoozed"))
    # refusals are shown, not crashes
    r = client.post(url(late), data={"csrf_token": token, "outcome": "snoozed"}, follow_redirects=True)
    assert flashes(r) == ["请选择下次提醒的日期"]
    r = client.post(url(late), data={"csrf_token": token, "outcome": "snoozed",
                                     "snoozed_until": (today() + timedelta(days=120)).isoformat()},
                    follow_redirects=True)
    assert "90 天之内" in flashes(r)[0]
    r = client.post(url(late), data={"csrf_token": token, "outcome": "declined", "note": "已换新机"},
                    follow_redirects=True)
    assert flashes(r) == ["已记录：客户不需要"]
    r = client.post(url(late), data={"csrf_token": token, "outcome": "done_elsewhere"}, follow_redirects=True)
    assert flashes(r) == ["该保养提醒已关闭（客户不需要），不能再更改"]
    assert "已换新机" in html(client.get("/engineer/reminders?tab=done"))
    assert client.post(url(late), data={"outcome": "declined"}).status_code in (302, 400)  # no CSRF token: nothing
    assert client.get("/engineer/reminders?tab=bogus").status_code == 404


def test_the_console_reports_and_the_agent_assigns_from_the_queue(app, client, console, make_estate, make_engineer,
                                                                  household, make_product, generate, items):
    east, lonely = make_estate(name="东苑"), make_estate(name="孤岛小区")
    make_engineer([east], name="王建国")
    make_product(owner_id=household(east).user_id, estate_id=east)
    make_product(owner_id=household(lonely).user_id, estate_id=lonely, model_name="JSQ30", category="water_heater")
    generate()
    page = html(client.get("/admin/care"))
    assert "东苑" in page and "孤岛小区" in page and "转化率" in page
    assert "王建国" in html(client.get("/admin/care?by=engineer"))
    r = client.get(f"/admin/care?from={today().isoformat()}&to={(today() - timedelta(days=3)).isoformat()}")
    assert r.status_code == 200 and flashes(r) == ["结束日期不能早于开始日期"]
    queue = html(client.get("/admin/care/queue"))
    assert "JSQ30" in queue and "该小区暂无在职工程师" in queue
    newcomer = make_engineer([lonely], name="李师")
    queue = html(client.get("/admin/care/queue"))
    assert "李师" in queue
    item_id = items(estate_id=lonely)[0]["id"]
    r = client.post(f"/admin/care/items/{item_id}/assign", data={"csrf_token": csrf_token(queue),
                                                               "engineer_id": newcomer.engineer_id},
                    follow_redirects=True)
    assert flashes(r) == ["已指派工程师"]
    assert "JSQ30" not in html(r)
    assert items(id=item_id)[0]["engineer_id"] == newcomer.engineer_id
