"""The console's order list (customer, contact, address; an estate chosen by name; pages both
ways; a total where it is cheap), each order's page with its timeline, and the league page."""
import re
from datetime import datetime, timedelta, timezone

from tests.conftest import csrf_token, html


def _ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-testid="order-row" data-id="(\d+)"', page)]


def _requests(client, login, estate, n):
    resident = login()
    client.post("/api/v1/me/estates", headers=resident.headers, json={"estate_id": estate})
    return resident, [client.post("/api/v1/service-requests", headers=resident.headers, json={
        "estate_id": estate, "service_type": "repair", "address": "3 幢 2 单元 501", "contact_name": "张阿姨",
        "contact_phone": "13912345678"}).json["id"] for _ in range(n)]


def test_the_list_filters_an_estate_by_name_pages_both_ways_and_counts_it(app, console, make_estate, login):
    mine = make_estate(name="翠苑一区")
    other = make_estate(name="紫荆花园")
    _resident, ids = _requests(console, login, mine, 25)
    _requests(console, login, other, 2)
    first = html(console.get("/admin/service-orders?estate=翠苑一区"))
    assert _ids(first) == sorted(ids, reverse=True)[:20]
    assert "共 25 条" in first and "张阿姨" in first and "139****5678" in first and "3 幢 2 单元 501" in first
    assert "上一页" not in first
    next_url = re.search(r'href="([^"]+)" rel="next"|rel="next" href="([^"]+)"', first)
    next_url = (next_url.group(1) or next_url.group(2)).replace("&amp;", "&")
    second = html(console.get(next_url))
    assert _ids(second) == sorted(ids, reverse=True)[20:] and "下一页" not in second
    prev_url = re.search(r'rel="prev" href="([^"]+)"', second).group(1).replace("&amp;", "&")
    assert _ids(html(console.get(prev_url))) == _ids(first)
    # the whole network: no total (it would be a count of millions)
    assert "共 " not in html(console.get("/admin/service-orders"))


def test_an_orders_page_shows_its_timeline(app, console, make_estate, make_engineer, login):
    estate = make_estate(name="翠苑二区")
    first, second = make_engineer([estate], name="王师傅"), make_engineer([estate], name="李师傅")
    resident, (order_id,) = _requests(console, login, estate, 1)
    listing = html(console.get("/admin/service-orders"))
    assert f'href="/admin/service-orders/{order_id}"' in listing
    dispatched = console.get(f"/api/v1/service-orders/{order_id}", headers=resident.headers).json["engineer_id"]
    target = second if dispatched == first.engineer_id else first
    r = console.post(f"/admin/service-orders/{order_id}/assign",
                     data={"csrf_token": csrf_token(listing), "engineer_id": target.engineer_id})
    assert r.status_code == 302
    soon = (datetime.now(timezone.utc) + timedelta(hours=2)).isoformat()
    assert console.post(f"/api/v1/engineer/service-orders/{order_id}/schedule", headers=target.headers,
                        json={"scheduled_for": soon}).status_code == 200
    assert console.post(f"/api/v1/engineer/service-orders/{order_id}/complete", headers=target.headers).status_code == 200
    assert console.post(f"/api/v1/service-orders/{order_id}/review", headers=resident.headers,
                        json={"rating": 4, "text": "很专业"}).status_code == 201
    assert console.post(f"/api/v1/service-orders/{order_id}/complaints", headers=resident.headers,
                        json={"text": "收费偏高"}).status_code == 201
    page = html(console.get(f"/admin/service-orders/{order_id}"))
    events = re.findall(r'data-label="事件"[^>]*>([^<]+)</td>', page)
    assert events == ["提交服务请求", "自动派单", "客服派单", "已预约上门", "服务完成", "住户评价", "住户投诉"]
    assert "张阿姨" in page and "139****5678" in page and "3 幢 2 单元 501" in page and "★★★★ 很专业" in page
    assert f"派给 {'李师傅' if target is second else '王师傅'}" in page
    assert console.get("/admin/service-orders/999999").status_code == 404


def test_the_league_opens_on_a_default_city_shows_quiet_estates_and_colours_changes(app, console, make_estate):
    from community.stats.models import EstateMonthStat
    from core.extensions import db

    worse = make_estate(name="投诉多", city="嘉兴市", households=100)
    make_estate(name="没订单", city="嘉兴市", households=100)
    make_estate(name="别处", city="湖州市", households=100)
    month = datetime.now(timezone.utc).strftime("%Y-%m")
    last = (datetime.now(timezone.utc).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    with app.app_context():
        db.session.add_all([
            EstateMonthStat(estate_id=worse, month=last, orders=5, complaints=0, ratings_count=0, ratings_sum=0),
            EstateMonthStat(estate_id=worse, month=month, orders=2, complaints=3, ratings_count=0, ratings_sum=0)])
        db.session.commit()
    page = html(console.get(f"/admin/estate-league?month={month}"))  # no city: the city with most estates
    assert 'value="嘉兴市" selected' in page and "共 2 个小区" in page and "别处" not in page
    rows = page.split('data-testid="league-row"')[1:]
    assert "投诉多" in rows[0] and "没订单" in rows[1] and "本月无订单" in rows[1]
    orders_change = rows[0].split('data-testid="orders-change"')[1][:80]
    complaints_change = rows[0].split('data-testid="complaints-change"')[1][:80]
    assert 'class="worse">▼3' in orders_change  # fewer orders: red
    assert 'class="worse">▲3' in complaints_change  # more complaints: red, not green
    # the last choice is kept for the next visit
    console.get(f"/admin/estate-league?city=湖州市&month={month}")
    assert "别处" in html(console.get("/admin/estate-league"))

