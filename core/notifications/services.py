"""Notify users: every notice lands in the in-app inbox; users with subscribe-message quota for the
template also get a WeChat message through the outbox.

Subscribe messages are a quota, not a right: each acceptance in the mini-program's dialog is one
send (`add_subscriptions`), a queued message uses one, and WeChat's 43101 zeroes it. `notify`
writes the inbox rows, reserves quota and writes the outbox rows in the caller's transaction,
so the event and its messages commit together. The sender (`send_due`) then:

1. claims a batch of due rows in a short transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL,
   so several senders never take the same row; SQLite has one sender) and commits the claim;
2. calls WeChat for each row with no database transaction open (the rest of the pass runs in
   autocommit);
3. records each outcome right after its call, durable at once (one statement for a success).

A crash loses nothing: a row claimed but not recorded is claimed again once its lease
(CLAIM_LEASE) runs out. Only the message whose call was in flight at the crash can go out twice
(WeChat's send has no idempotency key); every other message goes out exactly once.

Error policy: 43101 (no quota / refused; zeroes the quota), 40003 (openid), 40037 (template),
47003 (data) are final; 45009 pauses the template until the next Asia/Shanghai day; -1, HTTP
5xx and connection failures (nothing sent) are retried with exponential backoff up to
MAX_ATTEMPTS; token errors are refreshed and retried once by the gateway.

"Maybe delivered" is its own final status, `unknown`, never sent again by anyone (a duplicate
costs the user an acceptance and is what residents complain about; a lost notice still sits in
the inbox): no answer to a request that went out (`gateway.NoAnswer`: a read timeout, a dropped
connection), and 43101 on a message reclaimed after a crash, whose first attempt probably used
the acceptance (that 43101 says nothing about the quota, which is left as it is).
"""
from __future__ import annotations

import logging
import re
import unicodedata
from datetime import datetime, time, timedelta
from typing import Iterable

import sqlalchemy as sa
from flask import current_app

from core import audit
from core.accounts.models import WeChatIdentity
from core.db import upsert_add, utcnow
from core.errors import APIError, Conflict, NotFound, ValidationFailed
from core.extensions import db
from core.formatting import BUSINESS_TZ
from core.notifications.models import OUTBOX_STATUSES, Notification, OutboxMessage, SubscriptionQuota, TemplatePause
from core.pagination import Page, paginate
from core.wechat import gateway

log = logging.getLogger(__name__)

PURPOSES = {"visit": "WECHAT_TEMPLATE_VISIT", "activity": "WECHAT_TEMPLATE_ACTIVITY", "order": "WECHAT_TEMPLATE_ORDER",
            "redemption": "WECHAT_TEMPLATE_REDEMPTION", "maintenance": "WECHAT_TEMPLATE_MAINTENANCE",
            "offer": "WECHAT_TEMPLATE_OFFER", "steward": "WECHAT_TEMPLATE_STEWARD"}
FINAL_ERRORS = {43101, 40003, 40037, 47003}
MAX_ATTEMPTS = 5
BACKOFF = timedelta(seconds=30)  # 30 s, 1 min, 2 min, 4 min between attempts
CLAIM_LEASE = timedelta(minutes=5)
CHUNK = 1000  # ids per IN list (SQLite binds at most 32,766 parameters)


def template_id(purpose: str) -> str:
    return current_app.config[PURPOSES[purpose]]


def templates() -> dict[str, str]:
    """The subscribe-message template of every purpose: what the mini-program asks the user to accept."""
    return {purpose: template_id(purpose) for purpose in PURPOSES}


def known_templates() -> set[str]:
    return {current_app.config[key] for key in PURPOSES.values()}


# -- template values within WeChat's limits -----------------------------------------------------

def _clean(value: str) -> str:
    return "".join(" " if unicodedata.category(c)[0] == "C" else c for c in str(value)).strip()


