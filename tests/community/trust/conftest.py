"""Fixtures of the fake-household tests: an estate, its engineer, and a rated binding."""
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import sqlalchemy as sa


@pytest.fixture
def estate(make_estate):
    # 100 households: the burst limit is max(5, 2 % of 100) = 5; the estate sits in Shenzhen.
    return make_estate(households=100, lat=22.540000, lng=113.950000)


@pytest.fixture
def engineer(make_engineer, estate):
    return make_engineer([estate])


@dataclass
class Bound:
    user_id: int
    token: str
    openid: str
    binding_id: int
    answer: dict

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def rated_binding(bind, mint_code, engineer, estate):
    """bind_one(openid=None, scene=None, **extra) -> Bound: a new resident scans and rates (5 stars)."""
    counter = iter(range(1, 10**6))

    def bind_one(openid: str | None = None, scene: str | None = None, **extra) -> Bound:
        openid = openid or f"oTrust{next(counter):05d}"
        scene = scene or mint_code(engineer, estate)["scene"]
        response = bind(scene, openid=openid, rating=5, **extra)
        assert response.status_code == 200, response.json
        answer = response.json
        return Bound(answer["user"]["id"], answer["token"], openid, answer["steward"]["binding_id"], answer)
    return bind_one


def balance(app, user_id: int):
    from points import services
    with app.app_context():
        return services.balance(user_id)


def watch(app, binding_id: int):
    from community.trust.models import BindingWatch
    from core.extensions import db
    with app.app_context():
        return db.session.get(BindingWatch, binding_id)


def flags(app, binding_id: int | None = None) -> list[tuple[int, str, str]]:
    """(binding_id, reason, status) of the flags, oldest first."""
    from community.trust.models import BindingFlag
    from core.extensions import db
    with app.app_context():
        stmt = sa.select(BindingFlag.binding_id, BindingFlag.reason, BindingFlag.status).order_by(BindingFlag.id)
        if binding_id is not None:
            stmt = stmt.where(BindingFlag.binding_id == binding_id)
        return [tuple(row) for row in db.session.execute(stmt)]


def age_binding(app, binding_id: int, days: int = 1) -> None:
    """Move a watched binding (and its resident's last active day) `days` into the past, with its
    resident's account at least as old, as a binding of that day would have (a binding comes after
    its resident's account: community.trust.services.user_active relies on it)."""
    from community.trust.models import BindingWatch
    from core.accounts.models import User
    from core.extensions import db
    with app.app_context():
        watched = db.session.get(BindingWatch, binding_id)
        watched.bound_at -= timedelta(days=days)
        resident = db.session.get(User, watched.resident_id)
        resident.last_active_on, resident.created_at = date(2000, 1, 1), min(resident.created_at, watched.bound_at)
        db.session.commit()
