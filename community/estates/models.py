"""Estates, the engineers who cover them and the residents who live in them."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.accounts.models import PHONE_TAIL_SQL, User
from core.db import BigID, utcnow
from core.extensions import db

ESTATE_STATUSES = ("active", "inactive")
ENGINEER_STATUSES = ("invited", "active", "left")


class Estate(db.Model):
    """A residential estate (小区): the unit of community, ranking, offers and KPIs."""

    __tablename__ = "estates"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    # The manufacturer's own estate code: the natural key of CSV imports (so re-imports update).
    code: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(128))
    province: Mapped[str] = mapped_column(sa.String(32))
    city: Mapped[str] = mapped_column(sa.String(32))
    district: Mapped[str] = mapped_column(sa.String(32))
    address: Mapped[str] = mapped_column(sa.String(255), default="")
    lat: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    lng: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    households: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint("status in ('active', 'inactive')", name="status"),
        sa.CheckConstraint("households >= 0", name="households"),
        sa.Index("ix_estates_city_name", "city", "name"),
        # Name prefixes (the console's pickers): LIKE 'q%' on PostgreSQL whatever the collation.
        sa.Index("ix_estates_name", "name", postgresql_ops={"name": "varchar_pattern_ops"}),
        # The nearby search's bounding box (community.estates.services.nearby_estates): a range on lat.
        sa.Index("ix_estates_lat_lng", "lat", "lng"),
    )


class Engineer(db.Model):
    """A field engineer, created by an admin and claimed from the mini-program with an invite code."""

    __tablename__ = "engineers"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    phone: Mapped[str] = mapped_column(sa.String(20))
    phone_tail: Mapped[str | None] = mapped_column(sa.String(4), sa.Computed(PHONE_TAIL_SQL), index=True)
    employee_no: Mapped[str] = mapped_column(sa.String(32), unique=True)
    photo: Mapped[str | None] = mapped_column(sa.String(48))  # an upload's name, on the public profile
    intro: Mapped[str] = mapped_column(sa.String(500), default="")  # the engineer's own words to residents
    status: Mapped[str] = mapped_column(sa.String(16), default="invited")
    invite_code_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    invite_expires_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    left_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User | None] = relationship()
    estates: Mapped[list[Estate]] = relationship(secondary="engineer_estates", order_by="Estate.id")

    __table_args__ = (
        sa.CheckConstraint("status in ('invited', 'active', 'left')", name="status"),
        sa.Index("ix_engineers_name", "name", postgresql_ops={"name": "varchar_pattern_ops"}),
    )


# The score of an engineer with no record in an estate (community.stats.services.UNRANKED_SCORE,
# the formula at zero: a test keeps the two equal). New coverage rows start from it.
UNRANKED_SCORE = 36.75


class EngineerEstate(db.Model):
    """Coverage: an engineer serves an estate (an estate may have several engineers).

    The row also carries the engineer's ranking key in the estate, a copy of their
    community.stats EngineerEstateStat (score, first service), or UNRANKED_SCORE and no first
    service while they have no record there. The estate's ranking then reads its first page
    straight from ix_engineer_estates_rank in order and stops: the same cost with 10 or 10,000
    coverers (issue 15). community.stats writes the copy whenever it scores, when coverage is
    added (signal coverage_added) and in its rebuild."""

    __tablename__ = "engineer_estates"

    engineer_id: Mapped[int] = mapped_column(sa.ForeignKey("engineers.id"), primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"), primary_key=True)
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    rank_score: Mapped[float] = mapped_column(sa.Float, default=UNRANKED_SCORE,
                                              server_default=sa.text(str(UNRANKED_SCORE)))
    rank_first_service_at: Mapped[datetime | None]


# The ranking's order (community.stats.services.RANK_ORDER), the estate first: also every lookup
# of an estate's coverers.
sa.Index("ix_engineer_estates_rank", EngineerEstate.estate_id, EngineerEstate.rank_score.desc(),
         EngineerEstate.rank_first_service_at, EngineerEstate.engineer_id)


class Residency(db.Model):
    """A resident belongs to an estate (a resident may have several: own home, parents' home)."""

    __tablename__ = "residencies"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"))
    source: Mapped[str] = mapped_column(sa.String(16))  # binding | self | admin
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    left_at: Mapped[datetime | None]

    estate: Mapped[Estate] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (
        sa.UniqueConstraint("user_id", "estate_id"),
        sa.Index("ix_residencies_estate_id_user_id", "estate_id", "user_id"),
    )


class Address(db.Model):
    """A resident's service address in an estate (building, unit, room) and who to call there.
    At most one is the resident's default."""

    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estates.id"))
    building: Mapped[str] = mapped_column(sa.String(32), default="")
    unit: Mapped[str] = mapped_column(sa.String(16), default="")
    room: Mapped[str] = mapped_column(sa.String(16), default="")
    contact_name: Mapped[str] = mapped_column(sa.String(32))
    contact_phone: Mapped[str] = mapped_column(sa.String(20))
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    estate: Mapped[Estate] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (
        sa.Index("ix_addresses_user", "user_id", "id"),
        sa.Index("uq_addresses_default", "user_id", unique=True,
                 sqlite_where=sa.text("is_default"), postgresql_where=sa.text("is_default")),
    )


class AgentDuty(db.Model):
    """An agent on duty for the estates of a city, or of one district of it: who hears of a
    customer turning red there, and whose queue a care item without an engineer lands in. A city
    nobody is on duty for is everyone's (every active agent)."""

    __tablename__ = "agent_duties"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    city: Mapped[str] = mapped_column(sa.String(32))
    district: Mapped[str | None] = mapped_column(sa.String(32))  # None: the whole city
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("user_id", "city", "district"),
        sa.Index("ix_agent_duties_city_district", "city", "district"),
    )
