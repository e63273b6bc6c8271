"""The estate's own profile (千区千面): tags, the figures a targeting rule reads, and the rule itself
(docs/activation.md, "Targeting rules" and "Profiles").

- A rule is validated once (`validate_rule`: Chinese messages per rule key) and stored normalised;
  `matching_estates` turns it into one `SELECT estates.id` that callers use in `INSERT … SELECT`
  or count. Nothing loops over estates in Python.
- Figures live in `estate_profiles`, one row per estate, refreshed set-based by
  `refresh_profiles` (one `INSERT … SELECT … ON CONFLICT DO UPDATE` over estates, the last 12
  full months of estate_month_stats in Asia/Shanghai, and active steward bindings).
- Tags are edited one estate at a time (admin page and API) or in bulk by CSV
  (`flask estates import-tags`). A tag edit, like a refresh, tells the features above through
  `core.signals.estate_profiles_changed`, so offers are matched again for the estates changed.

Plain functions taking the acting user; they flush, the caller commits.
"""
from __future__ import annotations

import math
import re
import unicodedata
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from community.estates import services as estates
from community.estates.models import Estate
from community.profiles.models import EstateProfile, EstateTag
from community.stats.models import EstateMonthStat
from community.stewards.models import StewardBinding
from core import audit, signals
from core.db import MAX_ID, dialect_insert, utcnow
from core.errors import ValidationFailed, invalid
from core.extensions import db
from core.formatting import BUSINESS_TZ

# -- the targeting rule -----------------------------------------------------------------------

RULE_KEYS = ("estate_ids", "provinces", "cities", "districts", "households", "avg_rating", "orders_per_1000",
             "complaints_per_1000", "coverage", "tags_any", "tags_all", "tags_none", "near")
# The rule keys whose answers a change of tags, or a refresh of the figures, may change (the
# estate_profiles_changed signal names them, so offers reading none of them are left alone).
TAG_RULE_KEYS = ("tags_any", "tags_all", "tags_none")
FIGURE_RULE_KEYS = ("households", "avg_rating", "orders_per_1000", "complaints_per_1000", "coverage")
MAX_RULE_ESTATES = 1000
MAX_RULE_NAMES = 200  # provinces, cities, districts per rule
MAX_RULE_TAGS = 50
NAME_MAX = 32  # estates.province / city / district
# key → (label, lowest, highest, integer?) of the {"min", "max"} bounds a rule may set.
RANGES = {
    "households": ("户数", 0, 2**31 - 1, True),
    "avg_rating": ("平均评分", 1, 5, False),
    "orders_per_1000": ("每千户服务单数", 0, 1_000_000, False),
    "complaints_per_1000": ("每千户投诉数", 0, 1_000_000, False),
    "coverage": ("管家覆盖率", 0, 1, False),
}
NAME_LISTS = {"provinces": "省份", "cities": "城市", "districts": "区县"}
TAG_LISTS = {"tags_any": "标签（任一）", "tags_all": "标签（全部）", "tags_none": "排除标签"}
NEAR_MAX_KM = 50  # the equirectangular distance stays within 0.1% of the great circle this far
EARTH_RADIUS_M = 6371008.8
COORDINATE = Decimal("0.000001")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _names(value, label: str, most: int, longest: int, errors: dict, key: str) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors[key] = [f"{label}应为文字列表，例如 [\"深圳市\"]"]
        return None
    names = list(dict.fromkeys(" ".join(v.split()) for v in value if v.strip()))
    if len(names) > most:
        errors[key] = [f"{label}最多 {most} 个"]
    elif too_long := [n for n in names if len(n) > longest]:
        errors[key] = [f"{label}每个最多 {longest} 个字：{too_long[0]}"]
    return names


