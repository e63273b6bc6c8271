"""Accounts: WeChat and password login, bearer tokens, users and roles."""
from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from core import audit, crypto, signals
from core.accounts.models import ROLES, STAFF_ROLES, ApiToken, User, WeChatIdentity
from core.db import insert_or_nothing, starts_with, utcnow
from core.errors import Conflict, Forbidden, NotFound, Unauthorized, UpstreamError, ValidationFailed, invalid
from core.extensions import db
from core.formatting import BUSINESS_TZ
from core.pagination import Page, paginate
from core.uploads import services as uploads
from core.wechat import gateway

log = logging.getLogger(__name__)

TOKEN_PREFIX = "lnl_"
SESSION_KEY_PURPOSE = "wechat-session-key"
MIN_PASSWORD_LENGTH = 8
# A hash to compare against when the username is unknown, so timing does not reveal which usernames exist.
_DUMMY_HASH = generate_password_hash("linli-dummy-password")


# -- WeChat login -----------------------------------------------------------------------------

def login_with_wechat(code: str) -> User:
    """Exchange a wx.login code and return the user for that openid, creating a resident if new.

    The openid comes only from WeChat's answer, never from the client. The session_key is
    sealed and stored on the identity; it never leaves the server.
    """
    info = gateway.code_to_session(code)
    identity = wechat_identity(info["openid"], info.get("unionid"),
                               session_key_sealed=crypto.seal(info["session_key"], SESSION_KEY_PURPOSE))
    if identity.user.status != "active":
        raise Forbidden("该账号已被停用", code="account_disabled")
    signals.user_active.send(user_id=identity.user.id)
    return identity.user


def wechat_identity(openid: str, unionid: str | None = None, *,
                    session_key_sealed: str | None = None) -> WeChatIdentity:
    """The identity of an openid in our app, created with its user (a resident) when new;
    a login (`session_key_sealed` given) records its session key and time."""
    appid = current_app.config["WECHAT_APPID"]
    identity = _identity(appid, openid)
    if identity is None:
        return _create_identity(appid, openid, unionid, session_key_sealed)
    if unionid and not identity.unionid:
        identity.unionid = unionid
    if session_key_sealed:
        identity.session_key_sealed, identity.last_login_at = session_key_sealed, utcnow()
    db.session.flush()
    return identity


def _identity(appid: str, openid: str) -> WeChatIdentity | None:
    return db.session.scalars(sa.select(WeChatIdentity).where(
        WeChatIdentity.appid == appid, WeChatIdentity.openid == openid)).first()


def _create_identity(appid: str, openid: str, unionid: str | None, session_key_sealed: str | None) -> WeChatIdentity:
    """First login of this openid; the same person in another of our apps (same unionid) keeps one user.

    Two statements for a new resident, without a savepoint (whose SAVEPOINT and RELEASE were two
    more round trips of every first login, the binding flow's included): the user's INSERT, then
    the identity's INSERT … ON CONFLICT DO NOTHING. A concurrent first login of the same openid
    (a double tap) that won the race makes ours insert nothing: our own just-created user is
    deleted again, and the winner's identity is used."""
    user = None
    if unionid:
        user = db.session.scalars(sa.select(User).join(WeChatIdentity).where(
            WeChatIdentity.unionid == unionid).limit(1)).first()
    created = user is None
    if created:
        user = User(roles=frozenset({"resident"}))
        db.session.add(user)
        db.session.flush()
    identity = insert_or_nothing(WeChatIdentity, dict(
        user_id=user.id, appid=appid, openid=openid, unionid=unionid, session_key_sealed=session_key_sealed),
        conflict=["appid", "openid"])
    if identity is not None:
        sa.orm.attributes.set_committed_value(identity, "user", user)  # known: no reload
        return identity
    if created:  # nothing refers to it yet
        db.session.expunge(user)
        db.session.execute(_DELETE_USER, {"user_id": user.id})
    identity = _identity(appid, openid)
    if identity is None:  # pragma: no cover - the conflicting row is committed once DO NOTHING returns
        raise Conflict("请求重复，请稍后重试", code="duplicate_request")
    if session_key_sealed:
        identity.session_key_sealed, identity.last_login_at = session_key_sealed, utcnow()
    return identity


