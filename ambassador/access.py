"""Who is an active ambassador and what their level allows: the checks every ambassador area
(API and pages) uses, so a permission always means the level's permission."""
from __future__ import annotations

import sqlalchemy as sa

from ambassador.models import PERMISSIONS, Ambassador, AmbassadorEstate, Level
from core.db import MAX_ID
from core.errors import Forbidden
from core.extensions import db

PERMISSION_LABELS = {"recruit": "邀请新代言人", "announce": "发布小区公告", "lead_activities": "组织社区活动"}
assert set(PERMISSION_LABELS) == set(PERMISSIONS)


def ambassador_of(user_id: int) -> Ambassador | None:
    """The user's ambassador row, whatever its status (None: never approved)."""
    return db.session.get(Ambassador, user_id) if 0 < user_id <= MAX_ID else None


def active_ambassador(user_id: int) -> tuple[Ambassador, Level] | None:
    row = db.session.execute(sa.select(Ambassador, Level).join(Level, Level.id == Ambassador.level_id)
                             .where(Ambassador.user_id == user_id, Ambassador.status == "active")).first()
    return (row[0], row[1]) if row else None


def require_ambassador(user_id: int) -> tuple[Ambassador, Level]:
    found = active_ambassador(user_id)
    if found is None:
        raise Forbidden("仅限服务代言人使用", code="not_an_ambassador")
    return found


def has_permission(user_id: int, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    found = active_ambassador(user_id)
    return found is not None and permission in (found[1].permissions or [])


def require_permission(user_id: int, permission: str) -> tuple[Ambassador, Level]:
    """The caller's ambassador and level, or 403 `permission_denied` naming what is missing."""
    ambassador, level = require_ambassador(user_id)
    if permission not in (level.permissions or []):
        raise Forbidden(f"您当前的等级（{level.name}）没有“{PERMISSION_LABELS[permission]}”权限",
                        code="permission_denied", details={"permission": permission, "level": level.code})
    return ambassador, level


def level_position(user_id: int) -> int | None:
    """The level order of an active ambassador (1 is the entry level), else None."""
    return db.session.scalar(sa.select(Level.position).join(Ambassador, Ambassador.level_id == Level.id)
                             .where(Ambassador.user_id == user_id, Ambassador.status == "active"))


def serves_estate(user_id: int, estate_id: int) -> bool:
    """The ambassador serves this estate (one of their estates)."""
    return db.session.scalar(sa.select(sa.literal(1)).where(AmbassadorEstate.user_id == user_id,
                                                           AmbassadorEstate.estate_id == estate_id)) is not None


# -- answers to core.signals queries --------------------------------------------------------------

def ambassador_level(sender, *, user_id: int) -> int | None:
    """signals.ambassador_level: the user's level position while an active ambassador."""
    return level_position(user_id)


def announce_refusal(sender, *, user_id: int, estate_id: int) -> Forbidden | None:
    """signals.announce_refusal: an ambassador whose level has `announce` may announce in the
    estates they serve; anyone else learns why not."""
    try:
        require_permission(user_id, "announce")
    except Forbidden as refusal:
        return refusal
    if not serves_estate(user_id, estate_id):
        return Forbidden("只能在您服务的小区发布公告", code="not_your_estate")
    return None