def _bounds(value, key: str, errors: dict) -> dict | None:
    label, low, high, integer = RANGES[key]
    shape = "整数" if integer else "数字"
    if not isinstance(value, dict) or not value or set(value) - {"min", "max"}:
        errors[key] = [f"{label}应为 {{\"min\": {shape}, \"max\": {shape}}}，至少填写一个"]
        return None
    clean = {}
    for end in ("min", "max"):
        if value.get(end) is None:
            continue
        v = value[end]
        if not _number(v) or (integer and not float(v).is_integer()):
            errors[key] = [f"{label}的{'最小值' if end == 'min' else '最大值'}应为{shape}"]
            return None
        if not low <= v <= high:
            errors[key] = [f"{label}应在 {low} 到 {high:,} 之间"]
            return None
        clean[end] = int(v) if integer else float(v)
    if not clean:
        errors[key] = [f"{label}请至少填写最小值或最大值"]
        return None
    if "min" in clean and "max" in clean and clean["min"] > clean["max"]:
        errors[key] = [f"{label}的最小值不能大于最大值"]
        return None
    return clean


def _near(value, errors: dict) -> dict | None:
    if not isinstance(value, dict) or set(value) != {"lat", "lng", "radius_km"}:
        errors["near"] = ["距离条件应为 {\"lat\": 纬度, \"lng\": 经度, \"radius_km\": 半径公里数}"]
        return None
    lat, lng, radius = value["lat"], value["lng"], value["radius_km"]
    if lat is None or lng is None or radius is None:
        errors["near"] = ["距离条件须同时填写纬度、经度和半径（公里）"]
    elif not _number(lat) or not -90 <= lat <= 90:
        errors["near"] = ["纬度应在 -90 到 90 之间"]
    elif not _number(lng) or not -180 <= lng <= 180:
        errors["near"] = ["经度应在 -180 到 180 之间"]
    elif not _number(radius) or not 0 < radius <= NEAR_MAX_KM:
        errors["near"] = [f"半径应大于 0、不超过 {NEAR_MAX_KM} 公里"]
    else:
        return {"lat": float(lat), "lng": float(lng), "radius_km": float(radius)}
    return None


def validate_rule(rule: dict) -> dict:
    """The rule normalised (keys in a fixed order, names trimmed and once each, empty lists
    dropped), or ValidationFailed naming every rule key at fault with a message in Chinese.
    Estate ids that do not exist are refused (one query)."""
    if not isinstance(rule, dict):
        raise invalid("rule", "筛选规则应为 JSON 对象", "筛选规则有误")
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    for key in rule:
        if key not in RULE_KEYS:
            errors[key] = [f"不支持的筛选条件：{key}"]
    for key in RULE_KEYS:
        value = rule.get(key)
        if value is None:
            continue
        if key == "estate_ids":
            if not isinstance(value, list) or not all(
                    isinstance(i, int) and not isinstance(i, bool) and 0 < i <= MAX_ID for i in value):
                errors[key] = ["小区应为小区编号（正整数）的列表"]
                continue
            ids = sorted(set(value))
            if len(ids) > MAX_RULE_ESTATES:
                errors[key] = [f"指定小区最多 {MAX_RULE_ESTATES:,} 个"]
                continue
            if ids:
                known = set(db.session.scalars(sa.select(Estate.id).where(Estate.id.in_(ids))))
                if missing := [i for i in ids if i not in known]:
                    errors[key] = ["小区不存在：" + "、".join(f"#{i}" for i in missing[:10])
                                   + ("等" if len(missing) > 10 else "")]
                    continue
                clean[key] = ids
        elif key in NAME_LISTS or key in TAG_LISTS:
            label = NAME_LISTS.get(key) or TAG_LISTS[key]
            most, longest = (MAX_RULE_NAMES, NAME_MAX) if key in NAME_LISTS else (MAX_RULE_TAGS, TAG_MAX)
            names = _names(value, label, most, longest, errors, key)
            if names and key not in errors:
                clean[key] = names
        elif key in RANGES:
            bounds = _bounds(value, key, errors)
            if bounds is not None:
                clean[key] = bounds
        else:
            near = _near(value, errors)
            if near is not None:
                clean[key] = near
    if errors:
        raise ValidationFailed("筛选规则有误", details={"fields": errors})
    return clean


def _profile_column(key: str) -> sa.ColumnElement:
    return {"avg_rating": EstateProfile.avg_rating, "orders_per_1000": EstateProfile.orders_per_1000,
            "complaints_per_1000": EstateProfile.complaints_per_1000, "coverage": EstateProfile.coverage}[key]


