"""Workbench and console pages for service orders, complaints, KPIs and the league table, through
real forms (CSRF on)."""
from datetime import datetime, timedelta

import pytest

from core.formatting import business_today
from tests.community.stats.test_ranking_and_history import _import
from tests.conftest import csrf_token


@pytest.fixture
def engineer_web(client, web_login):
    def login_as(engineer):
        r = client.put("/api/v1/me/password", headers=engineer.headers, json=engineer.first_password("eng-pass-123"))
        assert r.status_code in (200, 204), r.get_data(as_text=True)
        web_login(engineer.employee_no, "eng-pass-123")
    return login_as


def test_engineer_schedules_completes_and_cancels_in_the_workbench(app, client, make_estate, make_engineer, login,
                                                                  engineer_web):
    estate = make_estate()
    engineer = make_engineer([estate])
    resident = login()
    client.post("/api/v1/me/estates", headers=resident.headers, json={"estate_id": estate})
    first = client.post("/api/v1/service-requests", headers=resident.headers,
                        json={"estate_id": estate, "service_type": "repair", "description": "热水器漏水"}).json
    second = client.post("/api/v1/service-requests", headers=resident.headers,
                         json={"estate_id": estate, "service_type": "cleaning"}).json
    engineer_web(engineer)
    page = client.get("/engineer/orders").get_data(as_text=True)
    assert "热水器漏水" in page and "已派单" in page and f"#{first['id']}" in page
    token = csrf_token(page)
    when = (datetime.now() + timedelta(days=2)).strftime("%Y-%m-%dT09:30")
    r = client.post(f"/engineer/orders/{first['id']}/schedule", data={"csrf_token": token, "scheduled_for": when},
                    follow_redirects=True)
    assert "已预约上门时间" in r.get_data(as_text=True)
    order = client.get(f"/api/v1/service-orders/{first['id']}", headers=resident.headers).json
    assert order["status"] == "scheduled" and order["scheduled_for"].endswith("09:30:00+08:00")
    r = client.post(f"/engineer/orders/{first['id']}/complete", data={"csrf_token": token}, follow_redirects=True)
    assert "已标记为完成" in r.get_data(as_text=True)
    r = client.post(f"/engineer/orders/{second['id']}/cancel", data={"csrf_token": token, "reason": "住户改期"},
                    follow_redirects=True)
    assert "服务单已取消" in r.get_data(as_text=True)
    # a refusal is shown, not a crash: completing a cancelled order
    r = client.post(f"/engineer/orders/{second['id']}/complete", data={"csrf_token": token}, follow_redirects=True)
    assert "不能执行此操作" in r.get_data(as_text=True)
    assert client.post(f"/engineer/orders/{first['id']}/complete", data={}).status_code in (302, 400)
    statuses = {o["id"]: o["status"] for o in client.get("/api/v1/me/service-orders", headers=resident.headers).json["items"]}
    assert statuses == {first["id"]: "completed", second["id"]: "cancelled"}