_DELETE_USER = sa.delete(User.__table__).where(User.__table__.c.id == sa.bindparam("user_id"))


def openid_of(user_id: int) -> str | None:
    """The user's openid in our app (WeChat calls about the user need it), or None."""
    return db.session.scalar(sa.select(WeChatIdentity.openid).where(
        WeChatIdentity.user_id == user_id, WeChatIdentity.appid == current_app.config["WECHAT_APPID"]))


def session_key_of(user: User) -> str | None:
    """The latest session_key of a user's identity in our app (for decrypting encryptedData)."""
    identity = db.session.scalars(sa.select(WeChatIdentity).where(
        WeChatIdentity.user_id == user.id, WeChatIdentity.appid == current_app.config["WECHAT_APPID"])).first()
    if identity is None or identity.session_key_sealed is None:
        return None
    return crypto.unseal(identity.session_key_sealed, SESSION_KEY_PURPOSE)


# -- the caller's own profile ----------------------------------------------------------------

NICKNAME_MAX = 20
MAINLAND = "86"


def _clean_nickname(value) -> str:
    name = (value or "").strip()
    if not 1 <= len(name) <= NICKNAME_MAX:
        raise invalid("display_name", f"昵称须为 1–{NICKNAME_MAX} 个字符")
    if any(unicodedata.category(c) == "Cc" for c in name):
        raise invalid("display_name", "昵称不能包含换行或控制字符")
    return name


def _require_own_upload(user_id: int, name: str, field: str) -> None:
    if uploads.not_owned(user_id, [name]):
        raise invalid(field, "图片不存在或不是您上传的，请先上传")


def update_profile(user: User, data: dict) -> User:
    """The caller sets their nickname and avatar (only the keys present in `data` change).

    The nickname goes through WeChat's text security as a profile (scene 1). Policy: a `risky`
    verdict refuses it (409 content_risky). Anything else keeps it: `review` (there is no
    moderation queue for names, and a nickname is not a publication) and no verdict at all (no
    openid in our app, the user not active in the last two hours, WeChat down): WeChat's
    type="nickname" input has already checked it on the phone. An unchanged nickname is not sent
    again. The avatar must be an image the caller uploaded (null removes it); WeChat checks
    images chosen with chooseAvatar on the phone, so it is not sent for a check here.
    """
    if "avatar" in data and data["avatar"] is not None:
        _require_own_upload(user.id, data["avatar"], "avatar")
    if "display_name" in data:
        name = _clean_nickname(data["display_name"])
        if name != user.display_name:
            verdict = gateway.text_verdict(name, openid_of(user.id), scene=1)
            if verdict == "risky":
                raise Conflict("昵称包含违规信息，请换一个", code="content_risky")
            user.display_name = name
    if "avatar" in data:
        user.avatar = data["avatar"]
    db.session.flush()
    return user


def confirm_phone(user: User, code: str) -> User:
    """The phone number WeChat confirms for a getPhoneNumber button's code becomes the user's.

    WeChat answers for our access token, so its watermark must name our appid: anything else
    is refused (502) and nothing is stored. A mainland number is stored as its 11 digits (as
    typed numbers are); another country's as +<country code><digits>.
    """
    info = gateway.phone_number(code)
    watermark = info.get("watermark")
    appid = watermark.get("appid") if isinstance(watermark, dict) else None
    if appid != current_app.config["WECHAT_APPID"]:
        log.warning("getuserphonenumber: watermark appid %r is not ours; phone refused", appid)
        raise UpstreamError("微信返回的手机号校验失败，请重新获取", code="phone_watermark_mismatch")
    pure, country = str(info["purePhoneNumber"]), str(info.get("countryCode") or MAINLAND)
    phone = pure if country == MAINLAND else f"+{country}{pure}"
    if not pure.isascii() or not pure.isdigit() or len(phone) > 20:
        log.warning("getuserphonenumber: unusable number (country %s, %d characters)", country, len(pure))
        raise UpstreamError("微信返回的手机号无法识别，请重新获取", code="phone_unusable")
    user.phone, user.phone_confirmed_at = phone, utcnow()
    db.session.flush()
    signals.phone_confirmed.send(user_id=user.id, phone=phone)
    return user


