"""Ambassador tasks: the admin's task editor, what an ambassador may take and submit, the review
that pays (exactly once, with the level's multiplier) and the task statistics.

Limits are conditional UPDATEs, never read-then-write: a task's `approved_count` against its
total limit and an acceptance's `approved_count` against the per-person limit, in the same
transaction as the submission's own pending → approved update and the grant, so concurrent
approvals pay exactly as many as the limits allow and a submission is paid once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ambassador import access
from ambassador.levels import services as levels
from ambassador.models import Ambassador, AmbassadorEstate, Level
from ambassador.tasks.models import PROOF_KINDS, TASK_KINDS, Task, TaskAcceptance, TaskSubmission
from community.estates import services as estates
from core import audit
from core.accounts.models import User
from core.db import MAX_ID, insert_or_nothing, utcnow
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.extensions import db
from core.pagination import Page, decode_cursor, encode_cursor, paginate
from core.uploads import services as uploads
from points import rules, services as points

MAX_POINTS = 10**9
MAX_LIMIT = 10**6
MAX_PHOTOS = 9
KIND_LABELS = {"promotion": "推广", "activity": "活动通知", "content": "内容创作", "recruit": "招募代言人"}
PROOF_LABELS = {"text": "文字说明", "link": "链接", "photos": "照片"}
STATUS_LABELS = {"draft": "草稿", "published": "进行中", "closed": "已结束"}
SUBMISSION_LABELS = {"pending": "待审核", "approved": "已通过", "rejected": "已驳回"}
assert set(KIND_LABELS) == set(TASK_KINDS) and set(PROOF_LABELS) == set(PROOF_KINDS)

FIELDS = ("title", "description", "kind", "audience_level_ids", "audience_estate_ids", "audience_cities", "points",
          "deadline", "total_limit", "per_person_limit", "proof_required")
# Once published, a task is a promise to its audience: these may change only in its favour
# (see docs/ambassador-tasks.md); everything else is fixed.
WIDEN_ONLY = ("deadline", "total_limit", "per_person_limit")
FREE_AFTER_PUBLISH = ("title", "description")

# A photo is an upload's public name (core.uploads: 24 URL-safe characters and the extension),
# the path it is served from (/api/v1/uploads/<name>), or an http(s) URL of an image elsewhere.
UPLOAD_ID = re.compile(r"^(/api/v1/uploads/)?[A-Za-z0-9_-]{24}\.(jpg|png|webp)$")
HTTP_URL = re.compile(r"^https?://[^\s/?#]+\.[^\s/?#]+[^\s]*$", re.IGNORECASE)


# -- the editor (admins; audited) -------------------------------------------------------------

def _state(task: Task) -> dict:
    return {f: getattr(task, f) for f in (*FIELDS, "status")}


def _ids(values, field: str, errors: dict) -> list[int]:
    if values is None:
        return []
    if not isinstance(values, (list, tuple)) or not all(
            isinstance(v, int) and not isinstance(v, bool) and 0 < v <= MAX_ID for v in values):
        errors[field] = ["应为编号的列表"]
        return []
    return sorted(set(values))


def _normalise(task: Task, errors: dict) -> None:
    """Clean the audience and proof lists in place and check that the ids exist."""
    task.audience_level_ids = _ids(task.audience_level_ids, "audience_level_ids", errors)
    task.audience_estate_ids = _ids(task.audience_estate_ids, "audience_estate_ids", errors)
    if task.audience_level_ids:
        known = set(db.session.scalars(sa.select(Level.id).where(Level.id.in_(task.audience_level_ids))))
        if missing := [i for i in task.audience_level_ids if i not in known]:
            errors["audience_level_ids"] = [f"等级不存在：{'、'.join(map(str, missing))}"]
    if task.audience_estate_ids:
        known = set(estates.estates_by_id(task.audience_estate_ids))
        if missing := [i for i in task.audience_estate_ids if i not in known]:
            errors["audience_estate_ids"] = [f"小区不存在：{'、'.join(map(str, missing))}"]
    cities = task.audience_cities or []
    if not isinstance(cities, (list, tuple)) or not all(isinstance(c, str) for c in cities):
        errors["audience_cities"] = ["应为城市名称的列表"]
        cities = []
    cities = sorted({c.strip() for c in cities if c.strip()})
    if any(len(c) > 32 for c in cities):
        errors["audience_cities"] = ["城市名称最多 32 个字"]
    task.audience_cities = cities
    proof = task.proof_required or []
    if not isinstance(proof, (list, tuple)) or not set(proof) <= set(PROOF_KINDS):
        errors["proof_required"] = [f"只能从 {'、'.join(PROOF_KINDS)} 中选择"]
        proof = []
    task.proof_required = [p for p in PROOF_KINDS if p in proof]


def _check(task: Task, *, deadline_changed: bool) -> None:
    errors: dict[str, list[str]] = {}
    task.title = (task.title or "").strip()
    task.description = (task.description or "").strip()
    if not task.title:
        errors["title"] = ["必填"]
    elif len(task.title) > 64:
        errors["title"] = ["最多 64 个字"]
    if len(task.description) > 2000:
        errors["description"] = ["最多 2000 个字"]
    if task.kind not in TASK_KINDS:
        errors["kind"] = [f"应为 {'、'.join(TASK_KINDS)} 之一"]
    if not isinstance(task.points, int) or isinstance(task.points, bool) or not 0 <= task.points <= MAX_POINTS:
        errors["points"] = [f"应为 0 到 {MAX_POINTS} 的整数"]
    if not isinstance(task.deadline, datetime) or task.deadline.tzinfo is None:
        errors["deadline"] = ["必填（带时区的时间）"]
    elif deadline_changed and task.deadline <= utcnow():
        errors["deadline"] = ["须晚于当前时间"]
    if task.total_limit is not None and (not isinstance(task.total_limit, int) or
                                         not 1 <= task.total_limit <= MAX_LIMIT):
        errors["total_limit"] = [f"留空（不限）或 1 到 {MAX_LIMIT}"]
    if not isinstance(task.per_person_limit, int) or not 1 <= task.per_person_limit <= MAX_LIMIT:
        errors["per_person_limit"] = [f"应为 1 到 {MAX_LIMIT}"]
    _normalise(task, errors)
    if errors:
        raise ValidationFailed("任务信息有误", details={"fields": errors})


def get_task(task_id: int) -> Task:
    task = db.session.get(Task, task_id)
    if task is None:
        raise NotFound("任务不存在", code="task_not_found")
    return task


def create_task(data: dict, actor: User) -> Task:
    """A new task, as a draft (publish it to show it to ambassadors)."""
    task = Task(**{f: data.get(f) for f in FIELDS if f in data}, created_by_id=actor.id, status="draft")
    for field, empty in (("description", ""), ("audience_level_ids", []), ("audience_estate_ids", []),
                         ("audience_cities", []), ("proof_required", []), ("per_person_limit", 1)):
        if getattr(task, field) is None:
            setattr(task, field, empty)
    _check(task, deadline_changed=True)
    db.session.add(task)
    db.session.flush()
    audit.record(actor, "ambassador.task.create", "ambassador_task", task.id, after=_state(task))
    return task


def _published_refusals(task: Task, data: dict) -> dict[str, list[str]]:
    """What a change to a published task may not do: anything but wording, a later deadline and
    higher (or removed) limits."""
    refused = {}
    for field in FIELDS:
        if field not in data or field in FREE_AFTER_PUBLISH:
            continue
        old, new = getattr(task, field), data[field]
        if field in ("audience_level_ids", "audience_estate_ids", "audience_cities", "proof_required"):
            same = sorted(old or []) == sorted(set(new or []))
        else:
            same = old == new
        if same:
            continue
        if field == "deadline":
            if new is None or new < old:
                refused[field] = ["发布后只能延后"]
        elif field == "total_limit":
            if new is not None and (old is None or new < old):
                refused[field] = ["发布后只能提高或取消上限"]
        elif field == "per_person_limit":
            if new is None or new < old:
                refused[field] = ["发布后只能提高"]
        else:
            refused[field] = ["发布后不能修改"]
    return refused


def update_task(task_id: int, data: dict, actor: User) -> Task:
    """Change a task: anything while it is a draft; once published only what keeps its promises."""
    # Locked and re-read: a publish (or an approval's count) committed meanwhile is what we check against.
    task = db.session.get(Task, task_id, with_for_update=True, populate_existing=True)
    if task is None:
        raise NotFound("任务不存在", code="task_not_found")
    if task.status == "closed":
        raise Conflict("任务已结束，不能再修改", code="task_closed")
    data = {f: v for f, v in data.items() if f in FIELDS}
    if task.status == "published":
        refused = _published_refusals(task, data)
        if refused:
            raise Conflict("任务已发布，只能修改标题和说明、延后截止时间、提高完成次数上限", code="task_change_not_allowed",
                           details={"fields": refused})
    before = _state(task)
    for field, value in data.items():
        setattr(task, field, value)
    if task.total_limit is not None and task.total_limit < task.approved_count:
        raise ValidationFailed("任务信息有误", details={"fields": {"total_limit": ["不能低于已通过的次数"]}})
    _check(task, deadline_changed="deadline" in data and data["deadline"] != before["deadline"])
    db.session.flush()
    audit.record(actor, "ambassador.task.update", "ambassador_task", task.id, before=before, after=_state(task))
    return task


def _move(task: Task, to: str, from_: tuple[str, ...], actor: User, code: str, message: str) -> Task:
    values = {"status": to, "updated_at": utcnow()}
    if not db.session.execute(sa.update(Task).where(Task.id == task.id, Task.status.in_(from_))
                              .values(**values).execution_options(synchronize_session=False)).rowcount:
        db.session.refresh(task)
        raise Conflict(message, code=code, details={"status": task.status})
    before = task.status
    db.session.refresh(task)
    audit.record(actor, f"ambassador.task.{'publish' if to == 'published' else 'close'}", "ambassador_task",
                 task.id, before={"status": before}, after={"status": to})
    return task


def publish_task(task_id: int, actor: User) -> Task:
    task = get_task(task_id)
    if task.status == "draft" and task.deadline <= utcnow():
        raise ValidationFailed("截止时间已过，请先修改截止时间",
                               details={"fields": {"deadline": ["须晚于当前时间"]}})
    return _move(task, "published", ("draft",), actor, "task_not_draft", "只有草稿状态的任务可以发布")


def close_task(task_id: int, actor: User) -> Task:
    """End a task early: no new acceptances or submissions; pending submissions can still be reviewed."""
    task = get_task(task_id)
    return _move(task, "closed", ("draft", "published"), actor, "task_closed", "任务已结束")


def list_tasks(*, status: str | None = None, limit: int = 20, cursor: str | None = None) -> Page:
    """Every task for admins, newest first."""
    stmt = sa.select(Task)
    if status:
        stmt = stmt.where(Task.status == status)
    return paginate(stmt, [Task.id], limit=limit, cursor=cursor)


# -- audience ---------------------------------------------------------------------------------

def _recruit_level_ids() -> set[int]:
    return {level.id for level in db.session.scalars(sa.select(Level)) if "recruit" in (level.permissions or [])}


def in_audience(task: Task, ambassador: Ambassador, level: Level, estate_ids) -> bool:
    """Every non-empty audience list must match (levels, estates, cities); recruit tasks also need
    the level's `recruit` permission."""
    if task.audience_level_ids and ambassador.level_id not in task.audience_level_ids:
        return False
    if task.audience_estate_ids and not set(task.audience_estate_ids) & set(estate_ids):
        return False
    if task.audience_cities and ambassador.city not in task.audience_cities:
        return False
    if task.kind == "recruit" and "recruit" not in (level.permissions or []):
        return False
    return True


