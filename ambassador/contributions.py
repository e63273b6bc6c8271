"""Contribution points: what an ambassador earned as an ambassador (tasks, referrals, value
sharing), kept apart from the spendable balance so spending never lowers a rank or a level.

`credit` is the one way in: every package that pays an ambassador calls it in the same
transaction as the grant. It adds to the day's row (the rolling window of level evaluation sums
days), to the lifetime total, and to the precomputed leaderboard rows of every scope the
ambassador belongs to (all, level, city, each estate) for each period (month, quarter, all time).
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from ambassador.models import Ambassador, AmbassadorEstate, Contribution, Standing
from core.db import upsert_add, utcnow
from core.extensions import db
from core.formatting import BUSINESS_TZ

ALL = "all"


def business_day(at: datetime) -> date:
    return at.astimezone(BUSINESS_TZ).date()


def month_period(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def quarter_period(day: date) -> str:
    return f"{day.year:04d}Q{(day.month - 1) // 3 + 1}"


def periods_of(day: date) -> list[str]:
    return [ALL, month_period(day), quarter_period(day)]


def scopes_of(ambassador: Ambassador, estate_ids) -> list[str]:
    scopes = [ALL, f"level:{ambassador.level_id}"]
    if ambassador.city:
        scopes.append(f"city:{ambassador.city}")
    scopes.extend(f"estate:{estate_id}" for estate_id in sorted(estate_ids))
    return scopes


def _add(model, key: dict, points: int) -> None:
    upsert_add(model.__table__, key, {"points": points})


def estate_ids_of(user_id: int) -> list[int]:
    return list(db.session.scalars(sa.select(AmbassadorEstate.estate_id).where(AmbassadorEstate.user_id == user_id)))


def credit(user_id: int, points: int, *, at: datetime | None = None) -> bool:
    """Add `points` (negative for a reversal) to an ambassador's contribution; False when the
    user is not an ambassador (nothing recorded)."""
    if not points:
        return False
    ambassador = db.session.get(Ambassador, user_id)
    if ambassador is None:
        return False
    day = business_day(at or utcnow())
    _add(Contribution, {"user_id": user_id, "day": day}, points)
    db.session.execute(sa.update(Ambassador).where(Ambassador.user_id == user_id)
                       .values(contribution_total=Ambassador.contribution_total + points)
                       .execution_options(synchronize_session=False))
    for scope in scopes_of(ambassador, estate_ids_of(user_id)):
        for period in periods_of(day):
            _add(Standing, {"scope": scope, "period": period, "user_id": user_id}, points)
    return True


def move_scope(user_id: int, old_scope: str, new_scope: str | None) -> None:
    """Carry an ambassador's standings from one scope to another (a level change, a new city or
    estate list); `new_scope=None` drops them (the ambassador left that scope)."""
    if old_scope == new_scope:
        return
    rows = db.session.execute(sa.select(Standing.period, Standing.points)
                              .where(Standing.scope == old_scope, Standing.user_id == user_id)).all()
    db.session.execute(sa.delete(Standing).where(Standing.scope == old_scope, Standing.user_id == user_id))
    if new_scope is not None:
        for period, points in rows:
            _add(Standing, {"scope": new_scope, "period": period, "user_id": user_id}, points)


def rebuild_standings(user_id: int) -> None:
    """Recompute one ambassador's standings from their contribution days (after a change of
    estates or city: the new scopes get the whole history)."""
    ambassador = db.session.get(Ambassador, user_id)
    db.session.execute(sa.delete(Standing).where(Standing.user_id == user_id))
    if ambassador is None or ambassador.status == "removed":
        return
    totals: dict[str, int] = {}
    for day, points in db.session.execute(sa.select(Contribution.day, Contribution.points)
                                          .where(Contribution.user_id == user_id)):
        for period in periods_of(day):
            totals[period] = totals.get(period, 0) + points
    for scope in scopes_of(ambassador, estate_ids_of(user_id)):
        for period, points in totals.items():
            _add(Standing, {"scope": scope, "period": period, "user_id": user_id}, points)
