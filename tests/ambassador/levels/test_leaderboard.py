"""Leaderboards: ranks and ties, scopes (all, estate, city, level), periods, who appears, and
spendable points kept apart from contribution."""
from datetime import date, datetime, time, timedelta, timezone

import pytest
import sqlalchemy as sa

from core.formatting import BUSINESS_TZ


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), BUSINESS_TZ).astimezone(timezone.utc)


def error_code(response) -> str:
    return response.json["error"]["code"]


@pytest.fixture
def board(app, make_ambassador, make_estate):
    """Five ambassadors in two estates and two cities; one suspended. Returns a namespace of them."""
    from ambassador.levels import services as contributions
    from ambassador.models import Ambassador
    from core.db import utcnow
    from core.extensions import db

    class Board:
        pass

    b = Board()
    b.estate_a, b.estate_b = make_estate(city="上海市"), make_estate(city="上海市")
    b.a1 = make_ambassador(level=2, estate_ids=[b.estate_a], city="上海市")
    b.a2 = make_ambassador(level=2, estate_ids=[b.estate_b, b.estate_a], city="上海市")
    b.a3 = make_ambassador(level=1, estate_ids=[b.estate_b], city="北京市")
    b.a4 = make_ambassador(level=3, estate_ids=[b.estate_a], city="上海市")
    b.a5 = make_ambassador(level=1, estate_ids=[b.estate_a], city="上海市")
    names = [(b.a1, "张三"), (b.a2, "李四"), (b.a3, "王小五"), (b.a4, "欧阳娜娜"), (b.a5, "赵六")]
    now = utcnow()
    with app.app_context():
        for account, name in names:
            db.session.get(Ambassador, account.user_id).real_name = name
        for account, points in ((b.a1, 300), (b.a2, 500), (b.a3, 500), (b.a4, 100), (b.a5, 1000)):
            contributions.credit(account.user_id, points, at=now)
        contributions.credit(b.a4.user_id, 800, at=now - timedelta(days=400))  # all time only
        db.session.get(Ambassador, b.a5.user_id).status = "suspended"
        db.session.commit()
    return b


def get(client, account, **params):
    return client.get("/api/v1/ambassador/leaderboard", headers=account.headers, query_string=params)


def table(response) -> list[tuple]:
    assert response.status_code == 200, response.json
    return [(i["rank"], i["name"], i["level"], i["points"], i["is_me"]) for i in response.json["items"]]


def test_all_ambassadors_this_month_with_ties_sharing_a_rank(client, board):
    response = get(client, board.a1, scope="all", period="month")
    assert table(response) == [(1, "李**", "银牌代言人", 500, False), (1, "王**", "见习代言人", 500, False),
                               (3, "张**", "银牌代言人", 300, True), (4, "欧阳**", "金牌代言人", 100, False)]
    assert response.json["me"] == {"rank": 3, "points": 300}
    assert response.json["scope_key"] == "all"
    assert response.json["period_key"] == datetime.now(BUSINESS_TZ).strftime("%Y-%m")
    # the default is everyone, this month
    assert table(get(client, board.a1)) == table(response)


def test_all_time_counts_earlier_contributions(client, board):
    response = get(client, board.a2, period="all")
    assert table(response) == [(1, "欧阳**", "金牌代言人", 900, False), (2, "李**", "银牌代言人", 500, True),
                               (2, "王**", "见习代言人", 500, False), (4, "张**", "银牌代言人", 300, False)]
    assert response.json["me"] == {"rank": 2, "points": 500}


def test_estate_scope_defaults_to_the_first_estate_and_refuses_others(client, board, make_estate):
    response = get(client, board.a1, scope="estate")
    assert response.json["scope_key"] == f"estate:{board.estate_a}"
    assert [(r, n, p) for r, n, _, p, _ in table(response)] == [(1, "李**", 500), (2, "张**", 300), (3, "欧阳**", 100)]
    # a2 serves both estates: the first is the lower id; the other on request
    assert get(client, board.a2, scope="estate").json["scope_key"] == f"estate:{board.estate_a}"
    response = get(client, board.a2, scope="estate", estate_id=board.estate_b)
    assert [(r, n, p, me) for r, n, _, p, me in table(response)] == [(1, "李**", 500, True), (1, "王**", 500, False)]
    assert response.json["me"] == {"rank": 1, "points": 500}
    response = get(client, board.a1, scope="estate", estate_id=board.estate_b)
    assert response.status_code == 422 and error_code(response) == "not_your_estate"
    assert get(client, board.a1, scope="estate", estate_id=make_estate()).status_code == 422