def fit(keyword: str, value: str) -> str:
    """A value that fits the keyword's type (`thing` ≤ 20 characters, ...), cut safely."""
    value = _clean(value)
    kind = re.fullmatch(r"([a-z_]+?)\d*", keyword)
    kind = kind.group(1) if kind else keyword
    limit = {"thing": 20, "character_string": 32, "number": 32, "letter": 32, "phone_number": 17,
             "car_number": 8, "name": 10, "phrase": 5, "symbol": 5}.get(kind)
    if kind == "character_string":
        value = re.sub(r"[^0-9A-Za-z!-/:-@\[-`{-~]", "", value)
    if kind == "phrase":
        value = "".join(c for c in value if "\u4e00" <= c <= "\u9fff")
    if limit and len(value) > limit:
        value = value[:limit - 1] + "…" if kind == "thing" else value[:limit]
    return value or "—"


# -- subscriptions ----------------------------------------------------------------------------

def add_subscriptions(user_id: int, template_ids: Iterable[str]) -> dict[str, int]:
    """The user accepted these templates once each in the subscribe dialog: one send per acceptance."""
    template_ids = list(template_ids)
    unknown = sorted(set(template_ids) - known_templates())
    if unknown:
        raise ValidationFailed("未知的订阅消息模板", details={"fields": {"template_ids": [f"未知的模板：{'、'.join(unknown)}"]}})
    for tid in template_ids:
        upsert_add(SubscriptionQuota.__table__, {"user_id": user_id, "template_id": tid}, {"remaining": 1},
                   updated_at=utcnow())
    return quotas(user_id)


def quotas(user_id: int) -> dict[str, int]:
    return dict(db.session.execute(sa.select(SubscriptionQuota.template_id, SubscriptionQuota.remaining)
                                   .where(SubscriptionQuota.user_id == user_id)).all())


# What a resident sees on the notice settings page, in this order: the purposes some notice is
# sent for, with a name and what it is for.
PURPOSE_LABELS = {
    "visit": ("上门服务安排", "管家在您的小区发布上门服务日期时通知您"),
    "order": ("服务单进度", "服务单派单、预约上门时间、完成或取消时通知您"),
    "redemption": ("积分兑换结果", "兑换审核结果、奖品发放或积分退回时通知您"),
    "maintenance": ("保养提醒", "家中产品该换滤芯、清洗或检测时提醒您，可一键预约管家上门"),
    "offer": ("小区优惠与活动", "您所在的小区有新的优惠券、社区活动或伙伴服务时通知您（可在小区优惠中按类别关闭）"),
    "activity": ("活动报名提醒", "报名的活动开始前一天提醒您；候补转正、活动变更或取消时通知您"),
    "steward": ("管家变更", "您的管家将要变更（可在 24 小时内拒绝）或更换申请有结果时通知您"),
}


def subscription_purposes(user_id: int) -> list[dict]:
    """Each offered purpose with its name, description, template and the messages we may still
    send the user for it."""
    have = quotas(user_id)
    return [{"purpose": purpose, "name": name, "description": description, "template_id": template_id(purpose),
             "remaining": have.get(template_id(purpose), 0)}
            for purpose, (name, description) in PURPOSE_LABELS.items()]


# -- notify -----------------------------------------------------------------------------------