def reach(task: Task) -> int:
    """Active ambassadors eligible for the task now (one COUNT with the audience filters)."""
    stmt = sa.select(sa.func.count()).select_from(Ambassador).where(Ambassador.status == "active")
    level_ids = set(task.audience_level_ids or [])
    if task.kind == "recruit":
        level_ids = (level_ids & _recruit_level_ids()) if level_ids else _recruit_level_ids()
        if not level_ids:
            return 0
    if level_ids:
        stmt = stmt.where(Ambassador.level_id.in_(sorted(level_ids)))
    if task.audience_cities:
        stmt = stmt.where(Ambassador.city.in_(task.audience_cities))
    if task.audience_estate_ids:
        stmt = stmt.where(sa.exists().where(AmbassadorEstate.user_id == Ambassador.user_id,
                                            AmbassadorEstate.estate_id.in_(task.audience_estate_ids)))
    return db.session.scalar(stmt)


def _open(task: Task, now: datetime) -> bool:
    return task.status == "published" and task.deadline > now


# -- what an ambassador sees ------------------------------------------------------------------

@dataclass
class TaskState:
    """A task with the caller's standing on it."""
    task: Task
    accepted: bool
    pending: int
    approved: int
    rejected: int
    remaining_for_me: int
    remaining_total: int | None

    def __getattr__(self, name):  # the schemas read the task's fields through the state
        return getattr(self.task, name)


