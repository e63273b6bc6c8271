"""The demo data `make demo` loads: a working set, loaded once, with a sound ledger and audit chain."""
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
    assert points.verify() == []
    assert audit.verify()[1] == []