# -- bearer tokens ----------------------------------------------------------------------------

def issue_token(user: User, kind: str) -> tuple[str, ApiToken]:
    token = crypto.new_token(TOKEN_PREFIX)
    record = ApiToken(user_id=user.id, token_hash=crypto.token_hash(token), kind=kind,
                      expires_at=utcnow() + timedelta(days=current_app.config["TOKEN_TTL_DAYS"]))
    db.session.add(record)
    db.session.flush()
    return token, record


@dataclass(frozen=True)
class Principal:
    """Who an API request acts as: enough to authorise it without loading the ORM user."""

    id: int
    roles: frozenset

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


@dataclass(frozen=True)
class TokenGrant:
    """What a live token grants as of one lookup, with what a cache of it must respect
    (core.auth.PrincipalCache): the token's own end, and whether the user's activity today was
    already on record before this request (when this request noted it, its commit is not certain
    yet: the day must be looked up again, so that a rolled-back note is written by a later one)."""

    principal: Principal
    expires_at: datetime
    noted_before: bool


# Every API request runs this (core.auth, unless its worker's cache answers a read), so it is a
# Core statement built once (bound parameters per call): an ORM load here cost more than the rest
# of a simple read.
_users, _tokens = User.__table__.c, ApiToken.__table__.c  # table columns: no ORM compile step
_PRINCIPAL_FOR_TOKEN = sa.select(_users.id, _users.roles, _users.last_active_on, _tokens.expires_at).join_from(
    User.__table__, ApiToken.__table__, _tokens.user_id == _users.id).where(
    _tokens.token_hash == sa.bindparam("token_hash"), _tokens.revoked_at.is_(None),
    _tokens.expires_at > sa.bindparam("now", type_=_tokens.expires_at.type), _users.status == "active")


def token_key(token: str) -> str | None:
    """The hash a token is stored (and cached) under; None for text that is no token of ours."""
    return crypto.token_hash(token) if token.startswith(TOKEN_PREFIX) else None


def token_grant(token_hash: str, now: datetime) -> TokenGrant | None:
    """The active user behind a live token (by its hash) at `now`, in one query, noting the day's
    activity; None when unknown, expired or revoked."""
    row = db.session.execute(_PRINCIPAL_FOR_TOKEN, {"token_hash": token_hash, "now": now}).first()
    if row is None:
        return None
    noted = _note_activity(row.id, row.last_active_on, now.astimezone(BUSINESS_TZ).date())
    return TokenGrant(Principal(row.id, row.roles), row.expires_at, noted_before=not noted)


_NOTE_ACTIVITY = sa.update(User.__table__).where(
    _users.id == sa.bindparam("user_id"),
    sa.or_(_users.last_active_on.is_(None), _users.last_active_on < sa.bindparam("today", type_=sa.Date()))
).values(last_active_on=sa.bindparam("today", type_=sa.Date()))


def _note_activity(user_id: int, last_active_on: date | None, today: date) -> bool:
    """The user used the app today (Asia/Shanghai): one conditional UPDATE on their first
    authenticated request of the day, none on the others (customer health reads the date). A
    request that fails rolls it back; the next one writes it. True when this request wrote it."""
    if last_active_on is None or last_active_on < today:
        db.session.execute(_NOTE_ACTIVITY, {"user_id": user_id, "today": today})
        signals.user_active.send(user_id=user_id)
        return True
    return False


