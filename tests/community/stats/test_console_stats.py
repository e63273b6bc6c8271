"""The console's statistics: region rollups kept by events (bindings per day, orders and
complaints per month) and by the nightly refresh (estates, households, residents with a
steward), the rebuild agreeing with them; the league of every estate of a scope, paged both
ways; unactivated engineers in the ranking but not requestable."""
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from tests.community.stats.test_ranking_and_history import _import


def _rollups(app):
    from community.stats.models import RegionDayStat, RegionMonthStat, RegionStat
    from core.extensions import db

    with app.app_context():
        return ({(r.city, r.district, r.day): r.bindings for r in db.session.scalars(sa.select(RegionDayStat))},
                {(r.city, r.district, r.month): (r.orders, r.complaints)
                 for r in db.session.scalars(sa.select(RegionMonthStat))},
                {(r.city, r.district): (r.bound, r.estates, r.households)
                 for r in db.session.scalars(sa.select(RegionStat))})


def _refresh_regions(app):
    from community.profiles.jobs import refresh_region_figures
    from core.extensions import db

    with app.app_context():
        refresh_region_figures()
        db.session.commit()


def test_rollups_follow_bindings_orders_and_complaints_and_the_rebuild_agrees(app, client, make_estate, make_engineer,
                                                                             mint_code, bind, login, tmp_path):
    from community.stats import services as stats

    west = make_estate(city="杭州市", district="西湖区", households=400)
    west2 = make_estate(city="杭州市", district="西湖区", households=600)
    north = make_estate(city="杭州市", district="拱墅区", households=1000)
    make_estate(city="宁波市", district="鄞州区", households=50)
    engineer = make_engineer([west, west2, north])
    code = mint_code(engineer, west)
    for _ in range(3):
        assert bind(code["scene"]).status_code in (200, 201)
    assert bind(mint_code(engineer, north)["scene"]).status_code in (200, 201)
    resident = login()
    client.post("/api/v1/me/estates", headers=resident.headers, json={"estate_id": west2})
    order = client.post("/api/v1/service-requests", headers=resident.headers,
                        json={"estate_id": west2, "service_type": "repair"}).json
    client.post("/api/v1/service-requests", headers=resident.headers, json={"estate_id": west2, "service_type": "other"})
    r = client.post(f"/api/v1/service-orders/{order['id']}/complaints", headers=resident.headers, json={"text": "没来"})
    assert r.status_code == 201, r.json
    _import(app, tmp_path, [f"H1,{north},{engineer.employee_no},,repair,2025-03-05T10:00:00+08:00,,,1"])
    _refresh_regions(app)

    with app.app_context():
        today = stats.business_day(datetime.now(timezone.utc))
        this_month = today.strftime("%Y-%m")
        days, months, regions = _rollups(app)
        assert days == {("杭州市", "西湖区", today): 3, ("杭州市", "拱墅区", today): 1}
        assert months[("杭州市", "西湖区", this_month)] == (2, 1)
        assert months[("杭州市", "拱墅区", "2025-03")] == (1, 1)
        assert regions[("杭州市", "西湖区")] == (3, 2, 1000) and regions[("杭州市", "拱墅区")] == (1, 1, 1000)

        city = stats.overview(city="杭州市")
        assert city["bindings_per_day"][-1] == {"label": today.strftime("%m-%d"), "value": 4}
        assert city["bindings_30d"] == 4 and (city["bound"], city["households"]) == (4, 2000)
        assert city["coverage"] == 0.002
        assert city["months"][-1] == {"label": this_month, "orders": 2, "complaints": 1,
                                      "orders_per_1000": 1.0, "complaints_per_1000": 0.5}
        district = stats.overview(city="杭州市", district="拱墅区")
        assert district["bindings_30d"] == 1 and district["households"] == 1000
        network = stats.overview()
        assert network["households"] == 2050 and network["estates"] == 4 and network["bound"] == 4
        assert network["extremes_city"] == "杭州市"  # the network's best and worst: its largest city's

    before = _rollups(app)
    result = app.test_cli_runner().invoke(args=["community", "rebuild-stats"])
    assert result.exit_code == 0, result.output
    assert _rollups(app) == before


