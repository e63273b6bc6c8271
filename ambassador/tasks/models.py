"""Tasks for ambassadors, who took them, and what they submitted for review."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ambassador.models import Points, one_of
from core.db import BigID, utcnow
from core.extensions import db

TASK_KINDS = ("promotion", "activity", "content", "recruit")
TASK_STATUSES = ("draft", "published", "closed")
PROOF_KINDS = ("text", "link", "photos")
SUBMISSION_STATUSES = ("pending", "approved", "rejected")


class Task(db.Model):
    __tablename__ = "ambassador_tasks"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(64))
    description: Mapped[str] = mapped_column(sa.String(2000), default="")
    kind: Mapped[str] = mapped_column(sa.String(16))
    # Audience: each list empty means "any"; an ambassador must match every non-empty list.
    audience_level_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    audience_estate_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    audience_cities: Mapped[list] = mapped_column(sa.JSON, default=list)
    points: Mapped[int] = mapped_column(Points)
    deadline: Mapped[datetime]
    total_limit: Mapped[int | None]  # approved completions in all
    per_person_limit: Mapped[int] = mapped_column(default=1)
    proof_required: Mapped[list] = mapped_column(sa.JSON, default=list)  # subset of PROOF_KINDS
    status: Mapped[str] = mapped_column(sa.String(16), default="draft")
    approved_count: Mapped[int] = mapped_column(default=0)  # conditional update against total_limit
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint(one_of("kind", TASK_KINDS), name="kind"),
        sa.CheckConstraint(one_of("status", TASK_STATUSES), name="status"),
        sa.CheckConstraint("points >= 0", name="points"),
        sa.CheckConstraint("per_person_limit > 0", name="per_person_limit"),
        sa.CheckConstraint("total_limit IS NULL OR approved_count <= total_limit", name="total_limit"),
        sa.Index("ix_ambassador_tasks_status_deadline", "status", "deadline"),
    )


class TaskAcceptance(db.Model):
    """An ambassador took a task; `approved_count` guards the per-person limit."""

    __tablename__ = "ambassador_task_acceptances"

    task_id: Mapped[int] = mapped_column(sa.ForeignKey("ambassador_tasks.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True, index=True)
    approved_count: Mapped[int] = mapped_column(default=0)
    accepted_at: Mapped[datetime] = mapped_column(default=utcnow)


class TaskSubmission(db.Model):
    __tablename__ = "ambassador_task_submissions"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("ambassador_tasks.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    text: Mapped[str | None] = mapped_column(sa.String(2000))
    link: Mapped[str | None] = mapped_column(sa.String(500))
    photos: Mapped[list] = mapped_column(sa.JSON, default=list)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(sa.String(255))
    points: Mapped[int | None] = mapped_column(Points)  # paid on approval (multiplier applied)
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.CheckConstraint(one_of("status", SUBMISSION_STATUSES), name="status"),
        sa.Index("ix_ambassador_task_submissions_task", "task_id", "status", "id"),
        sa.Index("ix_ambassador_task_submissions_user", "user_id", "task_id", "id"),
        sa.Index("ix_ambassador_task_submissions_status", "status", "id"),
    )