def _near_conditions(near: dict) -> list:
    """The bounding box on ix_estates_lat_lng (decimals, like the columns), then the
    equirectangular distance in plain arithmetic: Δlng is scaled by the cosine of the mean
    latitude, which is cos φ0 − sin φ0 · (φ − φ0)/2 to first order (no trigonometry in SQL)."""
    lat0, lng0, radius_m = near["lat"], near["lng"], near["radius_km"] * 1000
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    low, high = max(-90.0, lat0 - dlat), min(90.0, lat0 + dlat)
    widest = math.cos(math.radians(max(abs(low), abs(high))))
    dlng = 180.0 if widest <= 0 else min(180.0, dlat / widest)

    def dec(value: float, rounding: str) -> Decimal:
        return Decimal(value).quantize(COORDINATE, rounding)

    where = [Estate.lat.between(dec(low, "ROUND_FLOOR"), dec(high, "ROUND_CEILING")),
             Estate.lng.between(dec(max(-180.0, lng0 - dlng), "ROUND_FLOOR"),
                                dec(min(180.0, lng0 + dlng), "ROUND_CEILING"))]
    lat, lng = sa.cast(Estate.lat, sa.Float), sa.cast(Estate.lng, sa.Float)
    phi0 = math.radians(lat0)
    scale = math.cos(phi0) - math.sin(phi0) * (lat - lat0) * (math.pi / 360)
    dx, dy = (lng - lng0) * scale, lat - lat0
    where.append(dx * dx + dy * dy <= dlat * dlat)
    return where


def _conditions(rule: dict) -> tuple[list, bool]:
    """The WHERE conditions of one rule over estates (and estate_profiles), and whether the
    profile row is needed."""
    where, profile = [], False
    if rule.get("estate_ids"):
        where.append(Estate.id.in_(rule["estate_ids"]))
    for key, column in (("provinces", Estate.province), ("cities", Estate.city), ("districts", Estate.district)):
        if rule.get(key):
            where.append(column.in_(rule[key]))
    if rule.get("households"):
        bounds = rule["households"]
        if "min" in bounds:
            where.append(Estate.households >= bounds["min"])
        if "max" in bounds:
            where.append(Estate.households <= bounds["max"])
    for key in ("avg_rating", "orders_per_1000", "complaints_per_1000", "coverage"):
        if rule.get(key):
            profile, column, bounds = True, _profile_column(key), rule[key]
            if "min" in bounds:
                where.append(column >= bounds["min"])  # NULL (no ratings, no households) fails
            if "max" in bounds:
                where.append(column <= bounds["max"])
    if rule.get("tags_any"):
        where.append(sa.exists().where(EstateTag.estate_id == Estate.id, EstateTag.tag.in_(rule["tags_any"])))
    for tag in rule.get("tags_all") or ():
        where.append(sa.exists().where(EstateTag.estate_id == Estate.id, EstateTag.tag == tag))
    if rule.get("tags_none"):
        where.append(~sa.exists().where(EstateTag.estate_id == Estate.id, EstateTag.tag.in_(rule["tags_none"])))
    if rule.get("near"):
        where.extend(_near_conditions(rule["near"]))
    return where, profile


def matching_estates(rule: dict, within: dict | None = None) -> sa.Select:
    """SELECT estates.id of the active estates the rule (as validate_rule returns it) matches;
    `within` (a partner's reach, another rule) narrows it further. One column, for
    `INSERT … SELECT`, `IN (…)` and counts."""
    where, profile = _conditions(rule or {})
    if within is not None:
        more, more_profile = _conditions(within)
        where, profile = where + more, profile or more_profile
    stmt = sa.select(Estate.id.label("estate_id"))
    if profile:
        stmt = stmt.join(EstateProfile, EstateProfile.estate_id == Estate.id)
    return stmt.where(Estate.status == "active", *where)


def count_matching(rule: dict, within: dict | None = None) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(matching_estates(rule, within).subquery()))