def _states(user_id: int, tasks: list[Task]) -> list[TaskState]:
    ids = [t.id for t in tasks]
    if not ids:
        return []
    accepted = {a.task_id: a for a in db.session.scalars(sa.select(TaskAcceptance).where(
        TaskAcceptance.user_id == user_id, TaskAcceptance.task_id.in_(ids)))}
    counts: dict[tuple[int, str], int] = {}
    for task_id, status, n in db.session.execute(
            sa.select(TaskSubmission.task_id, TaskSubmission.status, sa.func.count()).where(
                TaskSubmission.user_id == user_id, TaskSubmission.task_id.in_(ids)).group_by(
                TaskSubmission.task_id, TaskSubmission.status)):
        counts[(task_id, status)] = n
    states = []
    for task in tasks:
        acceptance = accepted.get(task.id)
        remaining_total = None if task.total_limit is None else max(0, task.total_limit - task.approved_count)
        mine = task.per_person_limit - (acceptance.approved_count if acceptance else 0)
        if remaining_total is not None:
            mine = min(mine, remaining_total)
        states.append(TaskState(task, acceptance is not None, counts.get((task.id, "pending"), 0),
                                counts.get((task.id, "approved"), 0), counts.get((task.id, "rejected"), 0),
                                max(0, mine), remaining_total))
    return states


