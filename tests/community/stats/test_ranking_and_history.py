"""Engineer ranking on a crafted data set, history import (CSV and its rules), and the rebuild
agreeing with the statistics kept by events."""
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

HEADER = "external_id,estate_id,engineer_employee_no,resident_phone,service_type,requested_at,completed_at,rating,complained\n"


@contextmanager
def count_statements(app):
    """Counts the SQL statements the app's engine runs inside the block."""
    from core.extensions import db

    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def _import(app, tmp_path, lines: list[str], name="orders.csv"):
    path = tmp_path / name
    path.write_text(HEADER + "".join(line + "\n" for line in lines), encoding="utf-8")
    return app.test_cli_runner().invoke(args=["community", "import-orders", str(path)])


def _snapshot(app):
    """Every figure the statistics keep: the stats rows, days, months, and the ranking key each
    coverage row carries (issue 15)."""
    from community.estates.models import EngineerEstate
    from community.stats.models import EngineerEstateDay, EngineerEstateStat, EstateMonthStat
    from core.extensions import db

    with app.app_context():
        stats = {(s.engineer_id, s.estate_id): (s.completed, s.recent_completed, s.ratings_count, s.ratings_sum,
                                                s.complaints, s.likes, s.first_service_at, s.score)
                 for s in db.session.scalars(sa.select(EngineerEstateStat))}
        days = {(d.engineer_id, d.estate_id, d.day): d.completed for d in db.session.scalars(sa.select(EngineerEstateDay))}
        months = {(m.estate_id, m.month): (m.orders, m.complaints, m.ratings_count, m.ratings_sum)
                  for m in db.session.scalars(sa.select(EstateMonthStat))}
        keys = {(c.engineer_id, c.estate_id): (c.rank_score, c.rank_first_service_at)
                for c in db.session.scalars(sa.select(EngineerEstate))}
    return stats, days, months, keys


def _iso(days_ago: float) -> str:
    return (datetime.now(timezone.utc) - timedelta(days=days_ago)).isoformat()


def test_ranking_on_a_crafted_data_set(app, client, tmp_path, make_estate, make_engineer, login):
    estate = make_estate()
    one_star_wonder, steady, busy, complained, newcomer = (make_engineer([estate]) for _ in range(5))
    rows = []
    # one 5-star review must not beat fifty 4.8s (shrunk average)
    rows.append(f"W1,{estate},{one_star_wonder.employee_no},,repair,{_iso(30)},{_iso(29)},5,0")
    for i in range(50):
        rating = 4 if i % 5 == 0 else 5  # average 4.8
        rows.append(f"S{i},{estate},{steady.employee_no},,repair,{_iso(40 + i)},{_iso(39 + i)},{rating},0")
    # the same quality as steady but with complaints ranks below it
    for i in range(50):
        rating = 4 if i % 5 == 0 else 5
        rows.append(f"C{i},{estate},{complained.employee_no},,repair,{_iso(40 + i)},{_iso(39 + i)},{rating},"
                    f"{1 if i < 10 else 0}")
    # many recent orders without ratings: quantity counts too
    for i in range(60):
        rows.append(f"B{i},{estate},{busy.employee_no},,install,{_iso(10 + i)},{_iso(9 + i)},,0")
    result = _import(app, tmp_path, rows)
    assert result.exit_code == 0, result.output
    resident = login()
    ranking = client.get(f"/api/v1/estates/{estate}/engineers", headers=resident.headers).json
    order = [item["engineer"]["id"] for item in ranking["items"]]
    ids = {"wonder": one_star_wonder.engineer_id, "steady": steady.engineer_id, "busy": busy.engineer_id,
           "complained": complained.engineer_id, "newcomer": newcomer.engineer_id}
    assert order.index(ids["steady"]) < order.index(ids["wonder"])
    assert order.index(ids["steady"]) < order.index(ids["complained"])
    assert order.index(ids["busy"]) < order.index(ids["wonder"])
    assert [item["rank"] for item in ranking["items"]] == [1, 2, 3, 4, 5]
    steady_row = next(i for i in ranking["items"] if i["engineer"]["id"] == ids["steady"])
    assert steady_row["components"]["ratings_count"] == 50 and steady_row["components"]["avg_rating"] == 4.8
    assert 4.5 < steady_row["components"]["bayes_rating"] < 4.8
    assert steady_row["components"]["recent_completed"] == 50  # all within the 90-day window
    complained_row = next(i for i in ranking["items"] if i["engineer"]["id"] == ids["complained"])
    assert complained_row["components"]["complaints"] == 10
    scores = [item["score"] for item in ranking["items"]]
    assert scores == sorted(scores, reverse=True)


