"""Estate KPIs on a crafted data set: counts by month of request in Asia/Shanghai, rates per 1,000
households, month-on-month and year-on-year ratios with zero bases, CSV export, league table."""
import csv
import io

import pytest

from tests.community.stats.test_ranking_and_history import _import, count_statements


@pytest.fixture
def world(app, tmp_path, make_estate, make_engineer):
    estate = make_estate(households=2000, city="杭州市", district="西湖区")
    empty = make_estate(households=0, city="杭州市", district="西湖区")
    engineer = make_engineer([estate, empty])
    no = engineer.employee_no
    rows = [
        # 2025-01: 2 orders (one rated 4, one complained)
        f"K1,{estate},{no},,repair,2025-01-10T10:00:00+08:00,2025-01-11T10:00:00+08:00,4,0",
        f"K2,{estate},{no},,repair,2025-01-20T10:00:00+08:00,2025-01-21T10:00:00+08:00,,1",
        # 2025-12-31 23:30 in Shanghai is December, though 15:30 UTC; 2026-01-01 00:10 Shanghai is January
        f"K3,{estate},{no},,repair,2025-12-31T15:30:00+00:00,2026-01-02T10:00:00+08:00,5,0",
        f"K4,{estate},{no},,repair,2025-12-31T16:10:00+00:00,2026-01-02T10:00:00+08:00,3,1",
        # 2026-01: K4 above plus 4 more = 5 orders, 2 complaints, ratings 3, 5, 4
        *(f"K{5 + i},{estate},{no},,repair,2026-01-1{i}T10:00:00+08:00,2026-01-2{i}T10:00:00+08:00,"
          f"{(5, 4, '', '')[i]},{1 if i == 0 else 0}" for i in range(4)),
        # the estate without households on record
        f"Z1,{empty},{no},,repair,2026-01-05T10:00:00+08:00,,,0",
    ]
    result = _import(app, tmp_path, rows)
    assert result.exit_code == 0 and "错误 0" in result.output, result.output
    return estate, empty


def test_kpi_arithmetic_with_month_boundaries_and_zero_bases(client, admin, world):
    estate, empty = world
    body = client.get(f"/api/v1/admin/estates/{estate}/kpis?from=2025-12&to=2026-02", headers=admin.headers).json
    assert body["estate_id"] == estate and body["households"] == 2000
    dec, jan, feb = body["months"]
    assert dec == {"month": "2025-12", "orders": 1, "complaints": 0, "orders_per_1000": 0.5,
                   "complaints_per_1000": 0.0, "avg_rating": 5.0, "orders_mom": None, "orders_yoy": None,
                   "complaints_mom": None, "complaints_yoy": None}
    assert jan["orders"] == 5 and jan["complaints"] == 2
    assert jan["orders_per_1000"] == 2.5 and jan["complaints_per_1000"] == 1.0
    assert jan["avg_rating"] == 4.0  # (3 + 5 + 4) / 3
    assert jan["orders_mom"] == 4.0  # 1 → 5: +400 %
    assert jan["orders_yoy"] == 1.5  # 2 → 5: +150 %
    assert jan["complaints_mom"] is None  # December had none: no base
    assert jan["complaints_yoy"] == 1.0  # 1 → 2
    assert feb == {"month": "2026-02", "orders": 0, "complaints": 0, "orders_per_1000": 0.0,
                   "complaints_per_1000": 0.0, "avg_rating": None, "orders_mom": -1.0, "orders_yoy": None,
                   "complaints_mom": -1.0, "complaints_yoy": None}
    zero = client.get(f"/api/v1/admin/estates/{empty}/kpis?from=2026-01&to=2026-01", headers=admin.headers).json
    assert zero["months"][0]["orders"] == 1 and zero["months"][0]["orders_per_1000"] is None


def test_kpi_query_validation_and_access(client, admin, login, world):
    estate, _ = world
    for query in ("from=2026-13&to=2026-01", "from=2026-02&to=2026-01", "to=2026-01", "from=2016-01&to=2026-12",
                  "from=26-1&to=2026-01"):
        r = client.get(f"/api/v1/admin/estates/{estate}/kpis?{query}", headers=admin.headers)
        assert r.status_code == 422, (query, r.json)
    assert client.get("/api/v1/admin/estates/999999/kpis?from=2026-01&to=2026-01",
                      headers=admin.headers).status_code == 404
    assert client.get(f"/api/v1/admin/estates/{estate}/kpis?from=2026-01&to=2026-01",
                      headers=login().headers).status_code == 403


def test_kpi_read_costs_at_most_three_statements_whatever_the_range(app, client, admin, world):
    estate, _ = world
    client.get(f"/api/v1/admin/estates/{estate}/kpis?from=2026-01&to=2026-01", headers=admin.headers)
    with count_statements(app) as statements:
        r = client.get(f"/api/v1/admin/estates/{estate}/kpis?from=2016-01&to=2025-12", headers=admin.headers)
    assert r.status_code == 200 and len(r.json["months"]) == 120
    assert len(statements) <= 3, statements


def test_kpi_csv_export(client, admin, world):
    estate, _ = world
    r = client.get(f"/api/v1/admin/estates/{estate}/kpis.csv?from=2025-12&to=2026-01", headers=admin.headers)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    text = r.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["月份", "订单数", "投诉数"]
    assert rows[1][:4] == ["2025-12", "1", "0", "0.5"] and rows[1][6] == ""  # no base: empty, not an error
    assert rows[2][:3] == ["2026-01", "5", "2"]


def test_league_table_by_kpi_within_a_city(client, admin, world, make_estate, tmp_path, app, make_engineer):
    estate, empty = world
    small = make_estate(households=100, city="杭州市", district="滨江区")
    engineer = make_engineer([small])
    _import(app, tmp_path, [f"L{i},{small},{engineer.employee_no},,repair,2026-01-0{i + 1}T10:00:00+08:00,,,0"
                            for i in range(3)], name="league.csv")
    r = client.get("/api/v1/admin/estate-league?kpi=orders_per_1000&month=2026-01&city=杭州市", headers=admin.headers)
    assert r.status_code == 200, r.json
    items = r.json["items"]
    # 30 per 1,000 beats 2.5; the estate without households has no rate and is left out
    assert [(i["estate"]["id"], i["value"]) for i in items] == [(small, 30.0), (estate, 2.5)]
    by_orders = client.get("/api/v1/admin/estate-league?kpi=orders&month=2026-01&district=西湖区&order=asc",
                           headers=admin.headers).json["items"]
    assert [(i["estate"]["id"], i["value"]) for i in by_orders] == [(empty, 1.0), (estate, 5.0)]
    assert client.get("/api/v1/admin/estate-league?kpi=bogus&month=2026-01&city=杭州市",
                      headers=admin.headers).status_code == 422
    assert client.get("/api/v1/admin/estate-league?kpi=orders&month=2026-01", headers=admin.headers).status_code == 422
