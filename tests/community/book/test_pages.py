"""The workbench pages (customers with health, alerts, the customer's book and its forms, follow-ups)
and the console's (customer health, a customer's book, agents on duty)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.community.book.conftest import complain, recompute, served
from tests.community.book.test_health import TODAY
from tests.conftest import csrf_token, flashes, html, post_form


@pytest.fixture
def engineer_web(client, web_login):
    def login_as(engineer):
        r = client.put("/api/v1/me/password", headers=engineer.headers, json=engineer.first_password("eng-pass-123"))
        assert r.status_code in (200, 204), r.get_data(as_text=True)
        web_login(engineer.employee_no, "eng-pass-123")
    return login_as


@pytest.fixture
def red(app, client, steward, estate, make_customer):
    red = make_customer(steward, estate)
    for _ in range(2):
        complain(client, red, served(client, red, steward, estate)["id"])
    return red


def test_the_workbench_lists_customers_with_health_and_alerts(app, client, engineer_web, steward, customer, red):
    recompute(app)
    engineer_web(steward)
    page = html(client.get("/engineer/"))
    assert "健康预警" in page and 'data-testid="alert-row"' in page
    rows = re.findall(r'<tr data-testid="customer-row">.*?</tr>', page, re.S)
    assert len(rows) == 2 and "红色 30" in rows[0] and "绿色 100" in rows[1]
    only_red = html(client.get("/engineer/?health=red"))
    assert only_red.count('data-testid="customer-row"') == 1
    assert html(client.get("/engineer/?health=purple&sort=x")).count('data-testid="customer-row"') == 2  # ignored
    # the alert handled from the workbench
    action = re.search(r'action="(/engineer/health-alerts/\d+/handle)"', page).group(1)
    r = post_form(client, "/engineer/", action, {"note": "已电话联系，周六上门", "next": "/engineer/"})
    assert r.status_code == 302 and r.headers["Location"] == "/engineer/"
    assert "预警已处理" in flashes(client.get("/engineer/"))
    assert 'data-testid="alert-row"' not in html(client.get("/engineer/"))


def test_the_customers_book_page_and_its_forms(app, client, engineer_web, steward, customer, make_engineer, estate):
    recompute(app)
    engineer_web(steward)
    url = f"/engineer/customers/{customer.user_id}"
    page = html(client.get(url))
    for heading in ("基本信息", "客户健康", "标签", "跟进", "备注", "客户动态", "上门记录"):
        assert f"<h2>{heading}</h2>" in page
    assert "100</span> 分 · 绿色" in page
    base = f"/engineer/customers/{customer.user_id}"
    assert post_form(client, url, base + "/notes", {"text": "家里有老人", "next": url}).status_code == 302
    assert post_form(client, url, base + "/tags", {"tag": "VIP", "next": url}).status_code == 302
    due = (TODAY + timedelta(days=3)).isoformat()
    assert post_form(client, url, base + "/follow-ups", {"due_on": due, "text": "回访净水器", "next": url}).status_code == 302
    page = html(client.get(url))
    assert "家里有老人" in page and '<span class="badge tag">VIP</span>' in page and "回访净水器" in page
    assert "成为 王建国 的客户" in page  # the timeline
    # bad input: a flash in Chinese, nothing written
    post_form(client, url, base + "/follow-ups", {"due_on": (TODAY - timedelta(days=1)).isoformat(), "text": "x",
                                                  "next": url})
    assert "跟进日期不能早于今天" in flashes(client.get(url))
    post_form(client, url, base + "/tags", {"tag": "a/b", "next": url})
    assert any("不能含有 /" in f for f in flashes(client.get(url)))
    post_form(client, url, base + "/tags", {"action": "remove", "tag": "VIP", "next": url})
    assert '<span class="badge tag">VIP</span>' not in html(client.get(url))
    # the follow-up done from the follow-ups page
    follow_ups = html(client.get("/engineer/follow-ups"))
    assert "回访净水器" in follow_ups
    done = re.search(r'action="(/engineer/follow-ups/\d+/done)"', follow_ups).group(1)
    post_form(client, "/engineer/follow-ups", done, {"next": "/engineer/follow-ups?status=done"})
    assert "回访净水器" in html(client.get("/engineer/follow-ups?status=done"))
    assert "回访净水器" not in html(client.get("/engineer/follow-ups"))
    # another engineer's customer: 404
    client.get("/logout")
    other = make_engineer([estate])
    engineer_web(other)
    assert client.get(url).status_code == 404
    assert post_form(client, "/engineer/follow-ups", base + "/notes", {"text": "偷看"}).status_code == 302
    assert "客户不存在" in flashes(client.get("/engineer/follow-ups"))


def test_the_console_health_page_and_the_book(app, client, console, steward, customer, red):
    recompute(app)
    page = html(client.get("/admin/health"))
    assert "红色客户" in page and page.count('data-testid="alert-row"') == 1
    assert re.search(r'data-testid="summary-row">.*?王建国.*?>1</td>', page, re.S)
    assert "按小区" in page and client.get("/admin/health?by=estate").status_code == 200
    book = html(client.get(f"/admin/customers/{red.user_id}"))
    assert "红色预警" in book and "返回客户健康" in book
    url = f"/admin/customers/{red.user_id}"
    r = post_form(client, url, f"/engineer/customers/{red.user_id}/notes", {"text": "客服已回访", "next": url})
    assert r.headers["Location"] == url and "客服已回访" in html(client.get(url))


def test_agents_on_duty_page(app, client, console, make_admin):
    agent = make_admin("kefu", "agent-pass-123", roles={"agent"})
    page = html(client.get("/admin/duties"))
    assert "暂无值班安排" in page
    r = client.post("/admin/duties", data={"csrf_token": csrf_token(page), "user_id": agent.user_id, "city": "深圳市",
                                           "district": ""})
    assert r.status_code == 302
    page = html(client.get("/admin/duties"))
    assert "值班安排已添加" in page and "全市" in page and 'data-testid="duty-row"' in page
    bad = client.post("/admin/duties", data={"csrf_token": csrf_token(page), "user_id": 99999, "city": "深圳市"})
    assert "请选择在职的客服账号" in html(bad)
    delete = re.search(r'action="(/admin/duties/\d+/delete)"', page).group(1)
    client.post(delete, data={"csrf_token": csrf_token(page)})
    assert "暂无值班安排" in html(client.get("/admin/duties"))