def test_best_and_worst_estates_of_a_month_by_complaints_per_1000_households(app, make_estate):
    from community.stats import services as stats
    from community.stats.models import EstateMonthStat
    from core.extensions import db

    figures = {"平安": (1000, 10, 0), "吵闹": (100, 5, 3), "一般": (1000, 8, 1), "空置": (500, 0, 0)}
    ids = {name: make_estate(name=name, city="温州市", households=h) for name, (h, _, _) in figures.items()}
    with app.app_context():
        for name, (_, orders, complaints) in figures.items():
            if orders:
                db.session.add(EstateMonthStat(estate_id=ids[name], month="2026-05", orders=orders,
                                               complaints=complaints, ratings_count=0, ratings_sum=0))
        db.session.commit()
        worst = [r["estate"]["name"] for r in stats.extremes("2026-05", city="温州市", worst=True)]
        best = [r["estate"]["name"] for r in stats.extremes("2026-05", city="温州市", worst=False)]
    assert worst == ["吵闹", "一般", "平安"] and best == ["平安", "一般", "吵闹"]  # no orders: in neither


def test_the_league_shows_every_estate_of_the_city_and_pages_both_ways(app, make_estate):
    from community.stats import services as stats
    from community.stats.models import EstateMonthStat
    from core.extensions import db

    busy = make_estate(name="热闹苑", city="绍兴市", district="越城区", households=200)
    calm = make_estate(name="安静苑", city="绍兴市", district="越城区", households=1000)
    quiet = [make_estate(name=f"无单{i}", city="绍兴市", district="柯桥区", households=300) for i in range(4)]
    make_estate(name="外地", city="嘉兴市", households=100)
    with app.app_context():
        db.session.add_all([
            EstateMonthStat(estate_id=busy, month="2026-04", orders=4, complaints=0, ratings_count=0, ratings_sum=0),
            EstateMonthStat(estate_id=busy, month="2026-05", orders=6, complaints=2, ratings_count=0, ratings_sum=0),
            EstateMonthStat(estate_id=calm, month="2026-05", orders=3, complaints=0, ratings_count=2, ratings_sum=9)])
        db.session.commit()
        page = stats.league_page("orders_per_1000", "2026-05", city="绍兴市", limit=4)
        rows = page.items
        assert [r["estate"]["id"] for r in rows[:2]] == [busy, calm]
        assert rows[0]["value"] == 30.0 and rows[1]["value"] == 3.0
        assert (rows[0]["orders_change"], rows[0]["complaints_change"]) == (2, 2)
        assert all(r["no_orders"] and r["value"] == 0 for r in rows[2:])
        assert page.prev_cursor is None and page.next_cursor
        second = stats.league_page("orders_per_1000", "2026-05", city="绍兴市", limit=4, cursor=page.next_cursor)
        seen = [r["estate"]["id"] for r in rows + second.items]
        assert sorted(seen) == sorted([busy, calm, *quiet]) and len(seen) == 6  # every estate once, none outside
        back = stats.league_page("orders_per_1000", "2026-05", city="绍兴市", limit=4, before=second.prev_cursor)
        assert [r["estate"]["id"] for r in back.items] == [r["estate"]["id"] for r in rows]
        rating = stats.league_page("avg_rating", "2026-05", city="绍兴市", limit=10, ascending=True)
        assert rating.items[0]["estate"]["id"] == calm and rating.items[0]["value"] == 4.5
        assert all(r["value"] is None for r in rating.items[1:])  # no ratings: last, either way
        assert stats.league_size(city="绍兴市") == 6 and stats.league_size(city="绍兴市", district="柯桥区") == 4


def test_unactivated_engineers_rank_by_their_history_but_cannot_be_requested(app, client, tmp_path, admin,
                                                                            make_estate, make_engineer, login):
    estate = make_estate()
    active = make_engineer([estate])
    r = client.post("/api/v1/admin/engineers", headers=admin.headers, json={
        "name": "老师傅", "phone": "13800007777", "employee_no": "OLD01", "estate_ids": [estate]})
    invited = r.json["id"]
    done = (datetime.now(timezone.utc) - timedelta(days=3)).isoformat()
    _import(app, tmp_path, [f"OLD-{i},{estate},OLD01,,repair,{done},{done},5,0" for i in range(6)])
    resident = login()
    items = client.get(f"/api/v1/estates/{estate}/engineers", headers=resident.headers).json["items"]
    assert [(i["engineer"]["id"], i["activated"]) for i in items] == [(invited, False), (active.engineer_id, True)]
    client.post("/api/v1/me/estates", headers=resident.headers, json={"estate_id": estate})
    r = client.post("/api/v1/service-requests", headers=resident.headers,
                    json={"estate_id": estate, "service_type": "repair", "preferred_engineer_id": invited})
    assert r.status_code == 409 and r.json["error"]["code"] == "engineer_not_activated"
    assert "尚未激活" in r.json["error"]["message"]
    # dispatch takes the best activated engineer, not the better-ranked unactivated one
    r = client.post("/api/v1/service-requests", headers=resident.headers, json={"estate_id": estate, "service_type": "repair"})
    assert r.status_code == 201 and r.json["engineer_id"] == active.engineer_id