def test_admin_assigns_resolves_and_reads_kpis_and_the_league(app, client, tmp_path, make_estate, make_engineer,
                                                             login, make_admin, web_login):
    estate = make_estate(households=500, city="苏州市", district="姑苏区")
    lonely = make_estate(city="苏州市", district="姑苏区")
    resident = login()
    client.post("/api/v1/me/estates", headers=resident.headers, json={"estate_id": lonely})
    waiting = client.post("/api/v1/service-requests", headers=resident.headers,
                          json={"estate_id": lonely, "service_type": "install"}).json
    engineer = make_engineer([estate, lonely])
    done = client.post("/api/v1/service-requests", headers=resident.headers,
                       json={"estate_id": lonely, "service_type": "repair", "preferred_engineer_id": engineer.engineer_id}).json
    client.post(f"/api/v1/service-orders/{done['id']}/complaints", headers=resident.headers, json={"text": "没按时到"})
    month = datetime.now().strftime("%Y-%m")
    _import(app, tmp_path, [f"P{i},{estate},{engineer.employee_no},,repair,{month}-01T10:00:00+08:00,,,0"
                            for i in range(3)])
    make_admin("kpi-boss", "boss-pass-123")
    web_login("kpi-boss", "boss-pass-123")
    page = client.get("/admin/service-orders?status=requested").get_data(as_text=True)
    assert f"#{waiting['id']}" in page and "派单" in page
    r = client.post(f"/admin/service-orders/{waiting['id']}/assign",
                    data={"csrf_token": csrf_token(page), "engineer_id": engineer.engineer_id}, follow_redirects=True)
    assert "已派单" in r.get_data(as_text=True)
    assert client.get(f"/api/v1/service-orders/{waiting['id']}", headers=resident.headers).json["engineer_id"] == \
        engineer.engineer_id
    page = client.get("/admin/complaints").get_data(as_text=True)
    assert "没按时到" in page
    complaint_id = int(page.split('data-testid="complaint-row" data-id="')[1].split('"')[0])
    r = client.post(f"/admin/complaints/{complaint_id}/resolve",
                    data={"csrf_token": csrf_token(page), "resolution": "已道歉"}, follow_redirects=True)
    assert "投诉已处理" in r.get_data(as_text=True)
    assert "已道歉" in client.get("/admin/complaints?status=resolved").get_data(as_text=True)
    kpi_page = client.get(f"/admin/estates/{estate}/kpis").get_data(as_text=True)
    assert 'data-testid="kpi-table"' in kpi_page and "chart.umd.min.js" in kpi_page
    assert f"<td>{month}</td><td class=\"num\">3</td>" in kpi_page
    csv_response = client.get(f"/admin/estates/{estate}/kpis.csv?from={month}&to={month}")
    assert csv_response.status_code == 200 and csv_response.mimetype == "text/csv"
    assert f"{month},3,0,6.0" in csv_response.get_data(as_text=True)
    league = client.get(f"/admin/estate-league?kpi=orders&city=苏州市&month={month}").get_data(as_text=True)
    assert league.index(f"estates/{estate}/kpis") < league.index(f"estates/{lonely}/kpis")
    assert client.get("/admin/estates/999999/kpis").status_code == 404
    assert client.get("/static/vendor/chartjs/chart.umd.min.js").status_code == 200


def test_residents_and_engineers_cannot_open_the_console_pages(client, make_estate, make_engineer, engineer_web):
    engineer = make_engineer([make_estate()])
    engineer_web(engineer)
    for url in ("/admin/service-orders", "/admin/complaints", "/admin/estate-league"):
        assert client.get(url).status_code == 403, url


def test_engineer_announces_a_visit_from_the_workbench(app, client, make_estate, make_engineer, login, engineer_web):
    from datetime import timedelta

    estate = make_estate(name="翠苑一区")
    engineer = make_engineer([estate])
    residents = [login() for _ in range(3)]
    for who in residents:
        client.post("/api/v1/me/estates", headers=who.headers, json={"estate_id": estate})
    engineer_web(engineer)
    page = client.get("/engineer/visits").get_data(as_text=True)
    day = (business_today() + timedelta(days=3)).isoformat()
    r = client.post("/engineer/visits", data={"csrf_token": csrf_token(page), "estate_id": estate, "date": day,
                                               "slots": "09:00-10:00，10:00-11:00", "note": ""}, follow_redirects=True)
    text = r.get_data(as_text=True)
    assert "上门安排已发布" in text and "3 户" in text and text.count("可约") == 2
    bad = client.post("/engineer/visits", data={"csrf_token": csrf_token(page), "estate_id": estate, "date": day,
                                                 "slots": "11:00-10:00"}, follow_redirects=True)
    assert "结束时间须晚于开始时间" in bad.get_data(as_text=True)
    inbox = client.get("/api/v1/me/notifications", headers=residents[0].headers).json
    assert inbox["unread_count"] == 1