def tasks_for(user_id: int, *, limit: int = 20, cursor: str | None = None) -> Page:
    """Published tasks before their deadline that this active ambassador is eligible for, newest first.

    Open tasks are few (they end at their deadline), so the audience is matched in Python over
    batches read by id; the cursor is the last task id returned.
    """
    ambassador, level = access.require_ambassador(user_id)
    estate_ids = set(levels.estate_ids_of(user_id))
    now = utcnow()
    after = decode_cursor(cursor, 1, [int])[0] if cursor else None
    found: list[Task] = []
    batch = max(limit * 2, 50)
    while len(found) <= limit:
        stmt = sa.select(Task).where(Task.status == "published", Task.deadline > now)
        if after is not None:
            stmt = stmt.where(Task.id < after)
        rows = db.session.scalars(stmt.order_by(Task.id.desc()).limit(batch)).all()
        found += [t for t in rows if in_audience(t, ambassador, level, estate_ids)]
        if len(rows) < batch:
            break
        after = rows[-1].id
    more = len(found) > limit
    found = found[:limit]
    return Page(_states(user_id, found), encode_cursor([found[-1].id]) if more else None)


def _eligible_task(task_id: int, user_id: int) -> tuple[Task, Ambassador, Level]:
    """The task if this active ambassador may take it now (403 / 404 / 409 saying why not)."""
    ambassador, level = access.require_ambassador(user_id)
    task = db.session.get(Task, task_id)
    if task is None or task.status == "draft":
        raise NotFound("任务不存在", code="task_not_found")
    if task.kind == "recruit":
        access.require_permission(user_id, "recruit")
    if not in_audience(task, ambassador, level, levels.estate_ids_of(user_id)):
        raise Forbidden("该任务不面向您所在的等级、小区或城市", code="task_not_in_audience")
    return task, ambassador, level


def task_for(task_id: int, user_id: int) -> TaskState:
    task, _, _ = _eligible_task(task_id, user_id)
    return _states(user_id, [task])[0]


def _require_open(task: Task) -> None:
    if task.status != "published":
        raise Conflict("任务已结束", code="task_closed")
    if task.deadline <= utcnow():
        raise Conflict("任务已过截止时间", code="task_deadline_passed")


def accept_task(task_id: int, user_id: int) -> TaskState:
    """Take a task (idempotent: taking it again changes nothing)."""
    task, _, _ = _eligible_task(task_id, user_id)
    _require_open(task)
    insert_or_nothing(TaskAcceptance, {"task_id": task.id, "user_id": user_id, "approved_count": 0,
                                       "accepted_at": utcnow()}, conflict=["task_id", "user_id"])
    return _states(user_id, [task])[0]