def preview(rule: dict, within: dict | None = None, *, limit: int = 50) -> dict:
    """How many estates the rule matches, and the first `limit` of them (by id) with where they are."""
    ids = matching_estates(rule, within).order_by(Estate.id).limit(limit).subquery()
    rows = db.session.execute(sa.select(Estate.id, Estate.code, Estate.name, Estate.province, Estate.city,
                                        Estate.district, Estate.households)
                              .join(ids, ids.c.estate_id == Estate.id).order_by(Estate.id)).all()
    return {"count": count_matching(rule, within), "estates": [dict(row._mapping) for row in rows]}


# -- profiles: the figures, refreshed set-based --------------------------------------------------

PROFILE_WINDOW_MONTHS = 12


def profile_months(now: datetime | None = None) -> tuple[str, str]:
    """[first, end) of the last 12 full months in Asia/Shanghai, as `YYYY-MM` (the month column)."""
    local = (now or utcnow()).astimezone(BUSINESS_TZ)
    end = local.year * 12 + local.month - 1  # the current month: not yet full
    first = end - PROFILE_WINDOW_MONTHS
    return f"{first // 12:04d}-{first % 12 + 1:02d}", f"{end // 12:04d}-{end % 12 + 1:02d}"


def refresh_profiles(estate_ids=None, *, now: datetime | None = None) -> int:
    """Recompute the profile rows of these estates (all when None) in one INSERT … SELECT … ON
    CONFLICT DO UPDATE; returns the rows written. Sends estate_profiles_changed."""
    first, end = profile_months(now)
    stamp = now or utcnow()
    m = EstateMonthStat.__table__.c
    months = (sa.select(m.estate_id, sa.func.sum(m.orders).label("orders"),
                        sa.func.sum(m.complaints).label("complaints"),
                        sa.func.sum(m.ratings_count).label("ratings_count"),
                        sa.func.sum(m.ratings_sum).label("ratings_sum"))
              .where(m.month >= first, m.month < end).group_by(m.estate_id))
    b = StewardBinding.__table__.c
    bound = (sa.select(b.estate_id, sa.func.count(sa.distinct(b.resident_id)).label("residents"))
             .where(b.ended_at.is_(None)).group_by(b.estate_id))
    ids = None
    if estate_ids is not None:
        ids = sorted({i for i in estate_ids if isinstance(i, int)})
        if not ids:
            return 0
        months, bound = months.where(m.estate_id.in_(ids)), bound.where(b.estate_id.in_(ids))
    months, bound = months.subquery("m"), bound.subquery("b")
    e = Estate.__table__.c
    orders = sa.func.coalesce(months.c.orders, 0)
    complaints = sa.func.coalesce(months.c.complaints, 0)
    residents = sa.func.coalesce(bound.c.residents, 0)
    has_households = e.households > 0
    per_1000 = lambda count: sa.case((has_households, sa.cast(count, sa.Float) * 1000.0 / e.households))  # noqa: E731
    select = (sa.select(
        e.id, e.households, orders, complaints, per_1000(orders), per_1000(complaints),
        sa.case((sa.func.coalesce(months.c.ratings_count, 0) > 0,
                 sa.cast(months.c.ratings_sum, sa.Float) / months.c.ratings_count)),
        residents,
        sa.case((residents >= e.households, sa.case((has_households, 1.0))),
                else_=sa.cast(residents, sa.Float) / e.households),
        sa.literal(stamp, EstateProfile.__table__.c.refreshed_at.type))
        .select_from(Estate.__table__.outerjoin(months, months.c.estate_id == e.id)
                     .outerjoin(bound, bound.c.estate_id == e.id)))
    # WHERE is always there: SQLite reads `INSERT … SELECT … JOIN … ON CONFLICT` only with one.
    select = select.where(e.id.in_(ids) if ids is not None else sa.true())
    columns = ["estate_id", "households", "orders_12m", "complaints_12m", "orders_per_1000", "complaints_per_1000",
               "avg_rating", "bound_residents", "coverage", "refreshed_at"]
    insert = dialect_insert()(EstateProfile.__table__).from_select(columns, select)
    stmt = insert.on_conflict_do_update(index_elements=["estate_id"],
                                        set_={c: insert.excluded[c] for c in columns[1:]})
    written = db.session.execute(stmt.execution_options(preserve_rowcount=True)).rowcount
    signals.estate_profiles_changed.send(None, estate_ids=ids, keys=FIGURE_RULE_KEYS)
    return written


