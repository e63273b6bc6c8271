"""The demo data `make demo` loads: a working set, loaded once, with a sound ledger and audit chain,
the care already due and every customer's health (what the nightly jobs would have made)."""
import sqlalchemy as sa

from community.estates.models import Engineer, Estate
from community.stewards.models import StewardBinding
from core import audit
from core.accounts import services as accounts
from core.extensions import db
from demo import data
from points import services as points
from points.models import Redemption


def test_seed_loads_a_consistent_demo_once(ctx):
    assert data.seed() is True
    assert data.seed() is False  # already there: nothing twice
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Estate)) == len(data.ESTATES)
    assert db.session.scalar(sa.select(sa.func.count()).where(Engineer.status == "active")) == len(data.ENGINEERS)
    assert db.session.scalar(sa.select(sa.func.count()).where(StewardBinding.ended_at.is_(None))) >= 10
    assert db.session.scalar(sa.select(sa.func.count()).where(Redemption.status == "pending")) == 3
    # the logins the README and `make demo` print work
    assert accounts.authenticate_password(*data.ADMIN).has_role("admin")
    assert accounts.authenticate_password(data.ENGINEERS[0][2], data.ENGINEER_PASSWORD).has_role("engineer")
    # WeChat DevTools logs in as these two (`flask demo` prints how): a bound resident and an engineer
    resident = accounts.wechat_identity(data.DEVTOOLS_RESIDENT).user
    assert db.session.scalar(sa.select(sa.func.count()).where(
        StewardBinding.resident_id == resident.id, StewardBinding.ended_at.is_(None))) >= 1
    assert accounts.wechat_identity(data.DEVTOOLS_ENGINEER).user.has_role("engineer")
    # the community and ambassador areas have something to show
    from ambassador.models import Ambassador, Application
    from ambassador.tasks.models import Task
    from community.feed.models import Post
    from community.orders.models import ServiceOrder
    from community.stats.models import EstateMonthStat
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ServiceOrder)) > 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EstateMonthStat)) >= 40  # 14 months, 5 estates
    assert db.session.scalar(sa.select(sa.func.count()).where(Post.kind == "question", Post.answers_count == 0,
                                                              Post.status == "published")) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ambassador)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).where(Application.status == "pending")) == 1
    assert db.session.scalar(sa.select(sa.func.count()).where(Task.status == "published")) == 1
    # the nightly jobs' work is there: care items routed to the stewards, a health score per customer
    from community.book.models import CustomerHealth
    from community.care import services as care
    from community.care.models import CareItem
    bound = db.session.scalar(sa.select(sa.func.count()).where(StewardBinding.ended_at.is_(None)))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CustomerHealth)) == bound
    assert db.session.scalar(sa.select(sa.func.count()).where(CareItem.status == "open")) >= 10
    assert db.session.scalar(sa.select(sa.func.count()).where(CareItem.engineer_id.is_(None))) == 0
    engineer = accounts.authenticate_password(data.ENGINEERS[0][2], data.ENGINEER_PASSWORD)
    counts = care.engineer_counts(accounts.Principal(id=engineer.id, roles=engineer.roles))
    assert counts["due"] + counts["overdue"] >= 1  # /engineer/reminders has work on it
    # the DevTools resident's purifier is overdue for its filters: their score counts it
    health = db.session.get(CustomerHealth, resident.id)
    assert health.signals["overdue_care"] >= 1 and health.score < 100
    assert points.verify() == []
    assert audit.verify()[1] == []