def _check_proof(task: Task, text, link, photos, user_id: int | None = None) -> dict:
    errors: dict[str, list[str]] = {}
    text = (text or "").strip() or None
    link = (link or "").strip() or None
    photos = list(photos or [])
    if text is not None and len(text) > 2000:
        errors["text"] = ["最多 2000 个字"]
    if link is not None and (len(link) > 500 or not HTTP_URL.match(link)):
        errors["link"] = ["应为 http(s) 网址（最多 500 个字符）"]
    if photos:
        if len(photos) > MAX_PHOTOS:
            errors["photos"] = [f"1 到 {MAX_PHOTOS} 张照片"]
        elif not all(isinstance(p, str) and (UPLOAD_ID.match(p) or (len(p) <= 500 and HTTP_URL.match(p)))
                     for p in photos):
            errors["photos"] = ["每张照片应为上传编号、其 /api/v1/uploads/ 路径或 http(s) 网址"]
        elif user_id is not None and (bad := uploads.not_owned(
                user_id, [p.rsplit("/", 1)[-1] for p in photos if UPLOAD_ID.match(p)])):
            errors["photos"] = [f"不是您上传的图片：{'、'.join(bad)}"]
    present = {"text": text is not None, "link": link is not None, "photos": bool(photos)}
    for kind in task.proof_required or []:
        if not present[kind] and kind not in errors:
            errors[kind] = ["此任务要求提供"]
    if errors:
        raise ValidationFailed("提交的证明材料不完整或有误", details={"fields": errors})
    return {"text": text, "link": link, "photos": photos}


def submit(task_id: int, user_id: int, *, text: str | None = None, link: str | None = None,
           photos: list | None = None) -> TaskSubmission:
    """Submit proof of having done a task. Submitting takes the task when it was not taken yet."""
    task, _, _ = _eligible_task(task_id, user_id)
    _require_open(task)
    proof = _check_proof(task, text, link, photos, user_id)
    insert_or_nothing(TaskAcceptance, {"task_id": task.id, "user_id": user_id, "approved_count": 0,
                                       "accepted_at": utcnow()}, conflict=["task_id", "user_id"])
    # The acceptance row is this person's lock on this task: their submissions go one at a time,
    # so "no second pending submission" and the per-person count cannot be raced.
    acceptance = db.session.scalars(sa.select(TaskAcceptance).where(
        TaskAcceptance.task_id == task.id, TaskAcceptance.user_id == user_id).with_for_update()
        .execution_options(populate_existing=True)).one()
    if db.session.scalar(sa.select(TaskSubmission.id).where(
            TaskSubmission.task_id == task.id, TaskSubmission.user_id == user_id,
            TaskSubmission.status == "pending").limit(1)) is not None:
        raise Conflict("您已有一份待审核的提交，请等待审核结果", code="submission_pending")
    if acceptance.approved_count >= task.per_person_limit:
        raise Conflict(f"该任务每人最多完成 {task.per_person_limit} 次", code="per_person_limit_reached",
                       details={"limit": task.per_person_limit})
    db.session.refresh(task)
    if task.total_limit is not None and task.approved_count >= task.total_limit:
        raise Conflict("该任务的完成名额已满", code="task_limit_reached", details={"limit": task.total_limit})
    submission = TaskSubmission(task_id=task.id, user_id=user_id, status="pending", **proof)
    db.session.add(submission)
    db.session.flush()
    return submission


def submissions_of(user_id: int, *, task_id: int | None = None, limit: int = 20, cursor: str | None = None) -> Page:
    """A user's own submissions, newest first (of one task: the index user, task, id)."""
    stmt = sa.select(TaskSubmission).where(TaskSubmission.user_id == user_id)
    if task_id:
        stmt = stmt.where(TaskSubmission.task_id == task_id)
    return paginate(stmt, [TaskSubmission.id], limit=limit, cursor=cursor)


def task_titles(task_ids) -> dict[int, str]:
    wanted = {i for i in task_ids if i is not None}
    if not wanted:
        return {}
    return dict(db.session.execute(sa.select(Task.id, Task.title).where(Task.id.in_(wanted))).all())


# -- review (admins; audited) -----------------------------------------------------------------

def titled(submissions: list[TaskSubmission]) -> list[TaskSubmission]:
    """Submissions with their task's title as `task_title` (one query per page)."""
    titles = task_titles(s.task_id for s in submissions)
    for submission in submissions:
        submission.task_title = titles.get(submission.task_id)
    return submissions


