"""Per-estate monthly KPIs from the precomputed `estate_month_stats` rows.

Every figure of a month is about the orders *requested* in that Asia/Shanghai month: how many,
how many of them drew a complaint, their average rating. Rates are per 1,000 households;
changes are ratios (0.25 = +25 %) against the month before (mom) and the same month a year
before (yoy), null when the base is zero or the estate has no households on record.
"""
from __future__ import annotations

import csv
import io
import re

import sqlalchemy as sa

from community.models import Estate, EstateMonthStat
from core.errors import NotFound, ValidationFailed
from core.extensions import db

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
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for month in data["months"]:
        writer.writerow(["" if month[f] is None else month[f] for f in ("month", *KPI_FIELDS)])
    return "\ufeff" + out.getvalue()
