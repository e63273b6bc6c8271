"""The catalogue (product models and their maintenance plans) and the archive of what each
household owns, with the serial-number conflicts an agent settles."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import BigID, utcnow
from core.extensions import db

CATEGORIES = {"water_purifier": "净水器", "air_conditioner": "空调", "water_heater": "热水器",
              "range_hood": "油烟机", "gas_stove": "燃气灶", "dishwasher": "洗碗机",
              "washing_machine": "洗衣机", "refrigerator": "冰箱", "wall_boiler": "壁挂炉",
              "fresh_air": "新风系统", "other": "其他"}
PRODUCT_STATUSES = ("active", "retired", "transferred")
PRODUCT_SOURCES = ("engineer", "resident", "integration", "import", "admin")


def _in(column: str, values) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


class ProductModel(db.Model):
    """One product model of the manufacturer's catalogue (型号)."""

    __tablename__ = "product_models"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)  # the model code printed on the nameplate
    category: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.String(128))
    image: Mapped[str | None] = mapped_column(sa.String(48))  # an upload's name
    warranty_months: Mapped[int] = mapped_column(default=12)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint(_in("category", CATEGORIES), name="category"),
        sa.CheckConstraint("warranty_months BETWEEN 0 AND 240", name="warranty_months"),
        sa.Index("ix_product_models_category", "category", "id"),
    )


class MaintenancePlan(db.Model):
    """What care a product needs and when: for a whole category, or for one model (a model's plan
    of a service type replaces its category's plan of that type).

    Due dates: the first one `first_due_days` after installation; then, if `interval_months` is
    set, every `interval_months` after the base: the last completed service of this type for the
    product when `after_completion`, else the previous due date. A season window
    (`season_start_month`..`season_end_month`) moves a due date that falls outside it to the
    window's next start. The household hears of it `lead_days` ahead."""

    __tablename__ = "maintenance_plans"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64))  # 滤芯更换, 年度清洗, 安装后回访检测
    category: Mapped[str | None] = mapped_column(sa.String(32))
    product_model_id: Mapped[int | None] = mapped_column(sa.ForeignKey("product_models.id"))
    service_type: Mapped[str] = mapped_column(sa.String(32))  # community.orders.services.SERVICE_TYPES
    first_due_days: Mapped[int]  # days after installation of the first due date
    interval_months: Mapped[int | None]  # None: once only
    after_completion: Mapped[bool] = mapped_column(default=True)
    season_start_month: Mapped[int | None]
    season_end_month: Mapped[int | None]
    lead_days: Mapped[int] = mapped_column(default=14)
    description: Mapped[str] = mapped_column(sa.String(500), default="")  # what the household is told
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    product_model: Mapped[ProductModel | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("(category IS NULL) <> (product_model_id IS NULL)", name="target"),
        sa.CheckConstraint("first_due_days BETWEEN 0 AND 3650", name="first_due_days"),
        sa.CheckConstraint("interval_months IS NULL OR interval_months BETWEEN 1 AND 120", name="interval_months"),
        sa.CheckConstraint("(season_start_month IS NULL) = (season_end_month IS NULL)", name="season_pair"),
        sa.CheckConstraint("season_start_month IS NULL OR (season_start_month BETWEEN 1 AND 12 "
                           "AND season_end_month BETWEEN 1 AND 12)", name="season_months"),
        sa.CheckConstraint("lead_days BETWEEN 0 AND 90", name="lead_days"),
        sa.Index("ix_maintenance_plans_category", "category"),
        sa.Index("ix_maintenance_plans_product_model_id", "product_model_id"),
    )


class Product(db.Model):
    """One appliance in one household (产品档案). The serial is unique per model; a serial claimed
    by someone other than its owner becomes a SerialConflict, never a silent move."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    model_id: Mapped[int] = mapped_column(sa.ForeignKey("product_models.id"))
    serial: Mapped[str] = mapped_column(sa.String(64))
    install_date: Mapped[date | None]
    purchase_date: Mapped[date | None]
    # Derived: (purchase date, else install date) + the model's warranty months; stored so lists
    # and reports filter on it.
    warranty_end: Mapped[date | None]
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    owner_phone: Mapped[str | None] = mapped_column(sa.String(20))  # imported records before the owner joins
    estate_id: Mapped[int | None] = mapped_column(sa.ForeignKey("estates.id"))
    address_id: Mapped[int | None] = mapped_column(sa.ForeignKey("addresses.id"))
    address: Mapped[str] = mapped_column(sa.String(255), default="")
    installer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("engineers.id"))
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    source: Mapped[str] = mapped_column(sa.String(16))
    external_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)  # the installation record's id
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    model: Mapped[ProductModel] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (
        sa.UniqueConstraint("model_id", "serial"),
        sa.CheckConstraint(_in("status", PRODUCT_STATUSES), name="status"),
        sa.CheckConstraint(_in("source", PRODUCT_SOURCES), name="source"),
        sa.Index("ix_products_owner_id", "owner_id", "id"),
        sa.Index("ix_products_owner_phone", "owner_phone"),
        sa.Index("ix_products_estate_id", "estate_id", "id"),
    )


class SerialConflict(db.Model):
    """Someone registered a serial that belongs to another household: an agent decides."""

    __tablename__ = "product_serial_conflicts"

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"))
    claimant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    claimant_phone: Mapped[str | None] = mapped_column(sa.String(20))
    source: Mapped[str] = mapped_column(sa.String(16))
    claim: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # what the claimant submitted
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    resolution: Mapped[str | None] = mapped_column(sa.String(16))  # kept | moved | rejected
    note: Mapped[str | None] = mapped_column(sa.String(500))
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("status in ('open', 'resolved')", name="status"),
        sa.Index("ix_product_serial_conflicts_status", "status", "id"),
        sa.Index("ix_product_serial_conflicts_product_id", "product_id"),
    )


class ProductSchedule(db.Model):
    """When a product next needs the care of one plan: computed when the product is registered,
    when a service of the plan's type completes (any source) and when a plan changes
    (community.products.services). Generation of care items reads only this table."""

    __tablename__ = "product_schedules"

    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"), primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("maintenance_plans.id"), primary_key=True)
    next_due_on: Mapped[date | None]  # None: nothing more is due (a one-off plan already done)
    last_done_on: Mapped[date | None]  # the last completed service of the plan's type
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.Index("ix_product_schedules_next_due_on", "next_due_on"),
        sa.Index("ix_product_schedules_plan_id", "plan_id"),
    )