def get_submission(submission_id: int) -> TaskSubmission:
    submission = db.session.get(TaskSubmission, submission_id)
    if submission is None:
        raise NotFound("提交记录不存在", code="submission_not_found")
    return submission


def list_submissions(*, status: str | None = None, task_id: int | None = None, limit: int = 20,
                     cursor: str | None = None) -> Page:
    """Submissions for review: pending ones oldest first (a queue), other statuses newest first."""
    stmt = sa.select(TaskSubmission)
    if status:
        stmt = stmt.where(TaskSubmission.status == status)
    if task_id:
        stmt = stmt.where(TaskSubmission.task_id == task_id)
    return paginate(stmt, [TaskSubmission.id], limit=limit, cursor=cursor, descending=status != "pending")


def _decide(submission: TaskSubmission, to: str, actor: User, *, reason: str | None = None,
            amount: int | None = None) -> None:
    """pending → approved/rejected exactly once: a conditional update, so of two admins deciding at
    once one wins and the other gets 409 `already_decided` (after waiting for the first's commit)."""
    values = {"status": to, "reviewed_by_id": actor.id, "reviewed_at": utcnow(), "reason": reason, "points": amount}
    if not db.session.execute(sa.update(TaskSubmission).where(
            TaskSubmission.id == submission.id, TaskSubmission.status == "pending").values(**values)
            .execution_options(synchronize_session=False)).rowcount:
        db.session.refresh(submission)
        raise Conflict(f"该提交已{SUBMISSION_LABELS.get(submission.status, submission.status)}，不能重复审核",
                       code="already_decided", details={"status": submission.status})


def points_for(task: Task, level: Level) -> int:
    """The task's reward with the level's multiplier, rounded down."""
    return task.points * level.multiplier_pct // 100


def _lock_tasks(task_ids) -> None:
    """Lock task rows in id order. An approval takes its task's row before anything else, so
    approvals of one task queue there instead of deadlocking on the rows they touch after it."""
    ids = sorted({i for i in task_ids if i is not None})
    if ids:
        db.session.execute(sa.select(Task.id).where(Task.id.in_(ids)).order_by(Task.id).with_for_update())


def _approve(submission_id: int, actor: User) -> tuple[TaskSubmission, dict]:
    submission = get_submission(submission_id)
    _lock_tasks([submission.task_id])
    task = get_task(submission.task_id)
    found = db.session.execute(sa.select(Ambassador, Level).join(Level, Level.id == Ambassador.level_id)
                               .where(Ambassador.user_id == submission.user_id)).first()
    if found is None or found[0].status != "active":
        raise Conflict("提交人当前不是在任的服务代言人，不能发放积分，请驳回", code="ambassador_not_active",
                       details={"status": found[0].status if found else None})
    amount = points_for(task, found[1])
    _decide(submission, "approved", actor, amount=amount)
    if not db.session.execute(sa.update(Task).where(
            Task.id == task.id, sa.or_(Task.total_limit.is_(None), Task.approved_count < Task.total_limit))
            .values(approved_count=Task.approved_count + 1).execution_options(synchronize_session=False)).rowcount:
        raise Conflict("该任务的完成名额已满，未发放积分", code="task_limit_reached",
                       details={"limit": "total", "total_limit": task.total_limit})
    per_person = sa.select(Task.per_person_limit).where(Task.id == task.id).scalar_subquery()
    if not db.session.execute(sa.update(TaskAcceptance).where(
            TaskAcceptance.task_id == task.id, TaskAcceptance.user_id == submission.user_id,
            TaskAcceptance.approved_count < per_person)
            .values(approved_count=TaskAcceptance.approved_count + 1)
            .execution_options(synchronize_session=False)).rowcount:
        raise Conflict("该代言人已达到此任务的每人完成次数上限，未发放积分", code="task_limit_reached",
                       details={"limit": "per_person", "per_person_limit": task.per_person_limit})
    if amount > 0:
        points.grant(submission.user_id, amount, rules.TASK, f"task:{submission.id}", f"完成任务「{task.title}」",
                     actor_id=actor.id)
        levels.credit(submission.user_id, amount)
    db.session.refresh(submission)
    db.session.refresh(task)
    return submission, dict(action="ambassador.submission.approve", obj_id=submission.id,
                            before={"status": "pending"},
                            after={"status": "approved", "points": amount, "task_id": task.id})


