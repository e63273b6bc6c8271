"""Per-estate engineer ranking and per-estate monthly KPI statistics, kept up to date by events.

Every event that changes a figure calls one function here in the same transaction (an order
requested or completed, a rating, a complaint, a like); reads are index lookups of the
precomputed rows. `rebuild` recomputes everything from the orders and likes; it must agree with
the incremental rows (a test proves it).

The score (documented in README.md, "Engineer ranking per estate"):

    bayes     = (PRIOR_WEIGHT * PRIOR_RATING + sum of ratings) / (PRIOR_WEIGHT + number of ratings)
    rating    = (bayes - 1) / 4                                  0..1
    liked     = likes / (likes + LIKES_HALF)                     0..1, half at LIKES_HALF likes
    complaint = complaints / (completed + COMPLAINT_PRIOR)       shrunk complaint rate
    quality   = 0.7 * rating + 0.3 * liked - complaint
    volume    = recent / (recent + VOLUME_HALF)                  0..1, orders completed in the window
    score     = 100 * (0.6 * quality + 0.4 * volume), rounded to 4 decimals

Ties: score, then earlier first service, then lower engineer id.

The ranking key (score, first service) of each covering engineer is copied onto their coverage
row (community.estates EngineerEstate.rank_score / rank_first_service_at; the unranked score while
they have no record in the estate), whose index is the ranking's order: an estate's first page is
an index range read in order and stopped, whatever the number of coverers (issue 15). Every
write of a score here copies it (`_copy_keys`), as do new coverage (`on_covered`) and `rebuild`.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from community.estates import services as estates
from community.estates.models import Engineer, EngineerEstate, Estate
from community.stats.models import (
    EngineerEstateDay,
    EngineerEstateStat,
    EngineerLike,
    EstateMonthStat,
    RegionDayStat,
    RegionMonthStat,
    RegionStat,
)
from core.csvimport import csv_text
from core.db import dialect_insert, insert_or_nothing, upsert_add, utcnow
from core.errors import NotFound, ValidationFailed
from core.extensions import db
from core.formatting import BUSINESS_TZ
from core.pagination import Page, paginate

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


UNRANKED_SCORE = components(0, 0, 0, 0, 0, 0)["score"]  # no record yet: EngineerEstate's default


def score_of(stat: EngineerEstateStat) -> float:
    return components(stat.completed, stat.recent_completed, stat.ratings_count, stat.ratings_sum,
                      stat.complaints, stat.likes)["score"]


def _add(model, key: dict, **deltas) -> None:
    upsert_add(model.__table__, key, deltas)


def _rescore(engineer_id: int, estate_ids: list[int] | None = None) -> None:
    stmt = sa.select(EngineerEstateStat).where(EngineerEstateStat.engineer_id == engineer_id)
    if estate_ids is not None:
        stmt = stmt.where(EngineerEstateStat.estate_id.in_(estate_ids))
    keys = []
    for stat in db.session.scalars(stmt.execution_options(populate_existing=True)):
        stat.score = score_of(stat)
        keys.append({"e": stat.engineer_id, "s": stat.estate_id, "score": stat.score, "first": stat.first_service_at})
    db.session.flush()
    if keys:  # the coverage rows' copy of the ranking key (none where the engineer does not cover)
        c = EngineerEstate.__table__.c
        db.session.execute(sa.update(EngineerEstate.__table__)
                           .where(c.engineer_id == sa.bindparam("e"), c.estate_id == sa.bindparam("s"))
                           .values(rank_score=sa.bindparam("score"), rank_first_service_at=sa.bindparam("first")),
                           keys)


def _copy_keys(where=None) -> None:
    """Set coverage rows' ranking key from their stats row (UNRANKED_SCORE and no first service
    when there is none), set-based: `where` picks the coverage rows, all of them when None."""
    c, s = EngineerEstate.__table__.c, EngineerEstateStat.__table__.c
    stat = sa.select(EngineerEstateStat.__table__).where(s.engineer_id == c.engineer_id, s.estate_id == c.estate_id)
    stmt = sa.update(EngineerEstate.__table__).values(
        rank_score=sa.func.coalesce(stat.with_only_columns(s.score).scalar_subquery(), UNRANKED_SCORE),
        rank_first_service_at=stat.with_only_columns(s.first_service_at).scalar_subquery())
    db.session.execute(stmt if where is None else stmt.where(where))


def on_covered(engineer_ids: Iterable[int]) -> None:
    """Engineers began to cover estates (signal coverage_added, from community.estates): their
    coverage rows take their ranking key, which a record made before the coverage (imported
    history, a coverage removed and given back) already fixes."""
    wanted = sorted(set(engineer_ids))
    for i in range(0, len(wanted), 1000):
        _copy_keys(EngineerEstate.__table__.c.engineer_id.in_(wanted[i:i + 1000]))


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
# The orders area calls these in the transaction of the event; an order is anything with
# estate_id, engineer_id, requested_at and completed_at (a community.orders ServiceOrder).

def on_requested(order) -> None:
    _add(EstateMonthStat, {"estate_id": order.estate_id, "month": month_of(order.requested_at)}, orders=1)
    _add_region(RegionMonthStat, order.estate_id, month=month_of(order.requested_at), orders=1)


def on_completed(order) -> None:
    day = business_day(order.completed_at)
    _add(EngineerEstateDay, {"engineer_id": order.engineer_id, "estate_id": order.estate_id, "day": day},
         completed=1)
    _stat(order.engineer_id, order.estate_id, first_service_at=order.completed_at, completed=1,
          recent_completed=1 if day >= window_start() else 0)


def on_rated(order, rating: int) -> None:
    _add(EstateMonthStat, {"estate_id": order.estate_id, "month": month_of(order.requested_at)},
         ratings_count=1, ratings_sum=rating)
    if order.engineer_id is not None:
        _stat(order.engineer_id, order.estate_id, ratings_count=1, ratings_sum=rating)


def on_complaint(order) -> None:
    _add(EstateMonthStat, {"estate_id": order.estate_id, "month": month_of(order.requested_at)}, complaints=1)
    _add_region(RegionMonthStat, order.estate_id, month=month_of(order.requested_at), complaints=1)
    if order.engineer_id is not None:
        _stat(order.engineer_id, order.estate_id, complaints=1)


def add_like(resident_id: int, engineer_id: int) -> bool:
    """A resident likes an engineer (once per pair; the caller checked they were served). True
    when this call added the like; the engineer's rows in every estate are rescored."""
    like = insert_or_nothing(EngineerLike, dict(resident_id=resident_id, engineer_id=engineer_id),
                             conflict=["resident_id", "engineer_id"])
    if like is None:
        return False
    on_liked(engineer_id)
    return True


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

