"""Each coverage row carries its engineer's ranking key in the estate (issue 15: the ranking is
read from the coverage index in order): a copy of the stats row's score and first service, or the
unranked score, kept in step by every event that scores, by coverage added (an admin's edit, the
engineers import) and by the rebuild."""
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from tests.community.stats.test_ranking_and_history import _import


def _keys(app) -> dict:
    from community.estates.models import EngineerEstate
    from core.extensions import db

    with app.app_context():
        return {(c.engineer_id, c.estate_id): (c.rank_score, c.rank_first_service_at)
                for c in db.session.scalars(sa.select(EngineerEstate))}


def assert_keys_in_step(app) -> dict:
    """Every coverage row's key equals its stats row's (score, first service), or the unranked
    score and none without one; returns the keys."""
    from community.stats import services
    from community.stats.models import EngineerEstateStat
    from core.extensions import db

    with app.app_context():
        stats = {(s.engineer_id, s.estate_id): (s.score, s.first_service_at)
                 for s in db.session.scalars(sa.select(EngineerEstateStat))}
    keys = _keys(app)
    assert keys == {pair: stats.get(pair, (services.UNRANKED_SCORE, None)) for pair in keys}
    return keys


def test_the_unranked_default_is_the_formula_at_zero():
    from community.estates import models
    from community.stats import services

    assert services.UNRANKED_SCORE == services.components(0, 0, 0, 0, 0, 0)["score"] == models.UNRANKED_SCORE
    default = models.EngineerEstate.__table__.c.rank_score.server_default.arg.text
    assert float(default) == services.UNRANKED_SCORE


def test_coverage_rows_keep_the_ranking_key_in_step(app, client, admin, login, tmp_path, make_estate, make_engineer):
    from community.estates import services as estates
    from community.stats import services
    from core.extensions import db

    a, b = make_estate(code="KEY-A"), make_estate(code="KEY-B")
    x, y, idle = make_engineer([a]), make_engineer([a]), make_engineer([a, b])
    now = datetime.now(timezone.utc)

    def order(key, estate, engineer, days, rating):
        return (f"{key},{estate},{engineer.employee_no},,repair,{(now - timedelta(days=days + 1)).isoformat()},"
                f"{(now - timedelta(days=days)).isoformat()},{rating},0")

    # x and y served b too, before covering it (the manufacturer's history)
    assert _import(app, tmp_path, [order("X1", a, x, 3, 5), order("X2", b, x, 9, 5), order("X3", b, x, 2, 4),
                                   order("Y1", a, y, 4, 3), order("Y2", b, y, 5, 5)]).exit_code == 0
    keys = assert_keys_in_step(app)
    assert keys[(idle.engineer_id, a)][0] == services.UNRANKED_SCORE and (x.engineer_id, b) not in keys

    # an admin gives x estate b: its coverage row takes x's record there, not the unranked score
    r = client.put(f"/api/v1/admin/engineers/{x.engineer_id}/estates", headers=admin.headers, json={"estate_ids": [a, b]})
    assert r.status_code == 200, r.json
    keys = assert_keys_in_step(app)
    assert keys[(x.engineer_id, b)][0] != services.UNRANKED_SCORE and keys[(x.engineer_id, b)][1] is not None
    with app.app_context():
        assert services.ranking(b)[0]["engineer"]["id"] == x.engineer_id
    # taken away and given back: the same key again
    for estate_ids in ([a], [a, b]):
        client.put(f"/api/v1/admin/engineers/{x.engineer_id}/estates", headers=admin.headers,
                   json={"estate_ids": estate_ids})
    assert assert_keys_in_step(app) == keys

    # the engineers import gives y estate b
    with app.app_context():
        estates.import_engineers({y.employee_no: (2, {"name": "乙", "phone": "13800000002",
                                                      "estate_codes": ["KEY-A", "KEY-B"]})})
        db.session.commit()
    keys = assert_keys_in_step(app)
    assert keys[(y.engineer_id, b)][0] != services.UNRANKED_SCORE

    # events that score: a like (every estate of the engineer), a platform completion, the window
    with app.app_context():
        services.add_like(login().user_id, idle.engineer_id)
        services.add_like(login().user_id, x.engineer_id)
        db.session.commit()
    assert_keys_in_step(app)
    with app.app_context():
        later = services.business_day(now) + timedelta(days=200)
        assert services.roll_window(later) > 0
        db.session.commit()
    rolled = assert_keys_in_step(app)

    # the rebuild writes the same keys (even over keys gone wrong)
    with app.app_context():
        db.session.execute(sa.text("UPDATE engineer_estates SET rank_score = 0, rank_first_service_at = NULL"))
        db.session.commit()
    assert app.test_cli_runner().invoke(args=["community", "rebuild-stats"]).exit_code == 0
    with app.app_context():
        from community.orders import services as orders
        orders.rebuild_stats(today=later)
        db.session.commit()
    assert assert_keys_in_step(app) == rolled
    # and every ranking follows the keys
    with app.app_context():
        for estate in (a, b):
            ranked = services.ranking(estate)
            order_ = sorted(ranked, key=lambda i: (-rolled[(i["engineer"]["id"], estate)][0],
                                                   rolled[(i["engineer"]["id"], estate)][1] is None,
                                                   rolled[(i["engineer"]["id"], estate)][1] or now,
                                                   i["engineer"]["id"]))
            assert [i["engineer"]["id"] for i in ranked] == [i["engineer"]["id"] for i in order_]
