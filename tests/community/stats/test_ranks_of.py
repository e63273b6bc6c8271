"""An engineer's rank in every estate they cover (for their public page): the same rank and score
as each estate's ranking, ties included, in one statement however many estates."""
from datetime import datetime, timedelta, timezone

from tests.community.stats.test_ranking_and_history import _import, count_statements


def test_ranks_of_equals_every_estates_ranking_in_one_statement(app, tmp_path, make_estate, make_engineer, admin,
                                                               client):
    from community.stats import services
    from core.extensions import db

    a, b, c = make_estate(), make_estate(), make_estate()
    everywhere = make_engineer([a, b, c])
    strong_in_a = make_engineer([a, b])
    strong_in_b = make_engineer([b])
    idle = [make_engineer([a, c]), make_engineer([a, c])]  # no record at all: tied, ordered by id
    now = datetime.now(timezone.utc)

    def row(key, estate, engineer, days, rating, complained=0):
        return (f"{key},{estate},{engineer.employee_no},,repair,{(now - timedelta(days=days + 1)).isoformat()},"
                f"{(now - timedelta(days=days)).isoformat()},{rating},{complained}")

    rows = [row(f"A{i}", a, strong_in_a, 10 + i, 5) for i in range(10)]
    rows += [row(f"B{i}", b, strong_in_b, 10 + i, 5) for i in range(10)]
    rows += [row(f"E{i}", a, everywhere, 5 + i, 2, complained=1) for i in range(3)]  # below the idle ones in a
    rows += [row(f"F{i}", c, everywhere, 5 + i, 5) for i in range(2)]
    assert _import(app, tmp_path, rows).exit_code == 0
    with app.app_context():
        rankings = {e: {item["engineer"]["id"]: {"rank": item["rank"], "score": item["score"]}
                        for item in services.ranking(e)} for e in (a, b, c)}
        engineers = [everywhere, strong_in_a, strong_in_b, *idle]
        for engineer in engineers:
            expected = {e: ranked[engineer.engineer_id] for e, ranked in rankings.items()
                        if engineer.engineer_id in ranked}
            assert services.ranks_of(engineer.engineer_id) == expected, engineer.engineer_id
        assert rankings[a][everywhere.engineer_id]["rank"] == 4  # the complaints put it last in a
        assert [rankings[a][g.engineer_id]["rank"] for g in idle] == [2, 3]  # a tie: the lower id first
        assert services.ranks_of(everywhere.engineer_id)[c]["rank"] == 1
        db.session.remove()
    with count_statements(app) as statements:
        with app.app_context():
            services.ranks_of(everywhere.engineer_id)
    assert len(statements) == 1
    # an engineer who left is in no ranking
    r = client.post(f"/api/v1/admin/engineers/{strong_in_b.engineer_id}/deactivate", headers=admin.headers, json={})
    assert r.status_code == 200
    with app.app_context():
        assert services.ranks_of(strong_in_b.engineer_id) == {}
        assert strong_in_b.engineer_id not in {i["engineer"]["id"] for i in services.ranking(b)}
        assert services.ranks_of(everywhere.engineer_id)[b]["rank"] == 1  # was 2, behind the one who left


def test_likes_of_counts_and_knows_mine(app, make_estate, login, make_engineer):
    from community.stats import services
    from core.extensions import db

    engineer = make_engineer([make_estate()])
    fans = [login(), login()]
    with app.app_context():
        for fan in fans:
            services.add_like(fan.user_id, engineer.engineer_id)
        db.session.commit()
        assert services.likes_of(engineer.engineer_id, fans[0].user_id) == (2, True)
        assert services.likes_of(engineer.engineer_id, engineer.user_id) == (2, False)
        assert services.likes_of(engineer.engineer_id) == (2, False)
        assert services.likes_of(engineer.engineer_id + 1000, fans[0].user_id) == (0, False)


def test_rank_in_one_estate_equals_its_ranking_ties_included(app, tmp_path, make_estate, make_engineer, admin, client):
    """The binding card's rank (rank_in: one estate) is the ranking's, where scores tie too: the
    earlier first service first, then the lower engineer id."""
    from community.stats import services

    a, elsewhere = make_estate(), make_estate()
    early, late, once = make_engineer([a]), make_engineer([a]), make_engineer([a, elsewhere])
    idle = [make_engineer([a]), make_engineer([a])]  # no record at all: tied, ordered by id
    away = make_engineer([elsewhere])
    now = datetime.now(timezone.utc)

    def row(key, engineer, days, rating):
        return (f"{key},{a},{engineer.employee_no},,repair,{(now - timedelta(days=days + 1)).isoformat()},"
                f"{(now - timedelta(days=days)).isoformat()},{rating},0")

    # early and late: the same record (a tied score), early's first service first
    rows = [row(f"E{i}", early, 20 + i, 5) for i in range(3)] + [row(f"L{i}", late, 10 + i, 5) for i in range(3)]
    rows += [row("O0", once, 15, 4)]
    assert _import(app, tmp_path, rows).exit_code == 0
    engineers = [early, late, once, *idle, away]
    with app.app_context():
        ranked = {item["engineer"]["id"]: item for item in services.ranking(a)}
        assert ranked[early.engineer_id]["score"] == ranked[late.engineer_id]["score"]
        assert [ranked[g.engineer_id]["rank"] for g in (early, late)] == [1, 2]
        assert ranked[idle[0].engineer_id]["score"] == ranked[idle[1].engineer_id]["score"]
        for engineer in engineers:
            expected = ranked[engineer.engineer_id]["rank"] if engineer.engineer_id in ranked else None
            assert services.rank_in(engineer.engineer_id, a) == expected, engineer.engineer_id
        assert services.rank_in(once.engineer_id, elsewhere) == services.ranks_of(once.engineer_id)[elsewhere]["rank"]
    with count_statements(app) as statements:
        with app.app_context():
            services.rank_in(late.engineer_id, a)
    assert len(statements) == 1
    # an engineer who left has no place, and those behind move up
    r = client.post(f"/api/v1/admin/engineers/{early.engineer_id}/deactivate", headers=admin.headers, json={})
    assert r.status_code == 200
    with app.app_context():
        assert services.rank_in(early.engineer_id, a) is None
        assert services.rank_in(late.engineer_id, a) == 1
        assert [services.rank_in(g.engineer_id, a) for g in idle] == [
            item["rank"] for item in services.ranking(a) if item["engineer"]["id"] in {g.engineer_id for g in idle}]
