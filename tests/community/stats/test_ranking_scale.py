"""The estate ranking costs the same with 10 or 10,000 covering engineers (issue 15): PostgreSQL
reads the first page straight from one index in ranking order and stops, with the plan it makes
for the values (custom) and with the one it reuses for a prepared statement (generic: psycopg
prepares a statement after 5 executions, and a generic plan knows nothing of the estate)."""
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="the query plan is PostgreSQL's")

COVERERS, SMALL_ESTATES = 10_000, 2_000
MAX_ROWS_READ = 200  # by any node of the plan, for a page of 50

SEED = [
    # 2,000 small estates, 3 coverers each with a record there (the planner's idea of an estate:
    # a generic plan expects a handful of coverage and stats rows), and the big one's 10,000
    # coverers: every 10th invited (ranked by imported history), every 97th gone.
    """INSERT INTO estates (code, name, province, city, district, address, households, status, created_at,
                            updated_at)
       SELECT 'SCALE' || g, '规模小区' || g, '广东省', '深圳市', '南山区', '', 500, 'active', :now, :now
       FROM generate_series(1, :small) g""",
    """INSERT INTO engineers (name, phone, employee_no, intro, status, created_at)
       SELECT '规模工程师' || g, '137' || lpad(g::text, 8, '0'), 'SCALE' || lpad(g::text, 6, '0'), '',
              CASE WHEN g % 97 = 0 THEN 'left' WHEN g % 10 = 0 THEN 'invited' ELSE 'active' END, :now
       FROM generate_series(1, :coverers) g""",
    """INSERT INTO engineer_estates (engineer_id, estate_id, assigned_at)
       SELECT g.id, :estate, :now FROM engineers g WHERE g.employee_no LIKE 'SCALE%'
       UNION ALL
       SELECT g.id, e.id, :now FROM engineers g
       JOIN estates e ON e.code = 'SCALE' || (1 + (g.id % :small)) WHERE g.employee_no LIKE 'SCALE%' AND g.id <= 3 * :small""",
    # 3 in 4 coverers have 1-3 completed orders in the big estate, rated 3-5, a few complained:
    # scores differ and ties (no record) remain.
    """INSERT INTO service_orders (source, estate_id, resident_phone, engineer_id, service_type, description, status,
                                   requested_at, assigned_at, completed_at, rating, complained, created_at, updated_at)
       SELECT 'import', :estate, NULL, g.id, 'repair', '', 'completed', r.req, r.req, r.req + interval '1 day',
              3 + (g.id * 7 + k) % 3, (g.id + k) % 37 = 0, r.req, r.req
       FROM engineers g CROSS JOIN LATERAL generate_series(1, 1 + g.id % 3) k
       CROSS JOIN LATERAL (SELECT :now - ((g.id * 13 + k * 101) % 700) * interval '1 day' AS req) r
       WHERE g.employee_no LIKE 'SCALE%' AND g.id % 4 <> 0""",
    """INSERT INTO service_orders (source, estate_id, resident_phone, engineer_id, service_type, description, status,
                                   requested_at, assigned_at, completed_at, rating, complained, created_at, updated_at)
       SELECT 'import', c.estate_id, NULL, c.engineer_id, 'repair', '', 'completed', :now, :now, :now, 5, false,
              :now, :now
       FROM engineer_estates c WHERE c.estate_id <> :estate""",
]


def _seed(app, owner_db, estate: int) -> None:
    from community.orders import services as orders
    from core.extensions import db

    now = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(hours=1)
    with app.app_context():
        for sql in SEED:
            db.session.execute(sa.text(sql), {"now": now, "estate": estate, "small": SMALL_ESTATES,
                                              "coverers": COVERERS})
        orders.rebuild_stats()  # scores every engineer in every estate from the orders
        db.session.commit()
    with owner_db.begin() as conn:  # planner statistics, as a running database has (the owner's right)
        conn.exec_driver_sql("ANALYZE estates, engineers, engineer_estates, engineer_estate_stats")


