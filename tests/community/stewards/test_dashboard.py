"""The console's home: the work waiting, with counts and links, per role; the charts drawn from
the statistics' rollups (not from bindings or orders), within the reader's scope."""
import re
from datetime import datetime, timezone

from tests.conftest import html


def _queues(page: str) -> dict[str, tuple[int, str]]:
    found = re.findall(r'<a class="queue[^"]*" href="([^"]+)" data-testid="queue"><div class="n">(\d+)</div>'
                       r'<div class="l">([^<]+)</div>', page)
    return {label: (int(count), url.replace("&amp;", "&")) for url, count, label in found}


def _complaint(client, make_estate, make_engineer, login, **estate):
    where = make_estate(**estate)
    engineer = make_engineer([where])
    resident = login()
    client.post("/api/v1/me/estates", headers=resident.headers, json={"estate_id": where})
    order = client.post("/api/v1/service-requests", headers=resident.headers,
                        json={"estate_id": where, "service_type": "repair"}).json
    r = client.post(f"/api/v1/service-orders/{order['id']}/complaints", headers=resident.headers, json={"text": "没来"})
    assert r.status_code == 201, r.json
    return where, engineer


def test_admins_see_every_queue_with_its_count_and_link(app, console, make_estate, make_engineer, login):
    _complaint(console, make_estate, make_engineer, login)
    page = console.get("/admin/")
    assert page.status_code == 200
    queues = _queues(html(page))
    assert queues["待处理投诉"] == (1, "/admin/complaints?status=open")
    assert queues["待审核兑换"] == (0, "/admin/points/redemptions")
    assert queues["待审核代言人申请"] == (0, "/admin/ambassador/applications")
    assert queues["待审核任务提交"] == (0, "/admin/ambassador/submissions")
    assert queues["待审核帖子"] == (0, "/admin/moderation?kind=post")
    assert queues["待审核评论"] == (0, "/admin/moderation?kind=comment")
    for _label, (_count, url) in queues.items():
        assert console.get(url).status_code == 200, url  # every link opens for the reader
    assert "flask " not in html(page)  # no command-line hint


def test_agents_see_only_the_queues_they_may_work_within_their_duties(app, client, make_admin, web_login, make_estate,
                                                                   make_engineer, login):
    from community.estates import services as estates
    from core.extensions import db

    _complaint(client, make_estate, make_engineer, login, city="杭州市", district="西湖区")
    agent = make_admin("kefu", "agent-pass-1", roles={"agent"})
    with app.app_context():
        estates.add_agent_duty(agent.user_id, "杭州市", "西湖区", actor=None)
        db.session.commit()
    web_login("kefu", "agent-pass-1")
    assert client.get("/").headers["Location"].endswith("/admin/")
    page = html(client.get("/admin/?city=北京市"))
    queues = _queues(page)
    assert set(queues) >= {"待处理投诉", "待审核代言人申请"}
    assert not {"待审核兑换", "待审核任务提交", "待审核帖子", "待审核回答", "待审核评论"} & set(queues)
    for _label, (_count, url) in queues.items():
        assert client.get(url).status_code == 200, url
    # asked for another city, the agent stays within their duty
    assert 'value="杭州市" selected' in page and 'value="西湖区"' in page and "全网" not in page


def test_the_charts_read_the_rollups_not_the_bindings_or_the_orders(app, console):
    from community.stats import services as stats
    from community.stats.models import RegionDayStat, RegionMonthStat, RegionStat
    from core.extensions import db

    with app.app_context():
        today = stats.business_day(datetime.now(timezone.utc))
        month = today.strftime("%Y-%m")
        # no binding, no order, no estate exists: only the statistics' rows
        db.session.add_all([
            RegionDayStat(city="杭州市", district="西湖区", day=today, bindings=7),
            RegionDayStat(city="杭州市", district="拱墅区", day=today, bindings=5),
            RegionMonthStat(city="杭州市", district="西湖区", month=month, orders=30, complaints=4),
            RegionStat(city="杭州市", district="西湖区", bound=250, estates=3, households=2000),
            RegionStat(city="杭州市", district="拱墅区", bound=0, estates=1, households=2000)])
        db.session.commit()
    page = html(console.get("/admin/?city=杭州市"))
    bindings = page.split('data-testid="chart-bindings"')[1].split("</figure>")[0]
    assert f"{today.strftime('%m-%d')}：12</title>" in bindings and "<rect" in bindings
    months = page.split('data-testid="chart-months"')[1].split("</figure>")[0]
    assert f"每千户订单 {month[2:]}：7.5</title>" in months and f"每千户投诉 {month[2:]}：1.0</title>" in months
    assert "6.2%" in page.split('data-testid="coverage"')[1][:200]  # 250 / 4000
    district = html(console.get("/admin/?city=杭州市&district=拱墅区"))
    assert f"{today.strftime('%m-%d')}：5</title>" in district and "0.0%" in district
    assert "<script" not in page.split("<main>")[1]  # server-drawn SVG, no chart script