def _chunks(items: list, size: int = CHUNK):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def notify(user_ids: Iterable[int], *, kind: str, title: str, body: str, purpose: str | None = None,
           data: dict[str, str] | None = None, page: str | None = None, inbox_when_sent: bool = True) -> dict:
    """Inbox notice for every user; a subscribe message (template of `purpose`, keyword `data`) for
    those with quota. With `inbox_when_sent=False` a user who gets the subscribe message gets no
    inbox notice (one channel only: due-care reminders). Runs in the caller's transaction.
    Returns counts."""
    user_ids = sorted(set(user_ids))
    queued: dict[int, str] = {}
    if purpose is not None and user_ids:
        tid = template_id(purpose)
        q = SubscriptionQuota.__table__.c
        reserved: list[int] = []
        for chunk in _chunks(user_ids):
            reserved += db.session.execute(
                sa.update(SubscriptionQuota.__table__)
                .where(q.template_id == tid, q.remaining > 0, q.user_id.in_(chunk))
                .values(remaining=q.remaining - 1).returning(q.user_id)).scalars().all()
        for chunk in _chunks(reserved):
            queued.update(db.session.execute(sa.select(WeChatIdentity.user_id, WeChatIdentity.openid).where(
                WeChatIdentity.user_id.in_(chunk),
                WeChatIdentity.appid == current_app.config["WECHAT_APPID"])).all())
        no_openid = [u for u in reserved if u not in queued]
        for chunk in _chunks(no_openid):  # nobody to send to: the quota stays theirs
            db.session.execute(sa.update(SubscriptionQuota.__table__)
                               .where(q.template_id == tid, q.user_id.in_(chunk)).values(remaining=q.remaining + 1))
    now = utcnow()
    rows = [{"user_id": u, "kind": kind, "title": title[:64], "body": body[:500], "page": page,
             "wechat": u in queued, "created_at": now} for u in user_ids if inbox_when_sent or u not in queued]
    ids: dict[int, int] = {}
    for chunk in _chunks(rows):
        ids.update({user_id: nid for nid, user_id in db.session.execute(
            sa.insert(Notification.__table__).returning(Notification.__table__.c.id,
                                                        Notification.__table__.c.user_id), chunk)})
    if queued:
        fitted = {key: fit(key, value) for key, value in (data or {}).items()}
        messages = [{"notification_id": ids.get(u), "user_id": u, "openid": openid, "template_id": template_id(purpose),
                     "page": page, "data": fitted, "status": "pending", "attempts": 0, "next_attempt_at": now,
                     "created_at": now} for u, openid in queued.items()]
        for chunk in _chunks(messages):
            db.session.execute(sa.insert(OutboxMessage.__table__), chunk)
    return {"notified": len(user_ids), "wechat": len(queued)}


# -- the inbox --------------------------------------------------------------------------------

def inbox(user_id: int, *, unread: bool = False, limit: int = 20, cursor: str | None = None) -> Page:
    stmt = sa.select(Notification).where(Notification.user_id == user_id)
    if unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    return paginate(stmt, [Notification.id], limit=limit, cursor=cursor)


def unread_count(user_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)))


def mark_read(user_id: int, ids: list[int] | None = None) -> int:
    """Mark some (or, without ids, all) of the user's notices read; returns how many changed."""
    stmt = sa.update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(ids))
    return db.session.execute(stmt.values(read_at=utcnow()).execution_options(synchronize_session=False)).rowcount


# -- the sender -------------------------------------------------------------------------------

def next_business_day(now: datetime) -> datetime:
    tomorrow = now.astimezone(BUSINESS_TZ).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0, 0), tzinfo=BUSINESS_TZ)


def claim(limit: int, now: datetime) -> list[dict]:
    """Take up to `limit` due messages (and ones a crashed sender left past their lease: `reclaimed`);
    the caller commits the claim before sending."""
    o = OutboxMessage
    paused = sa.select(TemplatePause.template_id).where(TemplatePause.until > now)
    stmt = (sa.select(o).where(sa.or_(sa.and_(o.status == "pending", o.next_attempt_at <= now),
                                      sa.and_(o.status == "sending", o.claimed_at < now - CLAIM_LEASE)),
                               o.template_id.not_in(paused))
            .order_by(o.id).limit(limit))
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    claimed = []
    for message in db.session.scalars(stmt).all():
        claimed.append({"id": message.id, "openid": message.openid, "template_id": message.template_id,
                        "data": message.data, "page": message.page, "reclaimed": message.status == "sending"})
        message.status, message.claimed_at = "sending", now
    db.session.flush()
    return claimed