RANKED_STATUSES = ("active", "invited")  # invited: not yet activated, their imported history counts


def rank_order(c) -> tuple:
    """The ranking's order over coverage rows `c` (a table's columns): best score, then earlier
    first service (none last), then lower engineer id. Exactly ix_engineer_estates_rank's order,
    so PostgreSQL reads an estate's rows from it in order and no sort is needed."""
    return c.rank_score.desc(), c.rank_first_service_at.asc().nulls_last(), c.engineer_id.asc()


@functools.cache
def _ranking_statement(activated_only: bool) -> sa.Select:
    """The ranking's statement, built once per process (the ranking is a hot read: building the
    select cost more than running it). Parameters: estate_id, page (rows to return)."""
    s, g, c = EngineerEstateStat.__table__.c, Engineer.__table__.c, EngineerEstate.__table__.c
    statuses = ("active",) if activated_only else RANKED_STATUSES
    return (sa.select(g.id, g.name, g.photo, g.user_id, g.status, s.completed, s.recent_completed, s.ratings_count,
                      s.ratings_sum, s.complaints, s.likes, s.first_service_at, s.score)
            .select_from(EngineerEstate.__table__.join(Engineer.__table__, g.id == c.engineer_id)
                         .outerjoin(EngineerEstateStat.__table__, sa.and_(s.engineer_id == c.engineer_id,
                                                                          s.estate_id == c.estate_id)))
            .where(c.estate_id == sa.bindparam("estate_id"), g.status.in_(statuses))
            .order_by(*rank_order(c))
            .limit(sa.bindparam("page", type_=sa.Integer)))


