"""Under the Content-Security-Policy (core/boundary.py: scripts from static files only) the key
pages work and the browser reports no violation: the login page, the admin console (its overview,
an engineer's page with confirmation buttons, the KPI charts, the activity form), the engineer's
workbench and binding code with its countdown, and the interactive API docs."""
from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import expect

from core.extensions import db


def _watch(page) -> list[str]:
    """Violations the console reports, and errors of scripts (one a violation broke, say)."""
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    return problems


def _log_in(page, base: str, username: str, password: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("用户名 / 工号").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()


def test_key_pages_raise_no_csp_violation(live_app, browser):
    from community.estates.models import Engineer, Estate
    from demo import data

    with live_app.app_context():
        data.seed()
        estate_id = db.session.scalars(sa.select(Estate.id).order_by(Estate.id)).first()
        engineer_id = db.session.scalars(sa.select(Engineer.id).where(Engineer.employee_no == "E1001")).one()
    base = live_app.url

    admin = browser.new_context(locale="zh-CN")
    page = admin.new_page()
    page.set_default_timeout(10_000)
    problems = _watch(page)
    _log_in(page, base, *data.ADMIN)
    page.goto(base + "/admin/")
    # a confirmation button asks first (static/js/confirm.js); dismissed, nothing is sent
    page.goto(f"{base}/admin/engineers/{engineer_id}")
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="离职但不转交客户").click()
    expect(page.get_by_role("button", name="离职但不转交客户")).to_be_visible()
    assert questions and "确认离职且不转交" in questions[0]
    assert page.url == f"{base}/admin/engineers/{engineer_id}"
    # the KPI charts are drawn (static/js/estate-kpis.js with the vendored Chart.js)
    page.goto(f"{base}/admin/estates/{estate_id}/kpis")
    page.wait_for_function("() => window.Chart && Object.keys(Chart.instances).length === 2")
    # the activity form shows only the chosen audience's part (static/js/activity-form.js)
    page.goto(base + "/admin/activities/new")
    expect(page.locator("[data-audience-part=rule]")).to_be_hidden()
    # the interactive API docs render the document (static/js/swagger-init.js)
    page.goto(base + "/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Linli")
    expect(page.locator(".opblock").first).to_be_visible()
    admin.close()

    engineer = browser.new_context(locale="zh-CN")
    page = engineer.new_page()
    page.set_default_timeout(10_000)
    problems += _watch(page)
    _log_in(page, base, "E1001", data.ENGINEER_PASSWORD)
    page.goto(base + "/engineer/")
    page.goto(base + "/engineer/orders")
    page.goto(base + "/engineer/code")
    page.get_by_role("button", name="生成绑定码").click()
    expect(page.get_by_test_id("binding-code")).to_be_visible()
    expect(page.locator("#expiry")).to_contain_text("剩余")  # the countdown runs (static/js/binding-code.js)
    engineer.close()

    assert problems == []
