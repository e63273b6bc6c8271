"""Trust in steward bindings: each new binding watched for a sign of life, and the flags agents review."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db import BigID, utcnow
from core.extensions import db

WATCH_STATUSES = ("pending", "alive", "lapsed", "fake")
# Why a binding looks made up (docs/community.md "Fake households" gives each threshold).
FLAG_REASONS = {
    "burst": "短时间内绑定过多",
    "never_returned": "绑定后从未再使用",
    "shared_phone": "多户共用手机号",
    "visit_ref_unmatched": "工单号无对应服务单",
    "far_from_estate": "绑定地点远离小区",
}
FLAG_STATUSES = ("open", "confirmed", "dismissed")
LIFE_SIGNS = {"order": "完成服务单", "product": "登记产品", "session": "隔天再次使用", "phone": "微信验证手机号",
              "known": "绑定前已是活跃用户"}


def _in(column: str, values) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


class BindingWatch(db.Model):
    """A binding made by a scan, watched until its resident shows a sign of real life (its points
    are released) or the lapse period ends (its points lapse, the binding is flagged)."""

    __tablename__ = "binding_watches"

    binding_id: Mapped[int] = mapped_column(BigID, sa.ForeignKey("steward_bindings.id"), primary_key=True)
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineers.id"))
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"))
    bound_at: Mapped[datetime] = mapped_column(default=utcnow)
    lapse_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")  # WATCH_STATUSES
    life_sign: Mapped[str | None] = mapped_column(sa.String(16))  # LIFE_SIGNS
    settled_at: Mapped[datetime | None]  # when it left `pending`

    __table_args__ = (
        sa.CheckConstraint(_in("status", WATCH_STATUSES), name="status"),
        # a sign of life finds the resident's pending watches; the lapse job finds the due ones
        sa.Index("ix_binding_watches_pending_resident", "resident_id",
                 sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'")),
        sa.Index("ix_binding_watches_pending_lapse", "lapse_at",
                 sqlite_where=sa.text("status = 'pending'"), postgresql_where=sa.text("status = 'pending'")),
        # the burst count: one engineer's bindings in one estate since a moment
        sa.Index("ix_binding_watches_engineer_estate_bound", "engineer_id", "estate_id", "bound_at"),
    )


class BindingFlag(db.Model):
    """One reason to doubt one binding, for an agent to confirm (a fake) or dismiss."""

    __tablename__ = "binding_flags"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    binding_id: Mapped[int] = mapped_column(sa.ForeignKey("steward_bindings.id"))
    resident_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineers.id"))
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"))
    reason: Mapped[str] = mapped_column(sa.String(32))  # FLAG_REASONS
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    status: Mapped[str] = mapped_column(sa.String(16), default="open")  # FLAG_STATUSES
    note: Mapped[str | None] = mapped_column(sa.String(255))  # the agent's reason for the decision
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]

    __table_args__ = (
        sa.UniqueConstraint("binding_id", "reason"),
        sa.CheckConstraint(_in("status", FLAG_STATUSES), name="status"),
        sa.CheckConstraint(_in("reason", FLAG_REASONS), name="reason"),
        sa.Index("ix_binding_flags_status", "status", "id"),
        sa.Index("ix_binding_flags_engineer", "engineer_id", "id"),
    )

    @property
    def reason_label(self) -> str:
        return FLAG_REASONS.get(self.reason, self.reason)