def test_ties_break_by_earlier_first_service_then_id(app, client, tmp_path, make_estate, make_engineer, login):
    estate = make_estate()
    late, early, never_a, never_b = (make_engineer([estate]) for _ in range(4))
    _import(app, tmp_path, [f"T1,{estate},{late.employee_no},,repair,{_iso(5)},{_iso(4)},,0",
                            f"T2,{estate},{early.employee_no},,repair,{_iso(8)},{_iso(7)},,0"])
    items = client.get(f"/api/v1/estates/{estate}/engineers", headers=login().headers).json["items"]
    assert items[0]["score"] == items[1]["score"]
    assert [i["engineer"]["id"] for i in items] == [early.engineer_id, late.engineer_id, never_a.engineer_id,
                                                   never_b.engineer_id]


def test_ranking_read_is_one_statement_whatever_the_size(app, client, tmp_path, make_estate, make_engineer, login):
    estate = make_estate()
    engineers = [make_engineer([estate]) for _ in range(6)]
    _import(app, tmp_path, [f"Q{i},{estate},{engineers[i % 6].employee_no},,repair,{_iso(3)},{_iso(2)},4,0"
                            for i in range(30)])
    resident = login()
    for _ in range(2):  # warm caches (the day's first request notes the activity and is not cached)
        client.get(f"/api/v1/estates/{estate}/engineers", headers=resident.headers)
    with count_statements(app) as statements:
        response = client.get(f"/api/v1/estates/{estate}/engineers", headers=resident.headers)
    assert response.status_code == 200 and len(response.json["items"]) == 6
    # the ranking alone: the caller comes from the warm principal cache (core.auth), and the
    # estate is looked up only when its ranking is empty (unknown estate: 404)
    assert len(statements) == 1, statements


def test_import_reports_bad_rows_by_line_and_is_idempotent(app, tmp_path, make_estate, make_engineer, login):
    from community.orders.models import ServiceOrder
    from core.extensions import db

    estate = make_estate()
    engineer = make_engineer([estate])
    lines = [
        f"H1,{estate},{engineer.employee_no},13800000001,repair,2024-03-01T10:00:00+08:00,2024-03-02T10:00:00+08:00,5,0",
        f"H2,{estate},{engineer.employee_no},,install,2024-03-05 09:00:00,,,0",                  # naive = Shanghai
        f"H3,999999,{engineer.employee_no},,repair,2024-03-01T10:00:00+08:00,,,0",              # line 4: estate
        f"H4,{estate},NOPE,,repair,2024-03-01T10:00:00+08:00,,,0",                               # line 5: engineer
        f"H5,{estate},{engineer.employee_no},,repair,yesterday,,,0",                              # line 6: time
        f"H6,{estate},{engineer.employee_no},,repair,2024-03-01T10:00:00+08:00,2024-03-02T10:00:00+08:00,7,2",
        f"H7,{estate},{engineer.employee_no},,repair,2024-03-03T10:00:00+08:00,2024-03-02T10:00:00+08:00,,0",
        f",{estate},{engineer.employee_no},,repair,2024-03-01T10:00:00+08:00,,,0",                # line 9: id
    ]
    result = _import(app, tmp_path, lines)
    assert result.exit_code == 0, result.output
    for line in (4, 5, 6, 7, 8, 9):
        assert f"第 {line} 行" in result.output, (line, result.output)
    assert "第 2 行" not in result.output and "第 3 行" not in result.output
    assert "新增 2" in result.output and "错误 6" in result.output
    with app.app_context():
        orders = {o.external_id: o for o in db.session.scalars(sa.select(ServiceOrder))}
        assert set(orders) == {"H1", "H2"}
        assert orders["H1"].status == "completed" and orders["H1"].rating == 5
        assert orders["H1"].requested_at == datetime(2024, 3, 1, 2, 0, tzinfo=timezone.utc)
        assert orders["H2"].status == "assigned" and orders["H2"].requested_at.hour == 1  # 09:00 Shanghai
    before = _snapshot(app)
    again = _import(app, tmp_path, lines[:2], name="again.csv")
    assert "新增 0，已存在跳过 2" in again.output
    assert _snapshot(app) == before


def test_import_links_residents_by_phone(app, client, tmp_path, make_estate, make_engineer, login):
    from core.accounts.models import User
    from core.extensions import db

    estate = make_estate()
    engineer = make_engineer([estate])
    resident = login()
    with app.app_context():
        db.session.get(User, resident.user_id).phone = "13900000009"
        db.session.commit()
    _import(app, tmp_path, [f"P1,{estate},{engineer.employee_no},13900000009,repair,{_iso(3)},{_iso(2)},,0"])
    mine = client.get("/api/v1/me/service-orders", headers=resident.headers).json["items"]
    assert [o["status"] for o in mine] == ["completed"]
    # served by import counts for likes, like an order made here
    assert client.post(f"/api/v1/engineers/{engineer.engineer_id}/like", headers=resident.headers).status_code == 200