def ranking(estate_id: int, *, limit: int = 50, activated_only: bool = False) -> list[dict]:
    """The estate's covering engineers, best first, with the score's components: one query, the
    estate's coverage rows read in ranking order from their index (rank_order) and stopped after
    `limit`, each engineer and stats row by primary key, so it costs the same with 10 or 10,000
    coverers (only engineers skipped for their status are read beyond the page). Engineers who
    have not yet activated their account (status invited) rank by the history the manufacturer
    imported, marked `activated: False`; `activated_only` leaves them out (dispatch)."""
    rows = db.session.execute(_ranking_statement(activated_only), {"estate_id": estate_id, "page": limit}).all()
    ranked = []
    for position, row in enumerate(rows, start=1):
        figures = dict(completed=row.completed or 0, recent=row.recent_completed or 0,
                       ratings_count=row.ratings_count or 0, ratings_sum=row.ratings_sum or 0,
                       complaints=row.complaints or 0, likes=row.likes or 0)
        parts = components(**figures)
        ranked.append({
            "rank": position, "engineer": {"id": row.id, "name": row.name, "photo": row.photo},
            "activated": row.status == "active", "score": parts["score"], "first_service_at": row.first_service_at,
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


def ranks_of(engineer_id: int) -> dict[int, dict]:
    """The engineer's place in the ranking of every estate they cover, {estate_id: {"rank",
    "score"}}, exactly as `ranking` orders and scores it: one statement (a window over the
    coverers of those estates, invited ones included as `ranking` includes them). An engineer
    who is not active is given no place: {}."""
    s, g, c = EngineerEstateStat.__table__.c, Engineer.__table__.c, EngineerEstate.__table__.c
    position = sa.func.row_number().over(partition_by=c.estate_id, order_by=rank_order(c))
    ranked = (sa.select(c.estate_id, c.engineer_id, g.status, position.label("rank"), s.completed, s.recent_completed,
                        s.ratings_count, s.ratings_sum, s.complaints, s.likes)
              .select_from(EngineerEstate.__table__.join(Engineer.__table__, g.id == c.engineer_id)
                           .outerjoin(EngineerEstateStat.__table__, sa.and_(s.engineer_id == c.engineer_id,
                                                                            s.estate_id == c.estate_id)))
              .where(g.status.in_(RANKED_STATUSES),
                     c.estate_id.in_(sa.select(EngineerEstate.estate_id).where(EngineerEstate.engineer_id == engineer_id)))
              .subquery())
    rows = db.session.execute(sa.select(ranked).where(ranked.c.engineer_id == engineer_id,
                                                      ranked.c.status == "active")).all()
    return {row.estate_id: {"rank": row.rank, "score": components(
        row.completed or 0, row.recent_completed or 0, row.ratings_count or 0, row.ratings_sum or 0,
        row.complaints or 0, row.likes or 0)["score"]} for row in rows}


def _ahead(c, me) -> sa.ColumnElement:
    """Coverage row `c` comes before `me` in `rank_order`: higher score; on a tie, an earlier first
    service (none last); on a tie again, the lower engineer id."""
    first_earlier = sa.or_(c.rank_first_service_at < me.rank_first_service_at,
                           sa.and_(c.rank_first_service_at.is_not(None), me.rank_first_service_at.is_(None)))
    first_same = sa.or_(c.rank_first_service_at == me.rank_first_service_at,
                        sa.and_(c.rank_first_service_at.is_(None), me.rank_first_service_at.is_(None)))
    return sa.or_(c.rank_score > me.rank_score,
                  sa.and_(c.rank_score == me.rank_score,
                          sa.or_(first_earlier, sa.and_(first_same, c.engineer_id < me.engineer_id))))


@functools.cache
def _rank_in_statement() -> sa.Select:
    """rank_in's statement, built once: 1 + the ranked coverers ahead of the engineer's own
    coverage row, counted on ix_engineer_estates_rank; no row when the engineer is not active or
    does not cover the estate. Parameters: engineer_id, estate_id."""
    me, c = EngineerEstate.__table__.alias("me"), EngineerEstate.__table__.alias("c")
    g, mine = Engineer.__table__.alias("g"), Engineer.__table__.alias("mine")
    ahead = (sa.select(sa.func.count()).select_from(c.join(g, g.c.id == c.c.engineer_id))
             .where(c.c.estate_id == me.c.estate_id, g.c.status.in_(RANKED_STATUSES), _ahead(c.c, me.c))
             .scalar_subquery())
    return (sa.select((ahead + 1).label("rank")).select_from(me.join(mine, mine.c.id == me.c.engineer_id))
            .where(me.c.engineer_id == sa.bindparam("engineer_id"), me.c.estate_id == sa.bindparam("estate_id"),
                   mine.c.status == "active"))


def rank_in(engineer_id: int, estate_id: int) -> int | None:
    """The engineer's place in one estate's ranking, as `ranking` and `ranks_of` give it (ties
    included), or None when they do not cover it or are not active: one statement counting who is
    ahead, cheaper than ranks_of's window over every estate they cover (the binding card shows
    only the estate of the binding)."""
    return db.session.scalar(_rank_in_statement(), {"engineer_id": engineer_id, "estate_id": estate_id})


def likes_of(engineer_id: int, resident_id: int | None = None) -> tuple[int, bool]:
    """How many residents like the engineer, and whether `resident_id` is one of them: one statement."""
    mine = sa.func.coalesce(sa.func.sum(sa.case((EngineerLike.resident_id == resident_id, 1), else_=0)), 0)
    count, liked = db.session.execute(sa.select(sa.func.count(), mine)
                                      .where(EngineerLike.engineer_id == engineer_id)).one()
    return count, bool(liked)


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
        _add_region(RegionMonthStat, estate_id, month=month, orders=v["orders"], complaints=v["complaints"])
    for (engineer_id, estate_id, day), n in days.items():
        _add(EngineerEstateDay, {"engineer_id": engineer_id, "estate_id": estate_id, "day": day}, completed=n)
    for (engineer_id, estate_id), v in stats.items():
        first = v.pop("first_service_at")
        _stat(engineer_id, estate_id, first_service_at=first, **v)


def rebuild(orders: Iterable, *, bindings: Iterable | None = None, bound_by_estate: sa.Select | None = None,
            today: date | None = None) -> dict:
    """Recompute every statistic from all the orders given (rows as `_tally` reads them; the
    orders area streams its table: community.orders.services.rebuild_stats), the likes and, when
    given, the steward bindings (rows as `_rebuild_bindings` reads them) and the residents with a
    steward per estate (for `refresh_regions`). The incremental rows must equal these. Returns
    row counts."""
    for model in (EngineerEstateStat, EngineerEstateDay, EstateMonthStat, RegionMonthStat):
        db.session.execute(sa.delete(model))
    likes = dict(db.session.execute(sa.select(EngineerLike.engineer_id, sa.func.count())
                                    .group_by(EngineerLike.engineer_id)).all())
    months, days, stats = _tally(orders, window_start(today))
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
    _copy_keys()  # every coverage row's ranking key, from the rows just written
    m, e = EstateMonthStat.__table__.c, Estate.__table__.c
    db.session.execute(sa.insert(RegionMonthStat.__table__).from_select(
        ["city", "district", "month", "orders", "complaints"],
        sa.select(e.city, e.district, m.month, sa.func.sum(m.orders), sa.func.sum(m.complaints))
        .select_from(EstateMonthStat.__table__.join(Estate.__table__, e.id == m.estate_id))
        .group_by(e.city, e.district, m.month)))
    counts = {"engineer_estate_stats": len(rows), "engineer_estate_days": len(days), "estate_month_stats": len(months)}
    if bindings is not None:
        counts["region_day_stats"] = _rebuild_bindings(bindings)
    if bound_by_estate is not None:
        counts["region_stats"] = refresh_regions(bound_by_estate)
    return counts


def _aware(value: datetime) -> datetime:
    from datetime import timezone
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _insert_many(model, rows: list[dict], batch: int = 5000) -> None:
    for i in range(0, len(rows), batch):
        db.session.execute(sa.insert(model.__table__), rows[i:i + batch])


# -- estate KPIs ------------------------------------------------------------------------------


MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
MAX_MONTHS = 120
KPI_FIELDS = ("orders", "complaints", "orders_per_1000", "complaints_per_1000", "avg_rating",
              "orders_mom", "orders_yoy", "complaints_mom", "complaints_yoy")


def parse_month(value: str, field: str) -> tuple[int, int]:
    match = MONTH.match(value or "")
    if not match:
        raise ValidationFailed("月份格式须为 YYYY-MM", details={"fields": {field: ["须为 YYYY-MM，如 2026-01"]}})
    return int(match.group(1)), int(match.group(2))


def shift(year: int, month: int, by: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + by
    return index // 12, index % 12 + 1


def label(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def month_range(start: str, end: str) -> list[str]:
    y1, m1 = parse_month(start, "from")
    y2, m2 = parse_month(end, "to")
    count = (y2 * 12 + m2) - (y1 * 12 + m1) + 1
    if count < 1:
        raise ValidationFailed("结束月份不能早于开始月份", details={"fields": {"to": ["须不早于 from"]}})
    if count > MAX_MONTHS:
        raise ValidationFailed(f"一次最多查询 {MAX_MONTHS} 个月", details={"fields": {"to": [f"最多 {MAX_MONTHS} 个月"]}})
    return [label(*shift(y1, m1, i)) for i in range(count)]


def _ratio(now: int, base: int) -> float | None:
    return None if not base else round((now - base) / base, 4)


def _per_1000(count: int, households: int) -> float | None:
    return None if not households else round(count * 1000 / households, 4)


def estate_kpis(estate_id: int, start: str, end: str) -> dict:
    """KPIs of one estate for every month from `start` to `end` (zeros included): two statements."""
    months = month_range(start, end)
    estate = db.session.execute(sa.select(Estate.id, Estate.households).where(Estate.id == estate_id)).first()
    if estate is None:
        raise NotFound("小区不存在", code="estate_not_found")
    first = label(*shift(*parse_month(months[0], "from"), -12))  # the year before, for yoy
    rows = {row.month: row for row in db.session.execute(
        sa.select(EstateMonthStat.month, EstateMonthStat.orders, EstateMonthStat.complaints,
                  EstateMonthStat.ratings_count, EstateMonthStat.ratings_sum)
        .where(EstateMonthStat.estate_id == estate_id, EstateMonthStat.month >= first,
               EstateMonthStat.month <= months[-1]))}

    def figures(month: str) -> tuple[int, int, int, int]:
        row = rows.get(month)
        return (row.orders, row.complaints, row.ratings_count, row.ratings_sum) if row else (0, 0, 0, 0)

    result = []
    for month in months:
        year, mon = parse_month(month, "from")
        orders, complaints, count, total = figures(month)
        prev, last_year = figures(label(*shift(year, mon, -1))), figures(label(year - 1, mon))
        result.append({
            "month": month, "orders": orders, "complaints": complaints,
            "orders_per_1000": _per_1000(orders, estate.households),
            "complaints_per_1000": _per_1000(complaints, estate.households),
            "avg_rating": round(total / count, 2) if count else None,
            "orders_mom": _ratio(orders, prev[0]), "orders_yoy": _ratio(orders, last_year[0]),
            "complaints_mom": _ratio(complaints, prev[1]), "complaints_yoy": _ratio(complaints, last_year[1]),
        })
    return {"estate_id": estate.id, "households": estate.households, "months": result}


LEAGUE_KPIS = ("orders", "complaints", "orders_per_1000", "complaints_per_1000", "avg_rating")


def league(kpi: str, month: str, *, city: str | None = None, district: str | None = None,
           limit: int = 50, ascending: bool = False) -> list[dict]:
    """Estates of a city (or district) ranked by one KPI of one month: one statement."""
    if kpi not in LEAGUE_KPIS:
        raise ValidationFailed("不支持的指标", details={"fields": {"kpi": [f"须为 {', '.join(LEAGUE_KPIS)} 之一"]}})
    parse_month(month, "month")
    if not city and not district:
        raise ValidationFailed("请选择城市或区县", details={"fields": {"city": ["city 或 district 必填其一"]}})
    s, e = EstateMonthStat.__table__.c, Estate.__table__.c
    households = sa.func.nullif(e.households, 0)
    value = {
        "orders": s.orders, "complaints": s.complaints,
        "orders_per_1000": s.orders * 1000.0 / households,
        "complaints_per_1000": s.complaints * 1000.0 / households,
        "avg_rating": s.ratings_sum * 1.0 / sa.func.nullif(s.ratings_count, 0),
    }[kpi]
    stmt = (sa.select(e.id, e.name, e.city, e.district, e.households, s.orders, s.complaints, s.ratings_count,
                      s.ratings_sum, value.label("value"))
            .select_from(EstateMonthStat.__table__.join(Estate.__table__, e.id == s.estate_id))
            .where(s.month == month, value.is_not(None)))
    if city:
        stmt = stmt.where(e.city == city)
    if district:
        stmt = stmt.where(e.district == district)
    order = value.asc() if ascending else value.desc()
    rows = db.session.execute(stmt.order_by(order, e.id.asc()).limit(limit)).all()
    return [{"rank": i, "estate": {"id": r.id, "name": r.name, "city": r.city, "district": r.district},
             "households": r.households, "value": round(float(r.value), 4), "orders": r.orders,
             "complaints": r.complaints} for i, r in enumerate(rows, start=1)]


CSV_HEADER = ("月份", "订单数", "投诉数", "每千户订单", "每千户投诉", "平均评分", "订单环比", "订单同比", "投诉环比", "投诉同比")


def kpis_csv(data: dict) -> str:
    """The KPIs as CSV text with a BOM (Excel opens UTF-8 correctly then); empty cells for nulls."""
    return csv_text(CSV_HEADER, (["" if month[f] is None else month[f] for f in ("month", *KPI_FIELDS)]
                                 for month in data["months"]))


# -- region rollups: bindings per day, residents with a steward, orders and complaints -------------
# The console's charts read these few hundred rows per scope, never the estates or the orders.

SCAN_REASONS = ("scan", "takeover")  # a resident scanned a code; reassignments and handovers are not new bindings


def _region_of(estate_id: int) -> tuple[str, str]:
    estate = db.session.get(Estate, estate_id)  # usually in the session already
    return estate.city, estate.district


def _add_region(model, estate_id: int, **values) -> None:
    """Add counters to the row of the estate's region (values: the extra key column, then deltas)."""
    city, district = _region_of(estate_id)
    extra = {k: values.pop(k) for k in ("day", "month") if k in values}
    upsert_add(model.__table__, {"city": city, "district": district, **extra}, values)


@functools.cache
def _add_bindings_statement(dialect: str) -> sa.Insert:
    """The region's bindings of a day plus `bindings` (race-safe, one statement), built once per
    dialect (the session's: dialect_insert's): every binding call runs it, and building the upsert
    cost about as much as running it. Parameters: city, district, day, bindings."""
    t = RegionDayStat.__table__
    stmt = dialect_insert()(t).values(city=sa.bindparam("city"), district=sa.bindparam("district"),
                                      day=sa.bindparam("day"), bindings=sa.bindparam("bindings"))
    return stmt.on_conflict_do_update(index_elements=["city", "district", "day"],
                                      set_={"bindings": t.c.bindings + stmt.excluded.bindings})


def _add_bindings(estate_id: int, day: date, bindings: int) -> None:
    city, district = _region_of(estate_id)
    db.session.execute(_add_bindings_statement(db.session.get_bind().dialect.name),
                       {"city": city, "district": district, "day": day, "bindings": bindings})


def on_bound(estate_id: int, at: datetime) -> None:
    """A resident's scan made a new steward binding (created or switched): one more that day."""
    _add_bindings(estate_id, business_day(at), 1)


def on_binding_voided(binding) -> None:
    """A binding confirmed fake (community.trust) leaves the bindings of the day it was made."""
    if binding.start_reason in SCAN_REASONS:
        _add_bindings(binding.estate_id, business_day(_aware(binding.started_at)), -1)


def refresh_regions(bound_by_estate: sa.Select) -> int:
    """Per region: active estates, their households, and residents with a steward (the caller's
    SELECT of estate_id, bound: community.stewards.services.bound_by_estate), set-based. Daily
    (estates change by edits and imports, bindings by many paths), and by the rebuild. Returns
    the regions written."""
    e = Estate.__table__.c
    bound = bound_by_estate.subquery()
    homes = sa.select(e.city, e.district, sa.literal(0).label("bound"), sa.literal(1).label("estates"),
                      e.households).where(e.status == "active")
    residents = (sa.select(e.city, e.district, bound.c[1], sa.literal(0), sa.literal(0))
                 .select_from(bound.join(Estate.__table__, e.id == bound.c[0])))
    parts = sa.union_all(homes, residents).subquery()
    db.session.execute(sa.delete(RegionStat))
    return db.session.execute(sa.insert(RegionStat.__table__).from_select(
        ["city", "district", "bound", "estates", "households"],
        sa.select(parts.c.city, parts.c.district, sa.func.sum(parts.c.bound), sa.func.sum(parts.c.estates),
                  sa.func.sum(parts.c.households)).group_by(parts.c.city, parts.c.district))
        .execution_options(preserve_rowcount=True)).rowcount


def _regions_of(estate_ids) -> dict[int, tuple[str, str]]:
    wanted, regions = sorted(estate_ids), {}
    for i in range(0, len(wanted), 5000):
        regions.update({row.id: (row.city, row.district) for row in db.session.execute(
            sa.select(Estate.id, Estate.city, Estate.district).where(Estate.id.in_(wanted[i:i + 5000])))})
    return regions


def _rebuild_bindings(bindings: Iterable) -> int:
    """Bindings per region and day from the bindings' history (rows with estate_id, started_at,
    start_reason, end_reason), confirmed fakes left out."""
    days: dict[tuple[int, date], int] = {}
    for row in bindings:
        if row.start_reason in SCAN_REASONS and row.end_reason != "fake":
            key = (row.estate_id, business_day(_aware(row.started_at)))
            days[key] = days.get(key, 0) + 1
    regions = _regions_of({e for e, _ in days})
    region_days: dict[tuple[str, str, date], int] = {}
    for (estate_id, day), n in days.items():
        key = (*regions[estate_id], day)
        region_days[key] = region_days.get(key, 0) + n
    db.session.execute(sa.delete(RegionDayStat))
    _insert_many(RegionDayStat, [{"city": c, "district": d, "day": day, "bindings": n}
                                 for (c, d, day), n in region_days.items()])
    return len(region_days)


# -- scopes: where a reader of the console looks -----------------------------------------------

def _in_scope(model, city: str | None, district: str | None) -> list:
    return [column == value for column, value in ((model.city, city), (model.district, district)) if value]


def scope_for(who, city: str | None, district: str | None) -> dict:
    """Where `who` may look, from what they asked: admins anywhere (the network when no city); an
    agent on duty within their duties (community.estates AgentDuty: a city, or one district of
    it), the first duty when they asked for something else; an agent on duty nowhere watches
    every estate (a city nobody is on duty for is every agent's), so the network too."""
    city, district = (city or "").strip()[:32] or None, (district or "").strip()[:32] or None
    if city is None:
        district = None
    duties = [] if who.has_role("admin") else [d for d in estates.agent_duties() if d.user_id == who.id]
    if duties and not any(d.city == city and (d.district is None or d.district == district) for d in duties):
        city, district = duties[0].city, duties[0].district
    return {"city": city, "district": district,
            "duties": [(d.city, d.district) for d in duties]}


def default_city() -> str | None:
    """The city with the most active estates (the league's and the dashboard's first scope):
    from the region rollup, or, before its first refresh, an index-only count per city."""
    r = RegionStat
    city = db.session.scalar(sa.select(r.city).group_by(r.city).having(sa.func.sum(r.estates) > 0)
                             .order_by(sa.func.sum(r.estates).desc(), r.city).limit(1))
    if city is None:
        city = db.session.scalar(sa.select(Estate.city).group_by(Estate.city)
                                 .order_by(sa.func.count().desc(), Estate.city).limit(1))
    return city


def cities() -> list[str]:
    """Every city with estates (a few hundred: the scope picker), from the region rollup."""
    return list(db.session.scalars(sa.select(RegionStat.city).where(RegionStat.estates > 0)
                                   .group_by(RegionStat.city).order_by(RegionStat.city)))


# -- the console's charts ------------------------------------------------------------------------

CHART_DAYS, CHART_MONTHS, EXTREMES = 30, 12, 5


def overview(*, city: str | None = None, district: str | None = None, today: date | None = None) -> dict:
    """The network (or a city, or a district) at a glance, read from the rollups only: bindings
    per day (last 30 days), steward coverage (residents with a steward / households), orders and
    complaints per 1,000 households per month (last 12, this one included; the denominator is
    today's households), and the best and worst estates of the last full month (of the city; on
    the network, of its largest city)."""
    today = today or business_day(utcnow())
    first_day = today - timedelta(days=CHART_DAYS - 1)
    per_day = dict(db.session.execute(
        sa.select(RegionDayStat.day, sa.func.sum(RegionDayStat.bindings))
        .where(RegionDayStat.day >= first_day, *_in_scope(RegionDayStat, city, district))
        .group_by(RegionDayStat.day)).all())
    bindings = [{"label": d.strftime("%m-%d"), "value": int(per_day.get(d, 0))}
                for d in (first_day + timedelta(days=i) for i in range(CHART_DAYS))]
    bound, estates_count, households = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(RegionStat.bound), 0), sa.func.coalesce(sa.func.sum(RegionStat.estates), 0),
                  sa.func.coalesce(sa.func.sum(RegionStat.households), 0))
        .where(*_in_scope(RegionStat, city, district))).one()
    months = [label(*shift(today.year, today.month, i)) for i in range(-(CHART_MONTHS - 1), 1)]
    per_month = {row.month: row for row in db.session.execute(
        sa.select(RegionMonthStat.month, sa.func.sum(RegionMonthStat.orders).label("orders"),
                  sa.func.sum(RegionMonthStat.complaints).label("complaints"))
        .where(RegionMonthStat.month >= months[0], *_in_scope(RegionMonthStat, city, district))
        .group_by(RegionMonthStat.month))}
    monthly = [{"label": m, "orders": int(per_month[m].orders) if m in per_month else 0,
                "complaints": int(per_month[m].complaints) if m in per_month else 0} for m in months]
    for month in monthly:
        month["orders_per_1000"] = _per_1000(month["orders"], int(households)) or 0.0
        month["complaints_per_1000"] = _per_1000(month["complaints"], int(households)) or 0.0
    last_full = label(*shift(today.year, today.month, -1))
    extremes_city = city or default_city()  # the network: its largest city's estates
    return {
        "city": city, "district": district, "bindings_per_day": bindings,
        "bindings_30d": sum(b["value"] for b in bindings),
        "bound": int(bound), "estates": int(estates_count), "households": int(households),
        "coverage": round(min(int(bound) / int(households), 1.0), 4) if households else None,
        "months": monthly, "extremes_month": last_full, "extremes_city": extremes_city,
        "best": extremes(last_full, city=extremes_city, district=district, worst=False) if extremes_city else [],
        "worst": extremes(last_full, city=extremes_city, district=district, worst=True) if extremes_city else [],
    }


def extremes(month: str, *, city: str, district: str | None = None, worst: bool, limit: int = EXTREMES) -> list[dict]:
    """The best (fewest complaints per 1,000 households, then most orders) or worst estates of a
    city in a month among those with orders: the city's estates by index, each month row by key."""
    s, e = EstateMonthStat.__table__.c, Estate.__table__.c
    complaints = s.complaints * 1000.0 / e.households
    orders = s.orders * 1000.0 / e.households
    order = (complaints.desc(), orders.asc(), e.id) if worst else (complaints.asc(), orders.desc(), e.id)
    stmt = (sa.select(e.id, e.name, e.district, e.households, s.orders, s.complaints)
            .select_from(Estate.__table__.join(EstateMonthStat.__table__, sa.and_(s.estate_id == e.id, s.month == month)))
            .where(e.city == city, e.status == "active", e.households > 0, s.orders > 0))
    if district:
        stmt = stmt.where(e.district == district)
    return [{"estate": {"id": r.id, "name": r.name, "district": r.district}, "households": r.households,
             "orders": r.orders, "complaints": r.complaints,
             "orders_per_1000": _per_1000(r.orders, r.households),
             "complaints_per_1000": _per_1000(r.complaints, r.households)}
            for r in db.session.execute(stmt.order_by(*order).limit(limit))]


# -- the league: every estate of a scope, with or without orders --------------------------------

NULL_LAST = 2**62


def _league_value(kpi: str, s, e):
    """The KPI as an integer (ratios in thousandths) so that the keyset cursor compares exactly
    on both databases; NULL where it has no meaning (no households, no ratings)."""
    orders, complaints = sa.func.coalesce(s.orders, 0), sa.func.coalesce(s.complaints, 0)
    def div(numerator, scale, denominator):  # integer division, as both databases do it on integers
        return (sa.cast(numerator, sa.BigInteger) * scale).op("/", return_type=sa.BigInteger)(
            sa.func.nullif(denominator, 0))

    return {
        "orders": orders, "complaints": complaints,
        "orders_per_1000": div(orders, 1000000, e.households),
        "complaints_per_1000": div(complaints, 1000000, e.households),
        "avg_rating": div(s.ratings_sum, 1000, s.ratings_count),
    }[kpi]


def league_page(kpi: str, month: str, *, city: str, district: str | None = None, ascending: bool = False,
                limit: int = 20, cursor: str | None = None, before: str | None = None) -> Page:
    """Every active estate of a city (or district), those without orders in the month included,
    ranked by one KPI of the month, with the change from the month before: estates of the scope
    by index LEFT JOIN their two month rows by key, keyset-paginated both ways. Never the whole
    network: a city is required."""
    if kpi not in LEAGUE_KPIS:
        raise ValidationFailed("不支持的指标", details={"fields": {"kpi": [f"须为 {', '.join(LEAGUE_KPIS)} 之一"]}})
    year, mon = parse_month(month, "month")
    if not city:
        raise ValidationFailed("请选择城市", details={"fields": {"city": ["请选择城市"]}})
    e = Estate.__table__.c
    now, prev = EstateMonthStat.__table__.alias("now"), EstateMonthStat.__table__.alias("prev")
    value = _league_value(kpi, now.c, e)
    key = sa.func.coalesce(value, NULL_LAST if ascending else -1).label("sort_key")
    stmt = (sa.select(e.id, e.name, e.district, e.households, now.c.orders, now.c.complaints, now.c.ratings_count,
                      now.c.ratings_sum, prev.c.orders.label("prev_orders"),
                      prev.c.complaints.label("prev_complaints"), value.label("value"), key)
            .select_from(Estate.__table__
                         .outerjoin(now, sa.and_(now.c.estate_id == e.id, now.c.month == month))
                         .outerjoin(prev, sa.and_(prev.c.estate_id == e.id,
                                                  prev.c.month == label(*shift(year, mon, -1)))))
            .where(e.city == city, e.status == "active"))
    if district:
        stmt = stmt.where(e.district == district)
    page = paginate(stmt, [key, e.id], limit=limit, cursor=cursor, before=before, descending=not ascending,
                    scalars=False, key_of=lambda r: [r.sort_key, r.id])
    scale = 1 if kpi in ("orders", "complaints") else 1000
    page.items = [{
        "estate": {"id": r.id, "name": r.name, "district": r.district}, "households": r.households,
        "value": None if r.value is None else r.value / scale,
        "orders": r.orders or 0, "complaints": r.complaints or 0,
        "orders_change": (r.orders or 0) - (r.prev_orders or 0),
        "complaints_change": (r.complaints or 0) - (r.prev_complaints or 0),
        "no_orders": not r.orders,
    } for r in page.items]
    return page


def league_size(*, city: str, district: str | None = None) -> int:
    """How many active estates the scope holds (one city's estates by index: cheap)."""
    stmt = sa.select(sa.func.count()).select_from(Estate).where(Estate.city == city, Estate.status == "active")
    if district:
        stmt = stmt.where(Estate.district == district)
    return db.session.scalar(stmt)