def deliver(message: dict) -> tuple[str, object]:
    """Call WeChat for one claimed message (no transaction open): ("sent", msgid), ("error", errcode),
    or ("unknown", why) when WeChat may have delivered it."""
    try:
        return "sent", gateway.send_subscribe_message(message["openid"], message["template_id"], message["data"],
                                                      message["page"])
    except gateway.NoAnswer:
        return "unknown", "no answer from WeChat (timeout)"
    except APIError as exc:
        errcode = exc.details.get("errcode")
        if errcode == 43101 and message["reclaimed"]:
            return "unknown", "errcode 43101 after a reclaim"
        return "error", errcode


_o = OutboxMessage.__table__.c
# The common outcome is one statement, built once: the sender runs it in autocommit, so it is
# one round trip and durable at once.
_MARK_SENT = sa.update(OutboxMessage.__table__).where(_o.id == sa.bindparam("message_id")).values(
    status="sent", msgid=sa.bindparam("msgid"), sent_at=sa.bindparam("sent_at"), last_error=None)


def record(message_id: int, outcome: str, value, now: datetime) -> str:
    """Store one outcome right after its call (the sender runs in autocommit: each statement is
    durable at once); returns the new status."""
    if outcome == "sent":
        db.session.execute(_MARK_SENT, {"message_id": message_id, "msgid": value, "sent_at": now})
        return "sent"
    if outcome == "unknown":  # maybe delivered: final, never sent again; the quota stays as it is
        log.warning("outbox message %s may have been delivered: %s", message_id, value)
        db.session.execute(sa.update(OutboxMessage.__table__).where(_o.id == message_id).values(
            status="unknown", attempts=_o.attempts + 1, last_error=value))
        return "unknown"
    message = db.session.get(OutboxMessage, message_id)
    errcode = value
    message.last_error = f"errcode {errcode}"
    if errcode in FINAL_ERRORS:
        message.status = "failed"
        if errcode == 43101:  # the user has no quota left (or refused): ours was wrong, zero it
            db.session.execute(sa.update(SubscriptionQuota).where(
                SubscriptionQuota.user_id == message.user_id, SubscriptionQuota.template_id == message.template_id)
                .values(remaining=0).execution_options(synchronize_session=False))
        return "failed"
    if errcode in (45009, 45011):
        until = next_business_day(now)
        pause = db.session.get(TemplatePause, message.template_id)
        if pause is None:
            db.session.add(TemplatePause(template_id=message.template_id, until=until))
        else:
            pause.until = until
        message.status, message.next_attempt_at = "pending", until
        return "paused"
    message.attempts += 1
    if message.attempts >= MAX_ATTEMPTS:
        message.status = "failed"
        return "failed"
    message.status = "pending"
    message.next_attempt_at = now + BACKOFF * 2 ** (message.attempts - 1)
    return "retry"


def send_due(limit: int | None = None, now: datetime | None = None) -> dict[str, int]:
    """One sender pass over a batch: claim, commit, send each, record each. Returns counts."""
    now = now or utcnow()
    limit = limit or current_app.config["NOTIFY_BATCH_SIZE"]
    claimed = claim(limit, now)
    db.session.commit()  # the claim is durable before any WeChat call
    counts = {"claimed": len(claimed), "sent": 0, "failed": 0, "retry": 0, "paused": 0, "unknown": 0}
    if not claimed:
        return counts
    # From here on every statement commits by itself: no transaction is open while WeChat is
    # called, and each outcome is durable as soon as it is written.
    db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    paused: set[str] = set()
    try:
        for message in claimed:
            if message["template_id"] in paused:  # 45009 on an earlier message of this batch
                db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == message["id"])
                                   .values(status="pending", next_attempt_at=next_business_day(now)))
                counts["paused"] += 1
                continue
            outcome, value = deliver(message)
            status = record(message["id"], outcome, value, now)
            db.session.flush()
            counts[status] += 1
            if status == "paused":
                paused.add(message["template_id"])
    finally:
        db.session.commit()  # hands the connection back (its isolation level is reset)
    return counts