def refresh_estate_profile(estate_id: int) -> None:
    """Recompute one estate's figures now (the console's button; the daily job does every estate)."""
    refresh_profiles([estates.get_estate(estate_id).id])


def profile_of(estate_id: int) -> dict:
    """An estate's figures as the console shows them (None: never refreshed) and its tags."""
    estate = estates.get_estate(estate_id)
    profile = db.session.get(EstateProfile, estate.id)
    return {"estate_id": estate.id, "profile": profile, "tags": estate_tags(estate.id)}


# -- tags -----------------------------------------------------------------------------------------

TAG_MAX = 16  # estate_tags.tag
MAX_TAGS_PER_ESTATE = 30
TAG_SEPARATOR = "|"  # between tags in the CSV's tags column
SUGGESTED_TAGS = ("新小区", "次新小区", "老旧小区", "别墅", "高端住宅", "学区房", "公寓", "拆迁安置")


def clean_tags(tags, *, field: str = "tags") -> list[str]:
    """Tags trimmed (inner spaces folded), once each, in the given order; refused when empty
    after trimming, too long, holding `|` or control characters, or too many."""
    if isinstance(tags, str) or not isinstance(tags, (list, tuple)) or not all(isinstance(t, str) for t in tags):
        raise invalid(field, "标签应为文字列表")
    clean = []
    for raw in tags:
        tag = " ".join(raw.split())
        if not tag:
            continue
        if len(tag) > TAG_MAX:
            raise invalid(field, f"标签最多 {TAG_MAX} 个字：{tag}")
        if TAG_SEPARATOR in tag or any(unicodedata.category(c)[0] == "C" for c in tag):
            raise invalid(field, f"标签不能含有 {TAG_SEPARATOR} 或控制字符：{tag}")
        if tag not in clean:
            clean.append(tag)
    if len(clean) > MAX_TAGS_PER_ESTATE:
        raise invalid(field, f"每个小区最多 {MAX_TAGS_PER_ESTATE} 个标签")
    return clean


def split_tags(text: str) -> list[str]:
    """The tags of a CSV cell: `|`-separated (full-width ｜ too)."""
    return [part for part in re.split(r"[|｜]", text or "") if part.strip()]


def estate_tags(estate_id: int) -> list[str]:
    return list(db.session.scalars(sa.select(EstateTag.tag).where(EstateTag.estate_id == estate_id)
                                   .order_by(EstateTag.created_at, EstateTag.tag)))


def tags_of(estate_ids) -> dict[int, list[str]]:
    """The tags of each of these estates (one query per 1,000); estates without tags are left out."""
    wanted = sorted({i for i in estate_ids if isinstance(i, int)})
    found: dict[int, list[str]] = {}
    for start in range(0, len(wanted), 1000):
        for estate_id, tag in db.session.execute(
                sa.select(EstateTag.estate_id, EstateTag.tag).where(EstateTag.estate_id.in_(wanted[start:start + 1000]))
                .order_by(EstateTag.estate_id, EstateTag.created_at, EstateTag.tag)):
            found.setdefault(estate_id, []).append(tag)
    return found


def _write_tags(wanted: dict[int, list[str]], *, replace: bool) -> list[int]:
    """Make each estate's tags these (or add them, without `replace`), set-based; returns the
    estates whose tags changed (so a repeat changes nothing and tells nobody)."""
    have = tags_of(wanted)
    now = utcnow()
    removed, added, changed = [], [], []
    for estate_id, tags in wanted.items():
        old = set(have.get(estate_id, []))
        if not replace and len(old | set(tags)) > MAX_TAGS_PER_ESTATE:
            raise invalid("tags", f"每个小区最多 {MAX_TAGS_PER_ESTATE} 个标签")
        gone = sorted(old - set(tags)) if replace else []
        new = [t for t in tags if t not in old]
        removed += [(estate_id, t) for t in gone]
        # a microsecond apart: the tags read back in the order they were given
        added += [{"estate_id": estate_id, "tag": t, "created_at": now + timedelta(microseconds=i)}
                  for i, t in enumerate(new)]
        if gone or new:
            changed.append(estate_id)
    for start in range(0, len(removed), 500):
        chunk = removed[start:start + 500]
        db.session.execute(sa.delete(EstateTag).where(sa.tuple_(EstateTag.estate_id, EstateTag.tag).in_(chunk))
                           .execution_options(synchronize_session=False))
    for start in range(0, len(added), 1000):
        db.session.execute(dialect_insert()(EstateTag.__table__).on_conflict_do_nothing(), added[start:start + 1000])
    return sorted(changed)


