"""The feed's first page reads the estate's own newest posts from one index and stops (issue 15),
also for a quiet estate whose posts are older than everyone else's: before the (estate_id, id)
index PostgreSQL walked the whole table's primary key backwards, filtering by estate."""
import pytest
import sqlalchemy as sa

from tests.community.stats.test_ranking_scale import _explain_all, _nodes, _rows_read
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="the query plan is PostgreSQL's")

OTHER_ESTATES, POSTS_EACH = 200, 100
MAX_ROWS_READ = 100  # by any node of the plan, for a page of 20

POSTS = """INSERT INTO estate_posts (estate_id, author_id, kind, text, photos, status, security_verdict,
                                     answers_count, comments_count, likes_count, created_at)
           SELECT :estate, :author, 'question', '帖子 ' || k, '[]'::json,
                  CASE WHEN k % 9 = 4 THEN 'hidden' ELSE 'published' END, 'pass', 0, 0, 0, now()
           FROM generate_series(1, :posts) k"""


def test_a_quiet_estates_first_page_is_an_index_range_read(app, client, owner_db, make_estate, login):
    from core.extensions import db

    quiet = make_estate()
    resident = login()
    client.post("/api/v1/me/estates", headers=resident.headers, json={"estate_id": quiet})
    with app.app_context():
        db.session.execute(sa.text(POSTS), {"estate": quiet, "author": resident.user_id, "posts": 30})
        db.session.commit()
    others = [make_estate() for _ in range(OTHER_ESTATES)]
    with app.app_context():  # everyone else's posts come after the quiet estate's
        for estate in others:
            db.session.execute(sa.text(POSTS), {"estate": estate, "author": resident.user_id, "posts": POSTS_EACH})
        db.session.commit()
    with owner_db.begin() as conn:  # planner statistics, as a running database has
        conn.exec_driver_sql("ANALYZE estate_posts, users, engineers, post_answers, post_likes")

    captured = []

    def record(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        page = client.get(f"/api/v1/estates/{quiet}/feed", headers=resident.headers)
    finally:
        with app.app_context():
            sa.event.remove(db.engine, "before_cursor_execute", record)
    assert page.status_code == 200 and len(page.json["items"]) == 20
    assert {item["estate_id"] for item in page.json["items"]} == {quiet}
    statement, parameters = next((s, p) for s, p in captured if "estate_posts" in s and "LIMIT" in s)

    for mode, runs in (("force_generic_plan", 1), ("auto", 7)):
        for plan in _explain_all(app, statement, parameters, mode, runs):
            nodes = list(_nodes(plan))
            summary = [(n["Node Type"], n.get("Index Name"), _rows_read(n)) for n in nodes]
            assert max(_rows_read(n) for n in nodes) <= MAX_ROWS_READ, (mode, summary)
