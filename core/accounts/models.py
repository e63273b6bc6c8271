"""Users, roles, WeChat identities and API tokens."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import BigID, utcnow
from core.extensions import db

ROLES = ("resident", "engineer", "agent", "admin", "partner")
STAFF_ROLES = frozenset({"engineer", "agent", "admin", "partner"})  # who may log in to the web console
# A phone number's last four digits, as the database computes them (users and engineers).
PHONE_TAIL_SQL = "substr(phone, length(phone) - 3)"


class RoleSet(sa.TypeDecorator):
    """A user's roles, stored as a sorted comma-separated string ("admin,engineer").

    One column instead of a join keeps the per-request token lookup to a single row.
    """

    impl = sa.String(64)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return ""
        unknown = set(value) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown roles: {sorted(unknown)}")
        return ",".join(sorted(value))

    def process_result_value(self, value, dialect):
        return frozenset(r for r in (value or "").split(",") if r)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    display_name: Mapped[str] = mapped_column(sa.String(64), default="")
    avatar: Mapped[str | None] = mapped_column(sa.String(48))  # an upload's name (core.uploads)
    phone: Mapped[str | None] = mapped_column(sa.String(20), index=True)
    # The phone's last four digits, computed by the database: the console's phone-tail search
    # (core.accounts.services.search_users, docs/decisions.md "Phone-tail search").
    phone_tail: Mapped[str | None] = mapped_column(sa.String(4), sa.Computed(PHONE_TAIL_SQL), index=True)
    # When WeChat confirmed the phone (the getPhoneNumber button); None: typed, imported or none.
    phone_confirmed_at: Mapped[datetime | None]
    # Staff web login; engineers use their employee number.
    username: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(256))
    roles: Mapped[frozenset] = mapped_column(RoleSet(), default=frozenset({"resident"}))
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The last business day (Asia/Shanghai) the user's bearer token was used: written at most once
    # a day per user (core.accounts.services.token_grant); customer health reads it.
    last_active_on: Mapped[date | None]
    # Bumped when the user logs out of the web, changes password or is disabled: every web session
    # carries the version it was opened under (get_id), so an older session cookie stops working.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    identities: Mapped[list["WeChatIdentity"]] = relationship(back_populates="user", lazy="raise")

    __table_args__ = (
        sa.CheckConstraint("status in ('active', 'disabled')", name="status"),
        # Name prefixes (the console's user search): LIKE 'q%' on PostgreSQL whatever the collation.
        sa.Index("ix_users_display_name", "display_name", postgresql_ops={"display_name": "varchar_pattern_ops"}),
    )

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.status == "active"

    def get_id(self) -> str:
        # The session version makes logout, a password change or disabling end every web session.
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.id} {sorted(self.roles)}>"


class WeChatIdentity(db.Model):
    """One openid in one app (appid); unionid joins a person's identities across apps."""

    __tablename__ = "wechat_identities"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    appid: Mapped[str] = mapped_column(sa.String(32))
    openid: Mapped[str] = mapped_column(sa.String(64))
    unionid: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    # Sealed with a key derived from SECRET_KEY; never serialised, never logged.
    session_key_sealed: Mapped[str | None] = mapped_column(sa.String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="identities", lazy="joined")

    __table_args__ = (sa.UniqueConstraint("appid", "openid"),)

    def __repr__(self) -> str:  # no session_key here, on purpose
        return f"<WeChatIdentity {self.appid}/{self.openid}>"


class ApiToken(db.Model):
    """An opaque bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(16))  # wechat | password
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