def test_rebuild_agrees_with_the_incremental_statistics(app, client, tmp_path, make_estate, make_engineer, login):
    from community.orders import services as orders
    from community.stats import services as stats
    from core.extensions import db

    estate, other_estate = make_estate(), make_estate()
    a, b = make_engineer([estate, other_estate]), make_engineer([estate])
    _import(app, tmp_path, [
        f"R1,{estate},{a.employee_no},,repair,2025-11-30T23:30:00+08:00,2025-12-01T08:00:00+08:00,4,1",
        f"R2,{estate},{a.employee_no},,repair,{_iso(200)},{_iso(199)},5,0",  # outside the recent window
        f"R3,{other_estate},{a.employee_no},,repair,{_iso(20)},{_iso(19)},3,0",
        f"R4,{estate},{b.employee_no},,repair,{_iso(20)},,,1",  # complaint, never completed
        f"R5,{estate},,,repair,{_iso(20)},,,0",  # no engineer
    ])
    # platform events on top: requests, completion, a review, a complaint, a like
    resident = login()
    client.post("/api/v1/me/estates", headers=resident.headers, json={"estate_id": estate})
    for engineer in (a, b):
        order = client.post("/api/v1/service-requests", headers=resident.headers,
                            json={"estate_id": estate, "service_type": "repair",
                                  "preferred_engineer_id": engineer.engineer_id}).json
        soon = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
        client.post(f"/api/v1/engineer/service-orders/{order['id']}/schedule", headers=engineer.headers,
                    json={"scheduled_for": soon})
        client.post(f"/api/v1/engineer/service-orders/{order['id']}/complete", headers=engineer.headers)
        client.post(f"/api/v1/service-orders/{order['id']}/review", headers=resident.headers, json={"rating": 2})
        client.post(f"/api/v1/service-orders/{order['id']}/complaints", headers=resident.headers, json={"text": "慢"})
        client.post(f"/api/v1/engineers/{engineer.engineer_id}/like", headers=resident.headers)
    client.post("/api/v1/service-requests", headers=resident.headers, json={"estate_id": estate, "service_type": "other"})
    incremental = _snapshot(app)
    assert incremental[2][(estate, "2025-11")] == (1, 1, 1, 4)  # requested 23:30 Shanghai on Nov 30
    result = app.test_cli_runner().invoke(args=["community", "rebuild-stats"])
    assert result.exit_code == 0 and "已重算" in result.output
    assert _snapshot(app) == incremental
    # the window moves: with "today" 200 days on, every recent count falls to zero
    with app.app_context():
        later = stats.business_day(datetime.now(timezone.utc)) + timedelta(days=200)
        assert stats.roll_window(later) > 0
        db.session.commit()
        rolled = _snapshot(app)
        orders.rebuild_stats(today=later)
        db.session.commit()
    assert _snapshot(app) == rolled
    assert all(v[1] == 0 for v in rolled[0].values())


def test_service_orders_arrive_one_at_a_time_through_the_signed_integration(app, client, make_estate,
                                                                           make_engineer, login):
    import json
    import time

    from core import integrations

    estate = make_estate()
    engineer = make_engineer([estate])
    secret = app.config["INTEGRATION_SECRET"]

    def send(payload, *, timestamp=None, signature=None):
        raw = json.dumps(payload).encode()
        ts = str(int(time.time()) if timestamp is None else timestamp)
        return client.post("/api/v1/integrations/service-orders", data=raw, headers={
            "Content-Type": "application/json", "X-Linli-Timestamp": ts,
            "X-Linli-Signature": signature or integrations.sign(secret, ts, raw)})

    payload = {"external_id": "SVC-1", "estate_id": estate, "engineer_employee_no": engineer.employee_no,
               "service_type": "repair", "requested_at": _iso(3), "completed_at": _iso(2), "rating": 4}
    now = int(time.time())
    first = send(payload, timestamp=now)
    assert first.status_code == 200, first.json
    assert first.json["created"] is True and first.json["order"]["status"] == "completed"
    replay = send(payload, timestamp=now)  # the same signature again
    assert replay.status_code == 401 and replay.json["error"]["code"] == "signature_replayed"
    again = send(payload, timestamp=now + 1)  # a retry is signed anew

    assert again.status_code == 200 and again.json["created"] is False
    assert again.json["order"]["id"] == first.json["order"]["id"]
    assert send(payload, signature="0" * 64).status_code == 401
    assert send(payload, timestamp=int(time.time()) - 301).status_code == 401
    bad = send({**payload, "external_id": "SVC-2", "engineer_employee_no": "NOPE"})
    assert bad.status_code == 422 and bad.json["error"]["code"] == "order_refused"
    bad = send({**payload, "external_id": "SVC-3", "requested_at": "soon"})
    assert bad.status_code == 422 and "requested_at" in bad.json["error"]["details"]["fields"]
    items = client.get(f"/api/v1/estates/{estate}/engineers", headers=login().headers).json["items"]
    assert items[0]["components"]["ratings_count"] == 1 and items[0]["components"]["completed"] == 1


def test_the_window_job_is_scheduled_and_runs(app):
    from core.scheduler import all_jobs

    job = next(j for j in all_jobs() if j.name == "roll-ranking-window")
    result = app.test_cli_runner().invoke(args=["jobs", "run-once", "roll-ranking-window"])
    assert result.exit_code == 0, result.output
    assert job.trigger == "cron"
