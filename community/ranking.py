"""Per-estate engineer ranking and per-estate monthly KPI statistics, kept up to date by events.

Every event that changes a figure calls one function here in the same transaction (an order
requested or completed, a rating, a complaint, a like); reads are index lookups of the
precomputed rows. `rebuild` recomputes everything from the orders and likes; it must agree with
the incremental rows (a test proves it).

The score (documented in the README):

    bayes     = (PRIOR_WEIGHT * PRIOR_RATING + sum of ratings) / (PRIOR_WEIGHT + number of ratings)
    rating    = (bayes - 1) / 4                                  0..1
    liked     = likes / (likes + LIKES_HALF)                     0..1, half at LIKES_HALF likes
    complaint = complaints / (completed + COMPLAINT_PRIOR)       shrunk complaint rate
    quality   = 0.7 * rating + 0.3 * liked - complaint
    volume    = recent / (recent + VOLUME_HALF)                  0..1, orders completed in the window
    score     = 100 * (0.6 * quality + 0.4 * volume), rounded to 4 decimals

Ties: score, then earlier first service, then lower engineer id.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from community.models import (Engineer, EngineerEstate, EngineerEstateDay, EngineerEstateStat, EngineerLike,
                              EstateMonthStat, ServiceOrder)
from core.db import dialect_insert, upsert_add, utcnow
from core.extensions import db
from core.formatting import BUSINESS_TZ

PRIOR_RATING, PRIOR_WEIGHT = 4.5, 10
LIKES_HALF, COMPLAINT_PRIOR, VOLUME_HALF = 10, 5, 20
QUALITY_WEIGHT, VOLUME_WEIGHT = 0.6, 0.4


def business_day(at: datetime) -> date:
    return at.astimezone(BUSINESS_TZ).date()


def month_of(at: datetime) -> str:
    return business_day(at).strftime("%Y-%m")


def window_start(today: date | None = None) -> date:
    """First Asia/Shanghai day of the recent window (RANKING_WINDOW_DAYS days, today included)."""
    today = today or business_day(utcnow())
    return today - timedelta(days=current_app.config["RANKING_WINDOW_DAYS"] - 1)


def components(completed: int, recent: int, ratings_count: int, ratings_sum: int, complaints: int,
               likes: int) -> dict:
    bayes = (PRIOR_WEIGHT * PRIOR_RATING + ratings_sum) / (PRIOR_WEIGHT + ratings_count)
    rating = (bayes - 1) / 4
    liked = likes / (likes + LIKES_HALF)
    complaint = complaints / (completed + COMPLAINT_PRIOR)
    quality = 0.7 * rating + 0.3 * liked - complaint
    volume = recent / (recent + VOLUME_HALF)
    return {
        "bayes_rating": round(bayes, 4),
        "quality": round(quality, 4),
        "volume": round(volume, 4),
        "score": round(100 * (QUALITY_WEIGHT * quality + VOLUME_WEIGHT * volume), 4),
    }


def score_of(stat: EngineerEstateStat) -> float:
    return components(stat.completed, stat.recent_completed, stat.ratings_count, stat.ratings_sum,
                      stat.complaints, stat.likes)["score"]


def _add(model, key: dict, **deltas) -> None:
    upsert_add(model.__table__, key, deltas)


def _rescore(engineer_id: int, estate_ids: list[int] | None = None) -> None:
    stmt = sa.select(EngineerEstateStat).where(EngineerEstateStat.engineer_id == engineer_id)
    if estate_ids is not None:
        stmt = stmt.where(EngineerEstateStat.estate_id.in_(estate_ids))
    for stat in db.session.scalars(stmt.execution_options(populate_existing=True)):
        stat.score = score_of(stat)
    db.session.flush()


def _stat(engineer_id: int, estate_id: int, *, first_service_at: datetime | None = None, **deltas) -> None:
    likes = db.session.scalar(sa.select(sa.func.count()).select_from(EngineerLike)
                              .where(EngineerLike.engineer_id == engineer_id))
    values = {"completed": 0, "recent_completed": 0, "ratings_count": 0, "ratings_sum": 0, "complaints": 0,
              **deltas}
    insert = dialect_insert()(EngineerEstateStat.__table__).values(
        engineer_id=engineer_id, estate_id=estate_id, likes=likes, score=0.0, first_service_at=first_service_at,
        updated_at=utcnow(), **values)
    c = EngineerEstateStat.__table__.c
    update = {name: c[name] + insert.excluded[name] for name in values}
    if first_service_at is not None:
        update["first_service_at"] = sa.case(
            (sa.or_(c.first_service_at.is_(None), c.first_service_at > insert.excluded.first_service_at),
             insert.excluded.first_service_at), else_=c.first_service_at)
    update["updated_at"] = insert.excluded.updated_at
    db.session.execute(insert.on_conflict_do_update(index_elements=["engineer_id", "estate_id"], set_=update))
    _rescore(engineer_id, [estate_id])


# -- events -----------------------------------------------------------------------------------

def on_requested(order: ServiceOrder) -> None:
    _add(EstateMonthStat, {"estate_id": order.estate_id, "month": month_of(order.requested_at)}, orders=1)


def on_completed(order: ServiceOrder) -> None:
    day = business_day(order.completed_at)
    _add(EngineerEstateDay, {"engineer_id": order.engineer_id, "estate_id": order.estate_id, "day": day},
         completed=1)
    _stat(order.engineer_id, order.estate_id, first_service_at=order.completed_at, completed=1,
          recent_completed=1 if day >= window_start() else 0)


def on_rated(order: ServiceOrder, rating: int) -> None:
    _add(EstateMonthStat, {"estate_id": order.estate_id, "month": month_of(order.requested_at)},
         ratings_count=1, ratings_sum=rating)
    if order.engineer_id is not None:
        _stat(order.engineer_id, order.estate_id, ratings_count=1, ratings_sum=rating)


def on_complaint(order: ServiceOrder) -> None:
    _add(EstateMonthStat, {"estate_id": order.estate_id, "month": month_of(order.requested_at)}, complaints=1)
    if order.engineer_id is not None:
        _stat(order.engineer_id, order.estate_id, complaints=1)


def on_liked(engineer_id: int) -> None:
    db.session.execute(sa.update(EngineerEstateStat).where(EngineerEstateStat.engineer_id == engineer_id)
                       .values(likes=EngineerEstateStat.likes + 1).execution_options(synchronize_session=False))
    _rescore(engineer_id)


# -- the recent window moves every day ----------------------------------------------------------

def roll_window(today: date | None = None) -> int:
    """Recompute `recent_completed` where it no longer matches the window (days left it); returns
    the rows changed. Set-based: one UPDATE, then the changed rows are rescored."""
    start = window_start(today)
    d, s = EngineerEstateDay.__table__.c, EngineerEstateStat.__table__.c
    recent = (sa.select(sa.func.coalesce(sa.func.sum(d.completed), 0))
              .where(d.engineer_id == s.engineer_id, d.estate_id == s.estate_id, d.day >= start)
              .scalar_subquery())
    changed = db.session.execute(sa.update(EngineerEstateStat.__table__).where(s.recent_completed != recent)
                                 .values(recent_completed=recent).returning(s.engineer_id, s.estate_id)).all()
    for engineer_id, estate_id in changed:
        _rescore(engineer_id, [estate_id])
    return len(changed)


# -- reads ------------------------------------------------------------------------------------

def ranking(estate_id: int, *, limit: int = 50) -> list[dict]:
    """The estate's active covering engineers, best first, with the score's components: one query."""
    s, g, c = EngineerEstateStat.__table__.c, Engineer.__table__.c, EngineerEstate.__table__.c
    rows = db.session.execute(
        sa.select(g.id, g.name, g.user_id, s.completed, s.recent_completed, s.ratings_count, s.ratings_sum,
                  s.complaints, s.likes, s.first_service_at, s.score)
        .select_from(EngineerEstate.__table__.join(Engineer.__table__, g.id == c.engineer_id)
                     .outerjoin(EngineerEstateStat.__table__, sa.and_(s.engineer_id == c.engineer_id,
                                                                      s.estate_id == c.estate_id)))
        .where(c.estate_id == estate_id, g.status == "active")
        .order_by(sa.func.coalesce(s.score, components(0, 0, 0, 0, 0, 0)["score"]).desc(),
                  s.first_service_at.asc().nulls_last(), g.id.asc())
        .limit(limit)).all()
    ranked = []
    for position, row in enumerate(rows, start=1):
        figures = dict(completed=row.completed or 0, recent=row.recent_completed or 0,
                       ratings_count=row.ratings_count or 0, ratings_sum=row.ratings_sum or 0,
                       complaints=row.complaints or 0, likes=row.likes or 0)
        parts = components(**figures)
        ranked.append({
            "rank": position, "engineer": {"id": row.id, "name": row.name},
            "score": parts["score"], "first_service_at": row.first_service_at,
            "components": {
                "bayes_rating": parts["bayes_rating"], "quality": parts["quality"], "volume": parts["volume"],
                "ratings_count": figures["ratings_count"],
                "avg_rating": round(figures["ratings_sum"] / figures["ratings_count"], 2)
                if figures["ratings_count"] else None,
                "likes": figures["likes"], "complaints": figures["complaints"],
                "completed": figures["completed"], "recent_completed": figures["recent"],
            },
        })
    return ranked


# -- rebuild ----------------------------------------------------------------------------------

def _tally(rows, start: date) -> tuple[dict, dict, dict]:
    """Sum orders (anything with estate_id, engineer_id, status, requested_at, completed_at,
    rating, complained) into month, day and engineer-in-estate figures: what their events add."""
    months: dict[tuple[int, str], dict] = {}
    days: dict[tuple[int, int, date], int] = {}
    stats: dict[tuple[int, int], dict] = {}
    for row in rows:
        month = months.setdefault((row.estate_id, month_of(_aware(row.requested_at))),
                                  {"orders": 0, "complaints": 0, "ratings_count": 0, "ratings_sum": 0})
        month["orders"] += 1
        if row.rating is not None:
            month["ratings_count"] += 1
            month["ratings_sum"] += row.rating
        if row.complained:
            month["complaints"] += 1
        if row.engineer_id is None:
            continue
        stat = stats.setdefault((row.engineer_id, row.estate_id), {
            "completed": 0, "recent_completed": 0, "ratings_count": 0, "ratings_sum": 0, "complaints": 0,
            "first_service_at": None})
        if row.rating is not None:
            stat["ratings_count"] += 1
            stat["ratings_sum"] += row.rating
        if row.complained:
            stat["complaints"] += 1
        if row.status == "completed" and row.completed_at is not None:
            completed_at = _aware(row.completed_at)
            day = business_day(completed_at)
            days[(row.engineer_id, row.estate_id, day)] = days.get((row.engineer_id, row.estate_id, day), 0) + 1
            stat["completed"] += 1
            stat["recent_completed"] += day >= start
            if stat["first_service_at"] is None or completed_at < stat["first_service_at"]:
                stat["first_service_at"] = completed_at
    # only assigned or open orders: no event makes an engineer row for those
    stats = {key: v for key, v in stats.items() if v["completed"] or v["ratings_count"] or v["complaints"]}
    return months, days, stats


def apply_history(orders) -> None:
    """Add imported orders (already in their final state) to the statistics in aggregate: the
    same sums their single events would have added, in a few statements per estate and engineer."""
    months, days, stats = _tally(orders, window_start())
    for (estate_id, month), v in months.items():
        _add(EstateMonthStat, {"estate_id": estate_id, "month": month}, **v)
    for (engineer_id, estate_id, day), n in days.items():
        _add(EngineerEstateDay, {"engineer_id": engineer_id, "estate_id": estate_id, "day": day}, completed=n)
    for (engineer_id, estate_id), v in stats.items():
        first = v.pop("first_service_at")
        _stat(engineer_id, estate_id, first_service_at=first, **v)


def rebuild(*, today: date | None = None) -> dict:
    """Recompute every statistic from service_orders and engineer_likes (the incremental rows
    must equal these). Returns row counts."""
    for model in (EngineerEstateStat, EngineerEstateDay, EstateMonthStat):
        db.session.execute(sa.delete(model))
    o = ServiceOrder.__table__.c
    likes = dict(db.session.execute(sa.select(EngineerLike.engineer_id, sa.func.count())
                                    .group_by(EngineerLike.engineer_id)).all())
    result = db.session.execute(sa.select(o.estate_id, o.engineer_id, o.status, o.requested_at, o.completed_at,
                                          o.rating, o.complained).execution_options(yield_per=5000))
    months, days, stats = _tally(result, window_start(today))
    now = utcnow()
    _insert_many(EstateMonthStat, [{"estate_id": e, "month": m, **v} for (e, m), v in months.items()])
    _insert_many(EngineerEstateDay, [{"engineer_id": g, "estate_id": e, "day": d, "completed": n}
                                     for (g, e, d), n in days.items()])
    rows = []
    for (engineer_id, estate_id), v in stats.items():
        like_count = likes.get(engineer_id, 0)
        score = components(v["completed"], v["recent_completed"], v["ratings_count"], v["ratings_sum"],
                           v["complaints"], like_count)["score"]
        rows.append({"engineer_id": engineer_id, "estate_id": estate_id, **v, "likes": like_count, "score": score,
                     "updated_at": now})
    _insert_many(EngineerEstateStat, rows)
    return {"engineer_estate_stats": len(rows), "engineer_estate_days": len(days), "estate_month_stats": len(months)}


def _aware(value: datetime) -> datetime:
    from datetime import timezone
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _insert_many(model, rows: list[dict], batch: int = 5000) -> None:
    for i in range(0, len(rows), batch):
        db.session.execute(sa.insert(model.__table__), rows[i:i + batch])