def outbox_counts() -> dict[str, int]:
    return dict(db.session.execute(sa.select(OutboxMessage.status, sa.func.count())
                                   .group_by(OutboxMessage.status)).all())


def get_notification(user_id: int, notification_id: int) -> Notification:
    item = db.session.get(Notification, notification_id)
    if item is None or item.user_id != user_id:
        raise NotFound("通知不存在", code="notification_not_found")
    return item


# -- the console: the outbox by status, failures, quota per template, resend ----------------------

# WeChat's answers to a subscribe-message send, as staff read them (the error policy above).
ERROR_MEANINGS = {
    43101: "用户拒收或订阅次数已用完（已将该用户此模板的次数清零）",
    40003: "openid 无效：用户不属于本小程序，或账号已注销",
    40037: "模板 ID 无效：模板已删除或不属于本小程序",
    47003: "模板参数不正确：内容超长或格式不符合关键词类型",
    45009: "超过接口每日调用上限：模板已暂停发送至次日",
    45011: "调用过于频繁：模板已暂停发送至次日",
    -1: "微信系统繁忙（已按退避重试）",
    41030: "跳转页面路径不正确",
    40001: "access_token 无效（已刷新后重试）",
    42001: "access_token 已过期（已刷新后重试）",
}
STATUS_LABELS = {"pending": "待发送", "sending": "发送中", "sent": "已发送", "failed": "失败", "unknown": "结果未知"}
COUNT_CAP = 100_000  # a status's count stops here ("100,000+"): each is an index range, never a scan of all
RESENDABLE = ("failed", "unknown")
_ERRCODE = re.compile(r"errcode (-?\d+)")


def error_code(last_error: str | None) -> int | None:
    """WeChat's errcode in a message's last error ("errcode 43101"), else None."""
    match = _ERRCODE.search(last_error or "")
    return int(match.group(1)) if match else None


def error_meaning(last_error: str | None) -> str:
    code = error_code(last_error)
    if code is not None:
        return ERROR_MEANINGS.get(code, "微信返回的其他错误")
    if last_error and ("no answer" in last_error or "after a reclaim" in last_error):
        return "微信未应答或发送中断：可能已送达，系统不会自动重发"
    return ""


def status_counts(cap: int = COUNT_CAP) -> dict[str, tuple[int, bool]]:
    """{status: (count, capped)} from the (status, id) index: each count reads at most `cap` + 1
    index entries, so a table of millions of sent messages costs the same as a small one."""
    counts = {}
    for status in OUTBOX_STATUSES:
        found = db.session.scalar(sa.select(sa.func.count()).select_from(
            sa.select(OutboxMessage.id).where(OutboxMessage.status == status).limit(cap + 1).subquery()))
        counts[status] = (min(found, cap), found > cap)
    return counts


def outbox_messages(status: str, *, limit: int = 20, cursor: str | None = None) -> Page:
    """The outbox rows of one status, newest first (the (status, id) index)."""
    if status not in OUTBOX_STATUSES:
        raise ValidationFailed("状态无效", details={"fields": {"status": ["须为 pending、sending、sent、failed 或 unknown"]}})
    return paginate(sa.select(OutboxMessage).where(OutboxMessage.status == status), [OutboxMessage.id],
                    limit=limit, cursor=cursor)


def resends_of(message_ids) -> dict[int, int]:
    """{original id: resend id} of these messages (one query)."""
    ids = list(message_ids)
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(OutboxMessage.resent_from_id, OutboxMessage.id)
                                   .where(OutboxMessage.resent_from_id.in_(ids))).all())