def _forget_principals(*, user_id: int | None = None, token_hash: str | None = None) -> None:
    """What a token grants changed: its worker's cached principals go (core.auth.forget_principals)."""
    from core import auth  # core.auth imports this module
    auth.forget_principals(user_id=user_id, token_hash=token_hash)


@sa.event.listens_for(User.status, "set")
@sa.event.listens_for(User.roles, "set")
def _principal_changed(user: User, value, old, initiator) -> None:
    """A token grants its user's roles while the user is active. Whatever changes either (set_roles,
    add_role, remove_role, set_status, a partner's staff removal, ...) drops the user's cached
    principals in this worker, so no such path can forget to."""
    if user.id is not None and value != old:
        _forget_principals(user_id=user.id)


def revoke_token(token: str) -> None:
    token_hash = crypto.token_hash(token)
    db.session.execute(sa.update(ApiToken).where(
        ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None)).values(revoked_at=utcnow()))
    _forget_principals(token_hash=token_hash)


def revoke_all_tokens(user: User, *, keep: str | None = None) -> int:
    """Revoke every live token of the user, except the bearer token `keep` (the caller's own)."""
    stmt = sa.update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if keep:
        stmt = stmt.where(ApiToken.token_hash != crypto.token_hash(keep))
    _forget_principals(user_id=user.id)
    return db.session.execute(stmt.values(revoked_at=utcnow())).rowcount


def end_web_sessions(user: User) -> None:
    """Every web session of the user stops working (the session version they carry is stale):
    on logout, a password change and disabling. One UPDATE, safe against a concurrent bump."""
    db.session.execute(sa.update(User).where(User.id == user.id)
                       .values(session_version=User.session_version + 1)
                       .execution_options(synchronize_session=False))
    db.session.refresh(user, ["session_version"])


# -- passwords and staff ----------------------------------------------------------------------

def authenticate_password(username: str, password: str, *, staff_only: bool = True) -> User:
    user = db.session.scalars(sa.select(User).where(User.username == username)).first()
    ok = check_password_hash(user.password_hash if user and user.password_hash else _DUMMY_HASH, password)
    if not ok or user is None or user.password_hash is None:
        raise Unauthorized("用户名或密码错误", code="invalid_credentials")
    if user.status != "active":
        raise Forbidden("该账号已被停用", code="account_disabled")
    if staff_only and not user.roles & STAFF_ROLES:
        raise Forbidden("该账号没有后台权限", code="not_staff")
    return user


