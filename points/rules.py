"""The one catalogue of earning-rule kinds: each kind's Chinese name, default points and caps.

A kind names an earning rule (`points_earning_rules.kind`) and the ledger transactions granted by
it. The migrations seed each rule's row from here; afterwards admins change the points, caps and
switch (points.services.update_rule), so code reads the live row (`get_rule`) and refers to a
kind only by the constants below. A new kind is added here and seeded by a new migration.

Review and rating rewards never depend on the rating: rewarding good reviews is unlawful in
China (Provisional Provisions against Unfair Competition on the Internet, Art. 9).
"""
from __future__ import annotations

from dataclasses import dataclass

from core.formatting import name_codes


@dataclass(frozen=True)
class RuleDefault:
    kind: str
    name: str  # as admins and users read it
    points: int  # per event; the order rules pay per whole yuan paid
    daily_cap: int | None = None  # points per Asia/Shanghai day
    lifetime_cap: int | None = None


BINDING_RATING = "binding_rating"  # a steward binding whose visit the resident rated (community.stewards)
SERVICE_REVIEW = "service_review"  # a review of a completed service order (community.orders)
REFERRAL_AMBASSADOR = "referral_ambassador"  # an invitee became an ambassador (ambassador.referrals)
REFERRAL_SERVICE = "referral_service"  # an invitee bound a steward and had a first real service
ORDER_STEWARD = "order_steward"  # a steward's customer paid an order (ambassador.orders, per yuan)
ORDER_INVITER = "order_inviter"  # an inviter's invitee paid an order (per yuan)

DEFAULTS = {rule.kind: rule for rule in (
    RuleDefault(BINDING_RATING, "完成管家绑定并评价服务", 20),
    RuleDefault(SERVICE_REVIEW, "评价已完成的服务", 10, daily_cap=50),
    RuleDefault(REFERRAL_AMBASSADOR, "邀请的用户成为服务代言人", 100, daily_cap=1000),
    RuleDefault(REFERRAL_SERVICE, "邀请的用户绑定管家并完成首次服务", 50, daily_cap=500),
    RuleDefault(ORDER_STEWARD, "管家客户下单（每元）", 2),
    RuleDefault(ORDER_INVITER, "邀请的用户下单（每元）", 1),
)}

# Granted without a rule (the amount comes from elsewhere), named here so the ledger reads alike.
TASK = "task"  # an approved ambassador task submission: the task's points × the level multiplier
ACTIVITY = "activity"  # checked in at a community activity: the activity's points_reward (activation.activities)
GRANT_NAMES = {TASK: "代言人任务奖励", ACTIVITY: "参加社区活动"}
# The ledger's own transaction kinds, as people read them.
LEDGER_NAMES = {"hold": "兑换冻结", "release": "兑换退回", "settle": "兑换结算", "spend": "消费",
                "adjustment": "人工调整", "reverse": "冲正", "expiry": "积分过期"}
# `{{ kind|code_name("points") }}` and the API's `kind_label`: the default names (an admin may
# rename a rule; the rules page shows that name beside this one).
name_codes("points", {**{kind: rule.name for kind, rule in DEFAULTS.items()}, **GRANT_NAMES, **LEDGER_NAMES})


def seed_rows(*kinds: str) -> list[dict]:
    """The rows a migration inserts for these kinds, from their defaults (enabled)."""
    return [{"kind": d.kind, "name": d.name, "points": d.points, "daily_cap": d.daily_cap,
             "lifetime_cap": d.lifetime_cap, "enabled": True} for d in (DEFAULTS[k] for k in kinds)]