def test_city_and_level_scopes(client, board):
    response = get(client, board.a1, scope="city")
    assert response.json["scope_key"] == "city:上海市"
    assert [n for _, n, _, _, _ in table(response)] == ["李**", "张**", "欧阳**"]
    response = get(client, board.a3, scope="city")
    assert [(n, me) for _, n, _, _, me in table(response)] == [("王**", True)]
    response = get(client, board.a1, scope="level")
    assert [(r, n, lvl) for r, n, lvl, _, _ in table(response)] == [(1, "李**", "银牌代言人"), (2, "张**", "银牌代言人")]
    # the suspended level-1 ambassador has more points but does not appear, nor count for rank
    response = get(client, board.a3, scope="level")
    assert table(response) == [(1, "王**", "见习代言人", 500, True)] and response.json["me"]["rank"] == 1


def test_limit_cuts_the_list_but_not_my_rank(client, board):
    response = get(client, board.a4, limit=2)
    assert len(response.json["items"]) == 2 and response.json["me"] == {"rank": 4, "points": 100}


def test_ambassadors_without_a_city_or_estate_are_told_so(client, make_ambassador):
    amb = make_ambassador(level=1)
    for scope, code in (("city", "no_city"), ("estate", "no_estate")):
        response = get(client, amb, scope=scope)
        assert response.status_code == 422 and error_code(response) == code
    response = get(client, amb)
    assert response.status_code == 200 and response.json["items"] == [] and response.json["me"] == {
        "rank": 1, "points": 0}


@pytest.mark.parametrize("params", [{"scope": "world"}, {"period": "year"}, {"limit": 0}, {"limit": 101},
                                    {"estate_id": "x"}, {"estate_id": 2**63}])
def test_bad_parameters_are_422(client, board, params):
    response = get(client, board.a1, **params)
    assert response.status_code == 422 and "fields" in response.json["error"]["details"], response.json


def test_only_active_ambassadors_may_look(client, board, login, admin):
    for account in (board.a5, login(), admin):
        response = get(client, account)
        assert response.status_code == 403 and error_code(response) == "not_an_ambassador"
    assert client.get("/api/v1/ambassador/leaderboard").status_code == 401


def test_months_and_quarters_are_shanghai_periods(app, make_ambassador):
    from ambassador.levels import services as contributions, services as levels
    from core.extensions import db

    amb, other = make_ambassador(level=1), make_ambassador(level=1)
    with app.app_context():
        contributions.credit(amb.user_id, 7, at=at(date(2026, 7, 1)))  # Q3
        contributions.credit(amb.user_id, 30, at=at(date(2026, 10, 1), hour=0))  # 2026-09-30 16:00 UTC: Q4
        contributions.credit(amb.user_id, 200, at=at(date(2026, 11, 20)))
        contributions.credit(other.user_id, 220, at=at(date(2026, 10, 31), hour=23))  # still October in Shanghai
        db.session.commit()
        now = at(date(2026, 11, 25))
        month = levels.leaderboard(amb.user_id, "all", "month", now=now)
        quarter = levels.leaderboard(amb.user_id, "all", "quarter", now=now)
        whole = levels.leaderboard(amb.user_id, "all", "all", now=now)
        assert (month.period_key, quarter.period_key) == ("2026-11", "2026Q4")
        assert [i["points"] for i in month.items] == [200] and month.me == {"rank": 1, "points": 200}
        assert [i["points"] for i in quarter.items] == [230, 220] and quarter.me["rank"] == 1
        assert whole.me == {"rank": 1, "points": 237}
        assert levels.leaderboard(other.user_id, "all", "month", now=now).me == {"rank": 2, "points": 0}


def test_spending_points_changes_neither_rank_nor_level(app, client, board):
    from ambassador.levels import services as levels
    from core.extensions import db
    from points import services

    with app.app_context():
        services.grant(board.a2.user_id, 1000, "adjustment", "test:lb-grant", "测试发放")
        db.session.commit()
    with app.app_context():  # levels settle first (a3's 500 reach silver)
        levels.evaluate_all(after_batch=db.session.commit)
    before = get(client, board.a2, period="all").json
    level_before = before["items"][1]["level"]
    with app.app_context():
        services.spend(board.a2.user_id, 990, "spend", "test:lb-spend", "测试消费")
        db.session.commit()
        assert services.balance(board.a2.user_id).available == 10
        levels.evaluate_all(after_batch=db.session.commit)
    after = get(client, board.a2, period="all").json
    assert after == before and after["me"] == {"rank": 2, "points": 500}
    assert after["items"][1]["level"] == level_before == "银牌代言人"


def test_a_level_change_moves_the_ambassador_to_the_new_level_board(app, client, admin, board):
    from ambassador.models import Level
    from core.extensions import db

    with app.app_context():
        gold = db.session.scalar(sa.select(Level.id).where(Level.code == "gold"))
    response = client.post(f"/api/v1/admin/ambassadors/{board.a1.user_id}/level", headers=admin.headers,
                           json={"level_id": gold, "reason": "调整"})
    assert response.status_code == 200
    response = get(client, board.a1, scope="level", period="all")
    assert [(n, p, me) for _, n, _, p, me in table(response)] == [("欧阳**", 900, False), ("张**", 300, True)]
    assert [n for _, n, _, _, _ in table(get(client, board.a2, scope="level", period="all"))] == ["李**"]
