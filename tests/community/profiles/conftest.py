"""Fixtures of the estate profile tests: estates with figures written straight into their tables
(month statistics, steward bindings) and tags through the services."""
from __future__ import annotations

import itertools

import pytest

_n = itertools.count(1)


@pytest.fixture
def db_(ctx):
    from core.extensions import db
    return db


@pytest.fixture
def estate(ctx):
    """estate(**fields) -> a new estate's id (an admin's create, committed)."""
    from community.estates import services
    from core.extensions import db

    def make(**fields) -> int:
        n = next(_n)
        data = {"name": f"画像小区{n}", "code": f"PF{n:05d}", "province": "广东省", "city": "深圳市",
                "district": "南山区", "households": 1000, **fields}
        created = services.create_estate(data, actor=None)
        db.session.commit()
        return created.id
    return make


@pytest.fixture
def month_stats(ctx):
    """month_stats(estate_id, month "YYYY-MM", orders=, complaints=, ratings_count=, ratings_sum=)."""
    from community.stats.models import EstateMonthStat
    from core.extensions import db

    def add(estate_id: int, month: str, **figures) -> None:
        db.session.add(EstateMonthStat(estate_id=estate_id, month=month, **{
            "orders": 0, "complaints": 0, "ratings_count": 0, "ratings_sum": 0, **figures}))
        db.session.commit()
    return add


@pytest.fixture
def bindings(ctx):
    """bindings(estate_id, active, ended=0) -> adds that many residents with an active steward
    binding in the estate (and `ended` with an ended one)."""
    from community.estates.models import Engineer
    from community.stewards.models import StewardBinding
    from core.accounts.models import User
    from core.db import utcnow
    from core.extensions import db

    engineer = Engineer(name="画像工程师", phone="13800000000", employee_no=f"PF{next(_n)}", status="active")
    db.session.add(engineer)
    db.session.flush()

    def add(estate_id: int, active: int, ended: int = 0) -> None:
        for i in range(active + ended):
            user = User(display_name=f"住户{i}")
            db.session.add(user)
            db.session.flush()
            db.session.add(StewardBinding(resident_id=user.id, engineer_id=engineer.id, estate_id=estate_id,
                                          start_reason="scan", ended_at=utcnow() if i >= active else None,
                                          end_reason="takeover" if i >= active else None))
        db.session.commit()
    return add


def matched(rule: dict, within: dict | None = None) -> set[int]:
    from community.profiles import services
    from core.extensions import db
    return set(db.session.scalars(services.matching_estates(services.validate_rule(rule), within)))