def _reject(submission_id: int, actor: User, reason: str) -> tuple[TaskSubmission, dict]:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("驳回必须填写原因", details={"fields": {"reason": ["必填"]}})
    if len(reason) > 255:
        raise ValidationFailed("驳回原因过长", details={"fields": {"reason": ["最多 255 个字"]}})
    submission = get_submission(submission_id)
    _decide(submission, "rejected", actor, reason=reason)
    db.session.refresh(submission)
    return submission, dict(action="ambassador.submission.reject", obj_id=submission.id,
                            before={"status": "pending"}, after={"status": "rejected", "reason": reason})


def _audit(actor: User, entry: dict) -> None:
    audit.record(actor, entry["action"], "ambassador_task_submission", entry["obj_id"], before=entry["before"],
                 after=entry["after"])


def approve(submission_id: int, actor: User) -> TaskSubmission:
    """Approve a pending submission and pay it: the grant's key `task:<id>` and the conditional
    updates make it exactly once; a reached limit refuses (409 `task_limit_reached`), paying nothing."""
    submission, entry = _approve(submission_id, actor)
    _audit(actor, entry)
    return submission


def reject(submission_id: int, actor: User, reason: str) -> TaskSubmission:
    """Reject with a reason the ambassador sees; they may submit again before the deadline."""
    submission, entry = _reject(submission_id, actor, reason)
    _audit(actor, entry)
    return submission


def decide_many(ids: list[int], action: str, actor: User, reason: str | None = None) -> dict[int, str]:
    """Approve or reject several submissions, each on its own (one refusal does not undo the
    others). Returns id → "ok" or the refusal's code, in the order given.

    One transaction takes many row locks, so it takes them in a global order that any other
    review shares: the tasks' rows first (by id), then submission by submission ordered by
    (submitter, id) — the ledger account, contribution and standing rows are per submitter —
    and the audit rows (a chain every writer appends to) last, when no other lock is wanted.
    """
    rows = {i: (user_id, i) for i, user_id in db.session.execute(
        sa.select(TaskSubmission.id, TaskSubmission.user_id).where(TaskSubmission.id.in_(ids)))} if ids else {}
    if action == "approve":
        _lock_tasks(db.session.scalars(sa.select(TaskSubmission.task_id).where(TaskSubmission.id.in_(ids))))
    outcome: dict[int, str] = {}
    entries = []
    for submission_id in sorted(ids, key=lambda i: rows.get(i, (0, i))):
        try:
            with db.session.begin_nested():
                _, entry = _approve(submission_id, actor) if action == "approve" else _reject(submission_id, actor,
                                                                                              reason)
            entries.append(entry)
            outcome[submission_id] = "ok"
        except (Conflict, NotFound, ValidationFailed) as exc:
            outcome[submission_id] = exc.code
    for entry in entries:
        _audit(actor, entry)
    return {i: outcome[i] for i in ids}


# -- statistics -------------------------------------------------------------------------------

def stats(task_id: int) -> dict:
    """Reach, accepted, submitted (ambassadors and submissions), approved, rejected, pending, points paid."""
    task = get_task(task_id)
    by_status = dict(db.session.execute(sa.select(TaskSubmission.status, sa.func.count()).where(
        TaskSubmission.task_id == task.id).group_by(TaskSubmission.status)).all())
    submitters, paid = db.session.execute(sa.select(
        sa.func.count(sa.distinct(TaskSubmission.user_id)),
        sa.func.coalesce(sa.func.sum(sa.case((TaskSubmission.status == "approved", TaskSubmission.points),
                                             else_=0)), 0)).where(TaskSubmission.task_id == task.id)).one()
    return {
        "task_id": task.id,
        "reach": reach(task),
        "accepted": db.session.scalar(sa.select(sa.func.count()).select_from(TaskAcceptance).where(
            TaskAcceptance.task_id == task.id)),
        "submitters": submitters,
        "submissions": sum(by_status.values()),
        "approved": by_status.get("approved", 0),
        "rejected": by_status.get("rejected", 0),
        "pending": by_status.get("pending", 0),
        "points_paid": int(paid),
    }


def pending_submissions_count() -> int:
    """Task submissions waiting for review (the dashboard): the (status, id) index."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(TaskSubmission)
                             .where(TaskSubmission.status == "pending"))