def _tags_changed(estate_ids: list[int]) -> None:
    if estate_ids:
        signals.estate_profiles_changed.send(None, estate_ids=estate_ids, keys=TAG_RULE_KEYS)


def set_estate_tags(estate_id: int, tags, actor) -> list[str]:
    """Make the estate's tags exactly these (audited); offers are matched again for it."""
    estate = estates.get_estate(estate_id)
    clean = clean_tags(tags)
    before = estate_tags(estate.id)
    changed = _write_tags({estate.id: clean}, replace=True)
    if changed:
        audit.record(actor, "estate.tags.set", "estate", estate.id, before={"tags": before}, after={"tags": clean})
        _tags_changed(changed)
    return estate_tags(estate.id)


def add_estate_tags(estate_id: int, tags, actor) -> list[str]:
    """Add tags to an estate (those it has stay)."""
    estate = estates.get_estate(estate_id)
    clean = clean_tags(tags)
    if not clean:
        raise invalid("tags", "请填写要添加的标签")
    before = estate_tags(estate.id)
    changed = _write_tags({estate.id: clean}, replace=False)
    if changed:
        audit.record(actor, "estate.tags.add", "estate", estate.id, before={"tags": before}, after={"added": clean})
        _tags_changed(changed)
    return estate_tags(estate.id)


def remove_estate_tags(estate_id: int, tags, actor) -> list[str]:
    """Remove these tags from an estate (a tag it does not have is ignored)."""
    estate = estates.get_estate(estate_id)
    gone = set(clean_tags(tags))
    before = estate_tags(estate.id)
    keep = [t for t in before if t not in gone]
    if keep != before:
        _write_tags({estate.id: keep}, replace=True)
        audit.record(actor, "estate.tags.remove", "estate", estate.id, before={"tags": before},
                     after={"removed": sorted(gone & set(before))})
        _tags_changed([estate.id])
    return keep


def tag_counts() -> list[dict]:
    """Every tag in use and how many estates carry it, the most used first."""
    rows = db.session.execute(sa.select(EstateTag.tag, sa.func.count().label("estates")).group_by(EstateTag.tag)
                              .order_by(sa.func.count().desc(), EstateTag.tag)).all()
    return [{"tag": tag, "estates": n} for tag, n in rows]


def clean_import_row(data: dict) -> tuple[str, list[str]]:
    """(estate code, tags) of a CSV row, or ValidationFailed naming the column at fault."""
    code = (data.get("estate_code") or "").strip()
    if not code:
        raise invalid("estate_code", "请填写小区编码")
    return code, clean_tags(split_tags(data.get("tags") or ""), field="tags")


def import_tags(rows: list[tuple[str, list[str]]], *, replace: bool = True) -> dict:
    """One batch of the CSV: each estate (by code) gets exactly these tags (`replace`), or gets
    them added. Returns {"changed", "unchanged", "unknown": [codes not found]}; a repeat changes
    nothing. Offers are matched again for the estates that changed."""
    by_code = dict(rows)  # a code twice in a batch: the later row wins
    ids = dict(db.session.execute(sa.select(Estate.code, Estate.id).where(Estate.code.in_(list(by_code)))).all())
    unknown = [code for code in by_code if code not in ids]
    changed = _write_tags({ids[code]: tags for code, tags in by_code.items() if code in ids}, replace=replace)
    _tags_changed(changed)
    return {"changed": len(changed), "unchanged": len(ids) - len(changed), "unknown": unknown}