def _statement_of(app, estate: int, **kwargs) -> tuple[str, dict]:
    """The SQL text and parameters the ranking runs, as sent to the driver (the real statement)."""
    from community.stats import services
    from core.extensions import db

    captured = []

    def record(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", record)
        try:
            services.ranking(estate, **kwargs)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", record)
    assert len(captured) == 1, captured
    return captured[0]


def _prepared(statement: str, parameters: dict) -> tuple[str, str]:
    """PREPARE and EXECUTE texts for a pyformat statement: %(name)s becomes $1, $2, ..."""
    names: list[str] = []

    def number(match):
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"
    body = re.sub(r"%\((\w+)\)s", number, statement)

    def literal(value):
        return str(value) if isinstance(value, int) else "'" + str(value).replace("'", "''") + "'"
    return f"PREPARE ranking_page AS {body}", "EXECUTE ranking_page(" + ", ".join(
        literal(parameters[n]) for n in names) + ")"


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _rows_read(node: dict) -> float:
    """Rows a node produced or threw away, over all its loops."""
    per_loop = node["Actual Rows"] + node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Join Filter", 0)
    return per_loop * node["Actual Loops"]


def _explain_all(app, statement: str, parameters: dict, mode: str, runs: int) -> list[dict]:
    """EXPLAIN (ANALYZE) of the prepared statement (the ranking, the feed page) `runs` times under plan_cache_mode `mode` (from
    the sixth run on, `auto` may switch to the generic plan, as a psycopg-prepared statement does)."""
    from core.extensions import db

    prepare, execute = _prepared(statement, parameters)
    plans = []
    with app.app_context():
        conn = db.session.connection()
        conn.exec_driver_sql(f"SET plan_cache_mode = {mode}")
        conn.exec_driver_sql(prepare)
        for _ in range(runs):
            raw = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + execute).scalar()
            plans.append((raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"])
        conn.exec_driver_sql("DEALLOCATE ranking_page")
        conn.exec_driver_sql("RESET plan_cache_mode")
        db.session.rollback()
    return plans


def _expected(app, estate: int, statuses: tuple[str, ...]) -> list[int]:
    """The first 50 engineer ids by the ranking's rule, computed here from every coverer."""
    from community.stats import services
    from core.extensions import db

    unranked = services.components(0, 0, 0, 0, 0, 0)["score"]
    with app.app_context():
        rows = db.session.execute(sa.text(
            "SELECT c.engineer_id, s.score, s.first_service_at FROM engineer_estates c "
            "JOIN engineers g ON g.id = c.engineer_id "
            "LEFT JOIN engineer_estate_stats s ON s.engineer_id = c.engineer_id AND s.estate_id = c.estate_id "
            "WHERE c.estate_id = :estate AND g.status = ANY(:statuses)"), {"estate": estate, "statuses": list(statuses)}).all()
    far = datetime.max.replace(tzinfo=timezone.utc)
    rows.sort(key=lambda r: (-(r.score if r.score is not None else unranked), r.first_service_at or far, r.engineer_id))
    return [r.engineer_id for r in rows[:50]]


def test_the_first_page_is_an_index_range_read_whatever_the_coverage(app, owner_db, make_estate):
    from community.stats import services

    estate = make_estate()
    _seed(app, owner_db, estate)
    for activated_only in (False, True):  # the ranking, and dispatch's activated engineers
        with app.app_context():
            page = services.ranking(estate, activated_only=activated_only)
        statuses = ("active",) if activated_only else services.RANKED_STATUSES
        ids = [item["engineer"]["id"] for item in page]
        assert ids == _expected(app, estate, statuses)
        assert [item["rank"] for item in page] == list(range(1, 51))
        assert ids != sorted(ids)  # decided by the ranking keys, not the ids alone

        statement, parameters = _statement_of(app, estate, activated_only=activated_only)
        for mode, runs in (("force_generic_plan", 1), ("auto", 7)):
            for plan in _explain_all(app, statement, parameters, mode, runs):
                nodes = list(_nodes(plan))
                summary = [(n["Node Type"], n.get("Index Name"), _rows_read(n)) for n in nodes]
                assert not any(n["Node Type"] in ("Sort", "Incremental Sort", "Hash") for n in nodes), \
                    (activated_only, mode, summary)
                assert max(_rows_read(n) for n in nodes) <= MAX_ROWS_READ, (activated_only, mode, summary)
