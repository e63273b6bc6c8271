"""Ambassador levels: the levels themselves (data, edited by admins), the daily re-evaluation of
every ambassador against the rolling contribution window, admin overrides, and the leaderboards.

Window: the contribution window on Asia/Shanghai day D is the AMBASSADOR_WINDOW_DAYS days
D - (N - 1) … D, both included (N = 90: today and the 89 days before it). The window
contribution is the sum of `Contribution.points` over those days.

Target level: the level of the highest position whose threshold ≤ the window contribution (the
lowest level when none is). A higher target promotes at once. A lower one demotes only when the
ambassador has been below their level's threshold since an evaluation on Shanghai day B and the
evaluation runs on day B + AMBASSADOR_DEMOTION_GRACE_DAYS or later, still below; `below_since`
records B's evaluation and is cleared whenever an evaluation finds the threshold met again.
Ambassadors who are not active, and those whose level an admin pinned (`level_pinned_until` in
the future), are not evaluated.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Callable

import sqlalchemy as sa
from flask import current_app

from ambassador.access import require_ambassador
from ambassador.levels.models import Contribution, Standing
from ambassador.models import PERMISSIONS, Ambassador, AmbassadorEstate, Level, LevelChange
from core import audit
from core.accounts.models import User
from core.db import dialect_insert, upsert_add, utcnow
from core.errors import Conflict, NotFound, ValidationFailed
from core.extensions import db
from core.formatting import BUSINESS_TZ, mask_name

LEVEL_FIELDS = ("code", "name", "position", "threshold", "permissions", "multiplier_pct")
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
MAX_THRESHOLD = 10**9
MAX_PIN_DAYS = 3650
SCOPES = ("all", "estate", "city", "level")
PERIODS = ("month", "quarter", "all")


def _fields_error(message: str, field_name: str, problem: str, code: str = "validation_error"):
    return ValidationFailed(message, code=code, details={"fields": {field_name: [problem]}})


# -- levels -----------------------------------------------------------------------------------

def list_levels() -> list[Level]:
    return list(db.session.scalars(sa.select(Level).order_by(Level.position)))


def get_level(level_id: int) -> Level:
    level = db.session.get(Level, level_id)
    if level is None:
        raise NotFound("等级不存在", code="level_not_found")
    return level


def _level_state(level: Level) -> dict:
    return {f: getattr(level, f) for f in LEVEL_FIELDS}


def _validate(level: Level) -> None:
    """Field rules, uniqueness of code and position, and thresholds rising with position."""
    if not level.code or not CODE_PATTERN.match(level.code):
        raise _fields_error("等级代码无效", "code", "lowercase letters, digits, - and _, starting with a letter (≤ 32)")
    if not level.name or not level.name.strip() or len(level.name) > 32:
        raise _fields_error("请填写等级名称（不超过 32 字）", "name", "required, at most 32 characters")
    if not isinstance(level.position, int) or level.position < 1:
        raise _fields_error("等级顺序须为正整数", "position", "must be ≥ 1")
    if not isinstance(level.threshold, int) or not 0 <= level.threshold <= MAX_THRESHOLD:
        raise _fields_error("门槛积分须为 0 或正整数", "threshold", f"must be between 0 and {MAX_THRESHOLD}")
    if not isinstance(level.multiplier_pct, int) or not 1 <= level.multiplier_pct <= 1000:
        raise _fields_error("奖励倍数须在 1% 到 1000% 之间", "multiplier_pct", "must be between 1 and 1000")
    permissions = level.permissions or []
    unknown = sorted(set(permissions) - set(PERMISSIONS))
    if unknown:
        raise _fields_error("未知的权限：" + "、".join(unknown), "permissions", f"unknown: {', '.join(unknown)}")
    level.permissions = [p for p in PERMISSIONS if p in permissions]  # canonical order, no duplicates
    others = db.session.execute(sa.select(Level.id, Level.code, Level.position, Level.threshold, Level.name)
                                .where(Level.id != level.id if level.id is not None else sa.true())).all()
    if any(o.code == level.code for o in others):
        raise Conflict("等级代码已被使用", code="level_code_taken", details={"fields": {"code": ["已被使用"]}})
    if any(o.position == level.position for o in others):
        raise Conflict("该顺序已有等级，请先调整原等级的顺序", code="level_position_taken",
                       details={"fields": {"position": ["已被使用"]}})
    # A higher level must ask for more: otherwise the lower of two levels could never be reached.
    for other in others:
        lower, higher = (other, level) if other.position < level.position else (level, other)
        if higher.threshold <= lower.threshold:
            raise _fields_error(f"门槛须随等级升高：「{higher.name}」的门槛须高于「{lower.name}」（{lower.threshold} 分）",
                                "threshold", "must be higher than every lower level's and lower than every "
                                "higher level's", code="level_threshold_order")


def create_level(data: dict, actor: User) -> Level:
    level = Level(code=data.get("code"), name=data.get("name"), position=data.get("position"),
                  threshold=data.get("threshold", 0), permissions=list(data.get("permissions") or []),
                  multiplier_pct=data.get("multiplier_pct", 100))
    _validate(level)
    db.session.add(level)
    db.session.flush()
    audit.record(actor, "ambassador.level.create", "ambassador_level", level.id, after=_level_state(level))
    return level


def update_level(level_id: int, data: dict, actor: User) -> Level:
    level = get_level(level_id)
    before = _level_state(level)
    for name in LEVEL_FIELDS:
        if name in data:
            setattr(level, name, list(data[name]) if name == "permissions" else data[name])
    with db.session.no_autoflush:
        _validate(level)
    db.session.flush()
    after = _level_state(level)
    if after != before:
        audit.record(actor, "ambassador.level.update", "ambassador_level", level.id, before=before, after=after)
    return level


def delete_level(level_id: int, actor: User) -> None:
    level = get_level(level_id)
    holders = db.session.scalar(sa.select(sa.func.count()).select_from(Ambassador)
                                .where(Ambassador.level_id == level.id))
    if holders:
        raise Conflict(f"仍有 {holders} 位代言人（含已暂停、已移除）处于该等级，不能删除", code="level_in_use",
                       details={"ambassadors": holders})
    # Level history names the level; deleting it would rewrite who was what.
    if db.session.scalar(sa.select(LevelChange.id).where(
            sa.or_(LevelChange.from_level_id == level.id, LevelChange.to_level_id == level.id)).limit(1)):
        raise Conflict("该等级已出现在代言人的等级记录中，不能删除（可修改名称或门槛）", code="level_has_history")
    before = _level_state(level)
    db.session.delete(level)
    db.session.flush()
    audit.record(actor, "ambassador.level.delete", "ambassador_level", level_id, before=before)


def target_level(levels, contribution: int):
    """The highest level (by position) whose threshold the contribution reaches; else the lowest."""
    reached = [lv for lv in levels if lv.threshold <= contribution]
    return max(reached, key=lambda lv: lv.position) if reached else min(levels, key=lambda lv: lv.position)


# -- evaluation -------------------------------------------------------------------------------

def window_days() -> int:
    return int(current_app.config["AMBASSADOR_WINDOW_DAYS"])


def grace_days() -> int:
    return int(current_app.config["AMBASSADOR_DEMOTION_GRACE_DAYS"])


def window_bounds(today: date) -> tuple[date, date]:
    """First and last Shanghai day (both included) of the window that ends on `today`."""
    return today - timedelta(days=window_days() - 1), today


def window_contribution(user_id: int, now: datetime | None = None) -> int:
    first, last = window_bounds(business_day(now or utcnow()))
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Contribution.points), 0)).where(
        Contribution.user_id == user_id, Contribution.day.between(first, last))) or 0


@dataclass
class Evaluation:
    """What one run (or one batch) of the evaluation did."""
    evaluated: int = 0
    promoted: int = 0
    demoted: int = 0
    newly_below: int = 0  # found below their threshold for the first time (grace starts)
    recovered: int = 0  # back at their threshold during the grace period
    batches: int = 0
    ambassadors_read: int = 0
    contribution_rows_read: int = 0
    last_user_id: int | None = None

    def add(self, other: "Evaluation") -> None:
        for name, value in asdict(other).items():
            if name != "last_user_id":
                setattr(self, name, getattr(self, name) + value)
        self.last_user_id = other.last_user_id if other.last_user_id is not None else self.last_user_id

    def as_dict(self) -> dict:
        return asdict(self)


_amb = Ambassador.__table__
_UPDATE_EVALUATED = (
    sa.update(_amb).where(_amb.c.user_id == sa.bindparam("b_user_id"))
    .values(window_contribution=sa.bindparam("b_window", type_=_amb.c.window_contribution.type),
            below_since=sa.bindparam("b_below_since", type_=_amb.c.below_since.type),
            level_id=sa.bindparam("b_level_id", type_=_amb.c.level_id.type),
            evaluated_at=sa.bindparam("b_now", type_=_amb.c.evaluated_at.type))
)


# PostgreSQL: the whole batch in one statement (arrays of the new values, joined by user_id).
_UPDATE_EVALUATED_PG = sa.text("""
    UPDATE ambassadors AS a SET window_contribution = v.window_contribution, below_since = v.below_since,
           level_id = v.level_id, evaluated_at = :now, updated_at = :now
    FROM unnest(CAST(:user_ids AS bigint[]), CAST(:windows AS bigint[]), CAST(:below AS timestamp[]),
                CAST(:level_ids AS bigint[])) AS v(user_id, window_contribution, below_since, level_id)
    WHERE a.user_id = v.user_id""")


def _naive_utc(value: datetime | None) -> datetime | None:
    return value.astimezone(timezone.utc).replace(tzinfo=None) if value is not None else None


def _store_evaluations(updates: list[dict], now: datetime) -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(_UPDATE_EVALUATED_PG, {
            "now": _naive_utc(now), "user_ids": [u["b_user_id"] for u in updates],
            "windows": [u["b_window"] for u in updates],
            "below": [_naive_utc(u["b_below_since"]) for u in updates],
            "level_ids": [u["b_level_id"] for u in updates]})
    else:
        db.session.execute(_UPDATE_EVALUATED, updates)


def _move_level_standings(moves: dict[tuple[int, int], list[int]]) -> None:
    """`contributions.move_scope` for a batch's level changes, in a few statements.

    `moves` maps (old level id, new level id) to user ids. Rows are re-labelled in place (one
    UPDATE per pair); a row that already exists in the new scope (it should not: an ambassador
    has rows in one level only) is merged into it instead, after one check for the whole batch.
    """
    table = Standing.__table__
    there = sa.alias(table, "there")
    for (old_level_id, new_level_id), user_ids in moves.items():
        db.session.execute(sa.update(table).where(
            table.c.scope == f"level:{old_level_id}", table.c.user_id.in_(user_ids),
            ~sa.exists().where(there.c.scope == f"level:{new_level_id}", there.c.period == table.c.period,
                               there.c.user_id == table.c.user_id)).values(scope=f"level:{new_level_id}")
            .execution_options(synchronize_session=False))
    old_rows = [(user_id, f"level:{old}") for (old, _), user_ids in moves.items() for user_id in user_ids]
    if not old_rows or db.session.execute(sa.select(table.c.user_id).where(
            sa.tuple_(table.c.user_id, table.c.scope).in_(old_rows)).limit(1)).first() is None:
        return
    for (old_level_id, new_level_id), user_ids in moves.items():
        old_scope, new_scope = f"level:{old_level_id}", f"level:{new_level_id}"
        source = sa.select(sa.literal(new_scope, sa.String), table.c.period, table.c.user_id, table.c.points).where(
            table.c.scope == old_scope, table.c.user_id.in_(user_ids))
        insert = dialect_insert()(table).from_select(["scope", "period", "user_id", "points"], source)
        db.session.execute(insert.on_conflict_do_update(index_elements=["scope", "period", "user_id"],
                                                        set_={"points": table.c.points + insert.excluded.points}))
        db.session.execute(sa.delete(table).where(table.c.scope == old_scope, table.c.user_id.in_(user_ids)))


@dataclass(frozen=True)
class LevelInfo:
    """What evaluation needs of a level, detached from the session (it outlives each batch's commit)."""
    id: int
    name: str
    position: int
    threshold: int


def level_infos() -> list[LevelInfo]:
    return [LevelInfo(lv.id, lv.name, lv.position, lv.threshold) for lv in list_levels()]


def evaluate_batch(after: int, *, now: datetime, limit: int = 1000,
                   levels: list[LevelInfo] | None = None) -> Evaluation:
    """Evaluate the next `limit` active, unpinned ambassadors with user_id > `after`.

    Two reads whatever the batch size: the batch (locked, so an admin override waits for it, or
    it waits for the override and sees the pin) and one aggregate over their window; nothing per
    ambassador. Writes: one UPDATE (an executemany off PostgreSQL), one bulk INSERT of level
    changes, one UPDATE per (old, new) level pair and one check for the leaderboard rows.
    """
    levels = levels if levels is not None else level_infos()
    by_id = {lv.id: lv for lv in levels}
    window, grace = window_days(), grace_days()
    today = business_day(now)
    first, last = window_bounds(today)
    result = Evaluation(batches=1)
    rows = db.session.execute(
        sa.select(_amb.c.user_id, _amb.c.level_id, _amb.c.below_since)
        .where(_amb.c.user_id > after, _amb.c.status == "active",
               sa.or_(_amb.c.level_pinned_until.is_(None), _amb.c.level_pinned_until <= now))
        .order_by(_amb.c.user_id).limit(limit).with_for_update()).all()
    if not rows:
        return Evaluation()
    result.ambassadors_read = len(rows)
    result.last_user_id = rows[-1].user_id
    contribution = db.session.execute(
        sa.select(Contribution.user_id, sa.func.sum(Contribution.points), sa.func.count())
        .where(Contribution.user_id > after, Contribution.user_id <= result.last_user_id,
               Contribution.day.between(first, last))
        .group_by(Contribution.user_id)).all()
    sums = {user_id: int(total) for user_id, total, _ in contribution}
    result.contribution_rows_read = sum(count for _, _, count in contribution)

    updates, changes, moves = [], [], {}
    for row in rows:
        points = sums.get(row.user_id, 0)
        if row.level_id not in by_id:  # a level created (and used) since the run began
            levels = level_infos()
            by_id = {lv.id: lv for lv in levels}
        current = by_id[row.level_id]
        target = target_level(levels, points)
        level_id, below_since = current.id, row.below_since
        if target.position > current.position:
            kind, level_id, below_since = "promote", target.id, None
            reason = f"近{window}天贡献 {points} 分，达到「{target.name}」门槛 {target.threshold} 分"
        elif points >= current.threshold or target.position == current.position:
            kind = None
            if below_since is not None:
                below_since = None
                result.recovered += 1
        elif below_since is None:
            kind, below_since = None, now
            result.newly_below += 1
        elif (today - business_day(below_since)).days >= grace:
            kind, level_id, below_since = "demote", target.id, None
            reason = (f"近{window}天贡献 {points} 分，低于「{current.name}」门槛 {current.threshold} 分已满 "
                      f"{grace} 天，调整为「{target.name}」")
        else:
            kind = None
        updates.append({"b_user_id": row.user_id, "b_window": points, "b_below_since": below_since,
                        "b_level_id": level_id, "b_now": now})
        if kind:
            if kind == "promote":
                result.promoted += 1
            else:
                result.demoted += 1
            changes.append({"user_id": row.user_id, "kind": kind, "from_level_id": current.id,
                            "to_level_id": level_id, "contribution": points, "reason": reason,
                            "actor_id": None, "created_at": now})
            moves.setdefault((current.id, level_id), []).append(row.user_id)
    result.evaluated = len(rows)
    _store_evaluations(updates, now)
    if changes:
        db.session.execute(sa.insert(LevelChange.__table__), changes)
    if moves:
        _move_level_standings(moves)
    return result


def evaluate_all(now: datetime | None = None, batch_size: int = 1000, *,
                 after_batch: Callable[[], None] | None = None, after: int = 0) -> Evaluation:
    """Evaluate every active ambassador, in user_id order, batch by batch.

    `after_batch` runs after each batch (the job commits there, so a crash keeps every finished
    batch and a re-run redoes the rest). A re-run on the same Shanghai day finds nothing to
    change: the same window gives the same target, and `below_since` is only set once.
    """
    now = now or utcnow()
    levels = level_infos()
    total = Evaluation()
    if not levels:
        return total
    while True:
        batch = evaluate_batch(after, now=now, limit=batch_size, levels=levels)
        if not batch.batches:
            return total
        total.add(batch)
        after = batch.last_user_id
        if after_batch is not None:
            after_batch()
        # The session holds nothing the next batch needs: keep memory flat over any number of batches.
        db.session.expunge_all()


# -- admin override ---------------------------------------------------------------------------

def _locked_ambassador(user_id: int) -> Ambassador:
    ambassador = db.session.scalar(sa.select(Ambassador).where(Ambassador.user_id == user_id)
                                   .with_for_update().execution_options(populate_existing=True))
    if ambassador is None:
        raise NotFound("该用户不是服务代言人", code="ambassador_not_found")
    return ambassador


def override_level(user_id: int, level_id: int, reason: str, actor: User, *, pin_days: int | None = None,
                   now: datetime | None = None) -> Ambassador:
    """Set an ambassador's level by hand, with a reason; the job leaves it alone for `pin_days`."""
    now = now or utcnow()
    reason = (reason or "").strip()
    if not reason or len(reason) > 255:
        raise _fields_error("请填写调整原因（不超过 255 字）", "reason", "required, at most 255 characters")
    if pin_days is None:
        pin_days = int(current_app.config["AMBASSADOR_OVERRIDE_DAYS"])
    if not isinstance(pin_days, int) or not 1 <= pin_days <= MAX_PIN_DAYS:
        raise _fields_error(f"锁定天数须在 1 到 {MAX_PIN_DAYS} 之间", "pin_days", f"must be between 1 and {MAX_PIN_DAYS}")
    level = db.session.get(Level, level_id)
    if level is None:
        raise _fields_error("等级不存在", "level_id", "no such level", code="level_not_found")
    ambassador = _locked_ambassador(user_id)
    if ambassador.status == "removed":
        raise Conflict("该代言人已被移除，不能调整等级", code="ambassador_removed")
    before = {"level_id": ambassador.level_id, "level_pinned_until": ambassador.level_pinned_until,
              "below_since": ambassador.below_since}
    old_level_id = ambassador.level_id
    ambassador.level_id = level.id
    ambassador.level_pinned_until = now + timedelta(days=pin_days)
    ambassador.below_since = None
    db.session.add(LevelChange(user_id=user_id, kind="override", from_level_id=old_level_id, to_level_id=level.id,
                               contribution=ambassador.window_contribution, reason=reason, actor_id=actor.id,
                               created_at=now))
    db.session.flush()
    move_scope(user_id, f"level:{old_level_id}", f"level:{level.id}")
    audit.record(actor, "ambassador.level.override", "ambassador", user_id, before=before,
                 after={"level_id": level.id, "level_pinned_until": ambassador.level_pinned_until,
                        "below_since": None, "reason": reason})
    return ambassador


def unpin_level(user_id: int, actor: User, *, now: datetime | None = None) -> Ambassador:
    """End an override early: the next evaluation treats the ambassador like everyone else."""
    ambassador = _locked_ambassador(user_id)
    if ambassador.level_pinned_until is not None:
        before = {"level_pinned_until": ambassador.level_pinned_until}
        ambassador.level_pinned_until = None
        db.session.flush()
        audit.record(actor, "ambassador.level.unpin", "ambassador", user_id, before=before,
                     after={"level_pinned_until": None})
    return ambassador


def level_changes(user_id: int, limit: int = 50) -> list[LevelChange]:
    """An ambassador's level history, newest first."""
    return list(db.session.scalars(sa.select(LevelChange).where(LevelChange.user_id == user_id)
                                   .order_by(LevelChange.id.desc()).limit(limit)))


# -- leaderboards -----------------------------------------------------------------------------

@dataclass
class Board:
    scope: str
    period: str
    scope_key: str
    period_key: str
    items: list = field(default_factory=list)
    me: dict = field(default_factory=dict)


def _scope_key(ambassador: Ambassador, scope: str, estate_id: int | None) -> str:
    if scope == "all":
        return ALL
    if scope == "level":
        return f"level:{ambassador.level_id}"
    if scope == "city":
        if not ambassador.city:
            raise ValidationFailed("您还没有所在城市，无法查看城市排行", code="no_city",
                                   details={"fields": {"scope": ["还没有所在城市"]}})
        return f"city:{ambassador.city}"
    estates = list(db.session.scalars(sa.select(AmbassadorEstate.estate_id)
                                      .where(AmbassadorEstate.user_id == ambassador.user_id)
                                      .order_by(AmbassadorEstate.estate_id)))
    if estate_id is None:
        if not estates:
            raise ValidationFailed("您还没有服务的小区，无法查看小区排行", code="no_estate",
                                   details={"fields": {"scope": ["还没有服务的小区"]}})
        estate_id = estates[0]
    elif estate_id not in estates:
        raise ValidationFailed("只能查看您服务的小区的排行", code="not_your_estate",
                               details={"fields": {"estate_id": ["不是您服务的小区"]}})
    return f"estate:{estate_id}"


def _period_key(period: str, now: datetime) -> str:
    day = business_day(now)
    return {"all": ALL, "month": month_period(day),
            "quarter": quarter_period(day)}[period]


def leaderboard(user_id: int, scope: str = "all", period: str = "month", *, estate_id: int | None = None,
                limit: int = 20, now: datetime | None = None) -> Board:
    """Top `limit` active ambassadors of the caller's scope and period, and the caller's own rank.

    Ranks are competition ranks (equal points share a rank: 1, 2, 2, 4); equal points list by
    user id. Everything is read from `ambassador_standings` through its rank index.
    """
    ambassador, _ = require_ambassador(user_id)
    if scope not in SCOPES:
        raise _fields_error("排行范围无效", "scope", f"one of {', '.join(SCOPES)}")
    if period not in PERIODS:
        raise _fields_error("排行周期无效", "period", f"one of {', '.join(PERIODS)}")
    now = now or utcnow()
    scope_key, period_key = _scope_key(ambassador, scope, estate_id), _period_key(period, now)
    board = Board(scope=scope, period=period, scope_key=scope_key, period_key=period_key)
    active = sa.and_(Ambassador.user_id == Standing.user_id, Ambassador.status == "active")
    top = db.session.execute(
        sa.select(Standing.user_id, Standing.points, Ambassador.real_name, Level.name)
        .join(Ambassador, active).join(Level, Level.id == Ambassador.level_id)
        .where(Standing.scope == scope_key, Standing.period == period_key)
        .order_by(Standing.points.desc(), Standing.user_id.asc()).limit(limit)).all()
    previous, rank = None, 0
    for index, row in enumerate(top, start=1):
        if row.points != previous:
            rank, previous = index, row.points
        board.items.append({"rank": rank, "name": mask_name(row.real_name, "代言人"), "level": row.name,
                            "points": row.points, "is_me": row.user_id == user_id})
    mine = db.session.scalar(sa.select(Standing.points).where(
        Standing.scope == scope_key, Standing.period == period_key, Standing.user_id == user_id)) or 0
    ahead = Standing.scope == scope_key, Standing.period == period_key, Standing.points > mine
    # An index range count of the rows ahead of the caller (the rank index), less the few of
    # them whose ambassador is suspended or removed: found through ix_ambassadors_level_status
    # (every level, the two inactive statuses), not by joining every row of the range.
    level_ids = [lv.id for lv in level_infos()]
    everyone = db.session.scalar(sa.select(sa.func.count()).select_from(Standing).where(*ahead))
    inactive = db.session.scalar(sa.select(sa.func.count()).select_from(Ambassador).join(
        Standing, Standing.user_id == Ambassador.user_id).where(
        Ambassador.level_id.in_(level_ids), Ambassador.status.in_(("suspended", "removed")), *ahead))
    board.me = {"rank": everyone - inactive + 1, "points": mine}
    return board


# -- contribution and the leaderboards' rows --------------------------------------------------------
# Contribution is what an ambassador earned as one, per Asia/Shanghai day (the rolling window of
# evaluation) and per leaderboard scope and period (precomputed standings, kept incrementally).


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