def quota_by_template(now: datetime | None = None) -> list[dict]:
    """Per template (the configured ones, and any other that holds quota or is paused): its
    purpose, how many users hold quota, the sends they hold in all, and a pause in force. Reads
    only the holders' rows (a partial index of remaining > 0)."""
    now = now or utcnow()
    q = SubscriptionQuota
    held = {tid: (users, total) for tid, users, total in db.session.execute(
        sa.select(q.template_id, sa.func.count(), sa.func.sum(q.remaining)).where(q.remaining > 0)
        .group_by(q.template_id)).all()}
    paused = dict(db.session.execute(sa.select(TemplatePause.template_id, TemplatePause.until)
                                     .where(TemplatePause.until > now)).all())
    purposes = {template_id(purpose): purpose for purpose in PURPOSES}
    rows = []
    for tid in list(dict.fromkeys([*purposes, *held, *paused])):
        purpose = purposes.get(tid)
        users, total = held.get(tid, (0, 0))
        rows.append({"template_id": tid, "purpose": purpose,
                     "name": PURPOSE_LABELS[purpose][0] if purpose in PURPOSE_LABELS else "（未配置的模板）",
                     "holders": users, "remaining": int(total or 0), "paused_until": paused.get(tid)})
    return rows


def resend(message_id: int, actor, *, confirmed: bool = False) -> tuple[OutboxMessage, bool]:
    """Queue a failed (or maybe delivered) message again for the same user, template, data and page,
    spending one of the user's sends of that template: refused (in Chinese) without quota, without
    a WeChat identity, or for a message of another status; a message whose outcome is `unknown`
    may already have been delivered, so it is resent only when the admin `confirmed` it. At most
    one resend per message (resent_from_id is unique; the original is locked first): asking again
    returns the first resend and queues nothing. Audited. Returns (the resend, created now)."""
    stmt = sa.select(OutboxMessage).where(OutboxMessage.id == message_id)
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    original = db.session.scalars(stmt).first()
    if original is None:
        raise NotFound("消息不存在", code="message_not_found")
    earlier = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.resent_from_id == original.id)).first()
    if earlier is not None:
        return earlier, False
    if original.status not in RESENDABLE:
        raise Conflict(f"只能重发发送失败或结果未知的消息（该消息{STATUS_LABELS.get(original.status, original.status)}）",
                       code="message_not_resendable")
    if original.status == "unknown" and not confirmed:
        raise Conflict("该消息可能已经送达，重发可能让用户收到两条；请确认后再重发", code="resend_needs_confirmation")
    openid = db.session.scalar(sa.select(WeChatIdentity.openid).where(
        WeChatIdentity.user_id == original.user_id, WeChatIdentity.appid == current_app.config["WECHAT_APPID"]))
    if openid is None:
        raise Conflict("该用户没有本小程序的微信身份，无法重发", code="no_wechat_identity")
    q = SubscriptionQuota.__table__.c
    spent = db.session.execute(sa.update(SubscriptionQuota.__table__).where(
        q.user_id == original.user_id, q.template_id == original.template_id, q.remaining > 0)
        .values(remaining=q.remaining - 1).returning(q.remaining)).first()
    if spent is None:
        raise Conflict("该用户已没有此模板的订阅次数，需用户在小程序中再次同意订阅后才能重发", code="no_quota")
    now = utcnow()
    message = OutboxMessage(notification_id=original.notification_id, user_id=original.user_id, openid=openid,
                            template_id=original.template_id, page=original.page, data=original.data, status="pending",
                            attempts=0, next_attempt_at=now, created_at=now, resent_from_id=original.id)
    db.session.add(message)
    db.session.flush()
    audit.record(actor, "notification.resend", "outbox_message", original.id,
                 before={"status": original.status, "last_error": original.last_error},
                 after={"resent_as": message.id, "confirmed_maybe_delivered": original.status == "unknown"})
    return message, True
