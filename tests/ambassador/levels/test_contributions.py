"""Contribution credit: day rows, lifetime total and leaderboard standings move together."""
from datetime import datetime, timezone

import sqlalchemy as sa


def test_credit_updates_days_total_and_every_standing(app, make_ambassador, make_estate):
    from ambassador.levels import services as contributions
    from ambassador.levels.models import Contribution, Standing
    from ambassador.models import Ambassador
    from core.extensions import db

    estate = make_estate(city="上海市")
    amb = make_ambassador(level=2, estate_ids=[estate], city="上海市")
    # 2026-11-30 23:30 in Shanghai is 15:30 UTC; the next one is December 1 in Shanghai.
    with app.app_context():
        assert contributions.credit(amb.user_id, 30, at=datetime(2026, 11, 30, 15, 30, tzinfo=timezone.utc))
        assert contributions.credit(amb.user_id, 12, at=datetime(2026, 11, 30, 16, 30, tzinfo=timezone.utc))
        assert contributions.credit(amb.user_id, -2, at=datetime(2026, 11, 30, 16, 40, tzinfo=timezone.utc))
        db.session.commit()
        days = dict(db.session.execute(sa.select(Contribution.day, Contribution.points)).all())
        assert {d.isoformat(): p for d, p in days.items()} == {"2026-11-30": 30, "2026-12-01": 10}
        assert db.session.get(Ambassador, amb.user_id).contribution_total == 40
        standings = {(s.scope, s.period): s.points for s in db.session.scalars(sa.select(Standing))}
        level_id = db.session.get(Ambassador, amb.user_id).level_id
        for scope in ("all", f"level:{level_id}", "city:上海市", f"estate:{estate}"):
            assert standings[(scope, "all")] == 40
            assert standings[(scope, "2026-11")] == 30
            assert standings[(scope, "2026-12")] == 10
            assert standings[(scope, "2026Q4")] == 40
        assert len(standings) == 4 * 4
        # a rebuild from the day rows agrees with the incremental rows
        contributions.rebuild_standings(amb.user_id)
        assert {(s.scope, s.period): s.points for s in db.session.scalars(sa.select(Standing))} == standings


def test_credit_ignores_users_who_are_not_ambassadors(app, login):
    from ambassador.levels import services as contributions

    resident = login()
    with app.app_context():
        assert contributions.credit(resident.user_id, 10) is False