def set_password(user: User, password: str, *, keep_token: str | None = None) -> None:
    """Set a web password. Everything that was logged in as the user before ends: every web
    session and every bearer token except `keep_token` (the caller's own, when they changed it
    themselves). An admin's reset therefore also logs the user out of the mini-program, which
    logs in again by itself through wx.login."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise invalid("password", f"密码至少 {MIN_PASSWORD_LENGTH} 位")
    if password.isdigit():
        raise invalid("password", "密码不能全是数字")
    user.password_hash = generate_password_hash(password)
    db.session.flush()
    if user.id is not None:
        revoke_all_tokens(user, keep=keep_token)
        end_web_sessions(user)


def change_own_password(user: User, password: str, *, current_password: str | None = None,
                        wechat_code: str | None = None, keep_token: str | None = None) -> None:
    """A user changes their own web password. Proof that it is them, beyond the session or token
    the request carries (a stolen mini-program token must not become a web login):
    - with a password already set, the current password;
    - for a first password, a fresh wx.login code whose openid is one of the user's identities
      (a WeChat re-login, which only the phone holding that WeChat account can produce).
    """
    if user.password_hash:
        if not current_password or not check_password_hash(user.password_hash, current_password):
            raise invalid("current_password", "当前密码不正确")
    elif not wechat_code:
        raise invalid("wechat_code", "首次设置密码需要在微信中重新确认身份")
    else:
        openid = gateway.code_to_session(wechat_code)["openid"]
        if openid_of(user.id) != openid:
            raise invalid("wechat_code", "微信身份与当前账号不一致，请在本人微信中操作")
    set_password(user, password, keep_token=keep_token)


def new_password_account(username: str, password: str, roles: set[str], display_name: str = "") -> User:
    """A user who logs in with a username and password. The caller decides which roles it may
    give and audits (create_staff; activation.partners for partner staff)."""
    username = username.strip()
    if not username:
        raise ValidationFailed("用户名不能为空", details={"fields": {"username": ["必填"]}})
    if db.session.scalars(sa.select(User.id).where(User.username == username)).first():
        raise Conflict("用户名已存在", code="username_taken", details={"fields": {"username": ["用户名已存在"]}})
    user = User(username=username, display_name=display_name or username, roles=frozenset(roles))
    db.session.add(user)
    set_password(user, password)
    return user


def create_staff(username: str, password: str, roles: set[str], display_name: str = "",
                 actor: User | None = None) -> User:
    if not roles or not set(roles) <= {"admin", "agent"}:  # engineers and partners have their own flows
        raise ValidationFailed("后台账号的角色须为 admin 或 agent",
                               details={"fields": {"roles": ["须为 admin（管理员）或 agent（客服）"]}})
    user = new_password_account(username, password, roles, display_name)
    audit.record(actor, "user.staff.create", "user", user.id, after={"username": user.username, "roles": sorted(roles)})
    return user


def set_roles(user: User, roles: set[str], actor: User) -> User:
    """An admin changes a user's roles (audited). The engineer role follows the engineer's
    profile (claim, departure) and the partner role a partner's staff (activation.partners), so
    neither can be set here; no admin can remove their own admin role,
    so the platform always keeps the admin who made the change."""
    roles = set(roles)
    unknown = roles - set(ROLES)
    if unknown:
        raise ValidationFailed("角色无效", details={"fields": {"roles": [f"未知的角色：{r}" for r in sorted(unknown)]}})
    if ("engineer" in roles) != ("engineer" in user.roles):
        raise Conflict("工程师角色随工程师档案变化（激活或离职），不能直接修改", code="engineer_role_managed")
    if ("partner" in roles) != ("partner" in user.roles):
        raise Conflict("合作伙伴角色随伙伴的员工账号变化（在伙伴页面添加或移除员工），不能直接修改",
                       code="partner_role_managed")
    if user.id == actor.id and "admin" in user.roles and "admin" not in roles:
        raise Conflict("不能移除自己的管理员角色", code="cannot_remove_own_admin")
    before = sorted(user.roles)
    user.roles = frozenset(roles)
    db.session.flush()
    audit.record(actor, "user.roles.set", "user", user.id, before={"roles": before}, after={"roles": sorted(roles)})
    return user


def set_status(user: User, status: str, actor: User) -> User:
    """Disable (every token revoked at once) or enable an account (audited)."""
    if status not in ("active", "disabled"):
        raise ValidationFailed("状态无效", details={"fields": {"status": ["须为 active（启用）或 disabled（停用）"]}})
    if user.id == actor.id and status == "disabled":
        raise Conflict("不能停用自己的账号", code="cannot_disable_self")
    before = user.status
    user.status = status
    if status == "disabled":
        revoke_all_tokens(user)
        end_web_sessions(user)
    db.session.flush()
    audit.record(actor, "user.status.set", "user", user.id, before={"status": before}, after={"status": status})
    return user


# -- finding people: name prefixes and phone tails, from indexes ------------------------------------

PHONE_TAIL_MIN = 4  # digits: fewer would match a tenth of everyone
PICK_LIMIT = 10  # suggestions per picker search


def phone_digits(q: str) -> str | None:
    """The digits of a typed phone number or phone tail (spaces and dashes dropped), or None."""
    digits = q.replace(" ", "").replace("-", "")
    return digits if digits.isascii() and digits.isdigit() and len(digits) >= PHONE_TAIL_MIN else None


def phone_match(phone: sa.ColumnElement, tail: sa.ColumnElement, q: str) -> sa.ColumnElement | None:
    """The rows whose phone is `q` whole (11+ digits) or ends with it (4–10 digits), answered from
    the index on the phone's last four digits (`phone_tail`, docs/decisions.md); None when `q`
    is no phone number."""
    digits = phone_digits(q)
    if digits is None:
        return None
    if len(digits) >= 11:
        return sa.and_(tail == digits[-4:], phone == digits)
    return sa.and_(tail == digits[-4:], phone.like("%" + digits))


def _user_conditions(q: str, *, by_id: bool) -> list:
    conditions = [User.username == q, starts_with(User.display_name, q)]
    if (phone := phone_match(User.phone, User.phone_tail, q)) is not None:
        conditions.append(phone)
    if by_id and q.isascii() and q.isdigit() and len(q) < 19:
        conditions.append(User.id == int(q))
    return conditions


def search_users(*, q: str | None = None, role: str | None = None, limit: int = 20,
                 cursor: str | None = None) -> Page:
    """Users whose name starts with `q`, whose phone is or ends with it (4+ digits), whose
    username or id it is (or all), optionally with a role; newest first."""
    stmt = sa.select(User)
    q = (q or "").strip()[:64]
    if q:
        stmt = stmt.where(sa.or_(*_user_conditions(q, by_id=True)))
    if role:  # role names are no substrings of one another
        stmt = stmt.where(sa.type_coerce(User.roles, sa.String).like(f"%{role}%"))
    return paginate(stmt, [User.id], limit=limit, cursor=cursor)


def pick_users(q: str, *, role: str | None = None, limit: int = PICK_LIMIT) -> list[User]:
    """A picker's suggestions: at most `limit` users by name prefix, phone (tail) or username, each
    condition its own index range with a limit (no scan, however common the prefix); exact
    matches first."""
    q = (q or "").strip()[:64]
    if not q:
        return []
    found: dict[int, User] = {}
    for condition in _user_conditions(q, by_id=False):
        stmt = sa.select(User).where(condition)
        if role:
            stmt = stmt.where(sa.type_coerce(User.roles, sa.String).like(f"%{role}%"))
        for user in db.session.scalars(stmt.limit(limit)):
            found.setdefault(user.id, user)
    exact = {u.id for u in found.values() if q in (u.display_name, u.username, u.phone)}
    return sorted(found.values(), key=lambda u: (u.id not in exact, u.display_name or "", u.id))[:limit]


def resolve_user(text: str, *, role: str | None = None) -> User:
    """The one user a typed text names (a form without its picker's script): an exact phone or
    username, or the only suggestion; refused in Chinese otherwise."""
    q = (text or "").strip()
    if not q:
        raise invalid("user", "请选择用户")
    found = pick_users(q, role=role)
    exact = [u for u in found if q in (u.username, u.phone) or phone_digits(q) == u.phone]
    if len(exact) == 1 or len(found) == 1:
        return (exact or found)[0]
    if not found:
        raise invalid("user", f"没有找到“{q}”，请输入姓名、手机号（或后 4 位）或用户名")
    raise invalid("user", f"“{q}”匹配到多位用户，请从列表中选择或输入完整手机号")


def add_role(user: User, role: str) -> None:
    user.roles = user.roles | {role}


def remove_role(user: User, role: str) -> None:
    user.roles = user.roles - {role}


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("用户不存在")
    return user


def web_user(session_id: str) -> User | None:
    """Flask-Login loader: "<id>:<session version>" → the active user while that version stands
    (end_web_sessions bumps it)."""
    user_id, _, _version = session_id.partition(":")
    if not user_id.isdigit() or len(user_id) > 18:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.get_id() != session_id or not user.is_active:
        return None
    return user


def users_by_id(ids) -> dict[int, User]:
    """The users behind these ids (one query), for names in tables."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(wanted)))}
