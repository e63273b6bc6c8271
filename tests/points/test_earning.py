"""Earning rules: caps per user per Asia/Shanghai day and for life, disabled rules, the same key once."""
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings, strategies as st

from core.accounts.models import User
from core.extensions import db
from points import ledger, services
from points.models import EarningCounter, EarningRule, LedgerTransaction, Lot, Posting


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


class FrozenClock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    """Freeze the services' (and the ledger's) clock; move it by setting `clock.now`."""
    frozen = FrozenClock(utc(2026, 3, 1, 4, 0))
    monkeypatch.setattr(services, "utcnow", frozen)
    monkeypatch.setattr(ledger, "utcnow", frozen)
    return frozen


@pytest.fixture
def user_id(ctx):
    user = User(display_name="测试住户")
    db.session.add(user)
    db.session.commit()
    return user.id


def rule(kind="task", points=10, daily_cap=None, lifetime_cap=None, enabled=True) -> str:
    db.session.merge(EarningRule(kind=kind, name="测试任务", points=points, daily_cap=daily_cap,
                                 lifetime_cap=lifetime_cap, enabled=enabled))
    db.session.commit()
    return kind


def counters(user_id: int, kind: str = "task") -> dict[str, int]:
    """What the caps have counted, by period. Rows left at 0 count nothing (see the refusal tests)."""
    return {period: points for period, points in db.session.execute(sa.select(
        EarningCounter.period, EarningCounter.points).where(
        EarningCounter.user_id == user_id, EarningCounter.kind == kind)) if points}


def ledger_rows() -> tuple[int, int, int]:
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(model))
                 for model in (LedgerTransaction, Posting, Lot))


def refused(user_id, kind, key, code, **kwargs) -> services.EarningRefused:
    """Earning `key` is refused with `code`, and nothing was written: no ledger row, no count."""
    before = (ledger_rows(), counters(user_id, kind), services.balance(user_id))
    with pytest.raises(services.EarningRefused) as raised:
        services.earn(user_id, kind, key, "测试", **kwargs)
    assert raised.value.code == code and raised.value.status == 409
    db.session.flush()
    assert (ledger_rows(), counters(user_id, kind), services.balance(user_id)) == before
    return raised.value


def test_the_daily_cap_refuses_with_a_clear_code_and_writes_nothing(user_id, clock):
    rule(daily_cap=30)
    for n in range(3):
        assert services.earn(user_id, "task", f"task:{n}", "测试").created
    error = refused(user_id, "task", "task:3", "earning_daily_cap")
    assert error.details == {"kind": "task", "cap": 30} and error.message
    # The caller's own work goes on in the same transaction, and commits.
    ledger.grant(user_id, 5, "test", "other-work", "测试")
    db.session.commit()
    assert services.balance(user_id).available == 35
    assert counters(user_id) == {"2026-03-01": 30}
    assert services.verify() == []


def test_the_lifetime_cap_spans_days_and_refuses_with_its_own_code(user_id, clock):
    rule(lifetime_cap=20, daily_cap=100)
    services.earn(user_id, "task", "task:1", "测试")
    clock.now = utc(2026, 3, 5, 4, 0)
    services.earn(user_id, "task", "task:2", "测试")
    clock.now = utc(2027, 1, 1, 4, 0)
    refused(user_id, "task", "task:3", "earning_lifetime_cap")
    db.session.commit()
    assert counters(user_id) == {"lifetime": 20, "2026-03-01": 10, "2026-03-05": 10}
    assert services.balance(user_id).available == 20


def test_a_refusal_by_one_cap_gives_back_what_the_other_counted(user_id, clock):
    rule(daily_cap=30, lifetime_cap=50)
    for n in range(3):
        services.earn(user_id, "task", f"day1:{n}", "测试")
    refused(user_id, "task", "day1:3", "earning_daily_cap")  # lifetime was counted first, then given back
    clock.now = utc(2026, 3, 2, 4, 0)
    for n in range(2):
        services.earn(user_id, "task", f"day2:{n}", "测试")
    refused(user_id, "task", "day2:2", "earning_lifetime_cap")
    db.session.commit()
    assert counters(user_id) == {"lifetime": 50, "2026-03-01": 30, "2026-03-02": 20}
    assert services.balance(user_id).available == 50


def test_a_grant_larger_than_the_cap_is_refused_whole(user_id, clock):
    rule(daily_cap=30)
    refused(user_id, "task", "big", "earning_daily_cap", quantity=4)  # 40 > 30: nothing, not 30
    assert services.earn(user_id, "task", "three", "测试", quantity=3).created
    db.session.commit()
    assert counters(user_id) == {"2026-03-01": 30} and services.balance(user_id).available == 30


@pytest.mark.parametrize("setup", ["disabled", "unknown", "zero points"])
def test_a_disabled_rule_refuses(user_id, clock, setup):
    kind = {"disabled": rule(enabled=False), "unknown": "no-such-rule", "zero points": rule(points=0)}[setup]
    refused(user_id, kind, "k", "earning_rule_disabled")


def test_the_day_ends_at_midnight_in_shanghai_not_utc(user_id, clock):
    rule(daily_cap=30)
    clock.now = utc(2026, 2, 28, 16, 0)  # 2026-03-01 00:00 in Shanghai (still Feb 28 in UTC)
    services.earn(user_id, "task", "a", "测试")
    clock.now = utc(2026, 3, 1, 15, 59, 59)  # 23:59:59 the same Shanghai day
    services.earn(user_id, "task", "b", "测试")
    services.earn(user_id, "task", "c", "测试")
    refused(user_id, "task", "d", "earning_daily_cap")
    clock.now = utc(2026, 3, 1, 16, 0)  # 2026-03-02 00:00 in Shanghai: a new day
    assert services.earn(user_id, "task", "d", "测试").created
    db.session.commit()
    assert counters(user_id) == {"2026-03-01": 30, "2026-03-02": 10}


def test_the_same_key_twice_earns_once_and_counts_once(user_id, clock):
    rule(daily_cap=30)
    first = services.earn(user_id, "task", "task:1", "测试")
    again = services.earn(user_id, "task", "task:1", "测试")
    assert first.created and not again.created and again.transaction_id == first.transaction_id
    assert counters(user_id) == {"2026-03-01": 10}
    services.earn(user_id, "task", "task:2", "测试")
    services.earn(user_id, "task", "task:3", "测试")
    refused(user_id, "task", "task:4", "earning_daily_cap")
    # A retried event that was paid is never refused for the cap it filled itself.
    assert services.earn(user_id, "task", "task:3", "测试").transaction_id
    db.session.commit()
    assert services.balance(user_id).available == 30 and counters(user_id) == {"2026-03-01": 30}


def test_the_same_key_after_the_rule_changed_returns_the_first_grant(user_id, clock):
    """`earn` promises the first grant again for a repeated key, even when an admin has changed
    the rule's points since: the event was paid, at the rate of its day."""
    rule(points=10)
    first = services.earn(user_id, "task", "task:1", "测试")
    db.session.commit()
    rule(points=15)
    again = services.earn(user_id, "task", "task:1", "测试")
    assert not again.created and again.transaction_id == first.transaction_id
    db.session.commit()
    assert services.balance(user_id).available == 10


def test_a_reversed_grant_does_not_give_its_cap_back(user_id, clock):
    rule(daily_cap=10)
    posted = services.earn(user_id, "task", "task:1", "测试")
    ledger.reverse(posted.transaction_id, "冲正")
    refused(user_id, "task", "task:2", "earning_daily_cap")
    db.session.commit()
    assert services.balance(user_id).available == 0 and services.verify() == []


def test_repeating_a_rated_binding_after_the_rule_changed_is_harmless(app, client, make_estate, make_engineer,
                                                                         mint_code, bind):
    """The binding call may be repeated (a fresh wx.login code, the same scene): it must still
    answer 200 and pay nothing more, also when an admin changed the rule's points in between."""
    with app.app_context():
        rule(kind="binding_rating", points=20)
    estate = make_estate()
    scene = mint_code(make_engineer([estate]), estate)["scene"]
    first = bind(scene, openid="oRater", rating=4)
    assert first.status_code == 200 and first.json["points"]["granted"] == 20
    assert first.json["points"]["pending"] is True  # until a sign of life (community.trust)
    with app.app_context():
        rule(kind="binding_rating", points=30)
    again = bind(scene, openid="oRater", rating=4)
    assert again.status_code == 200, again.json
    assert again.json["result"] == "unchanged" and again.json["points"]["granted"] == 0
    with app.app_context():
        assert services.balance(first.json["user"]["id"]).pending == 20


# -- the law: points never depend on the rating (Provisional Provisions against Unfair
# Competition on the Internet, Art. 9, in force 2024-09-01) -----------------------------------

@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ratings=st.permutations([1, 2, 3, 4, 5]),
       comments=st.lists(st.sampled_from([None, "", "很专业，非常满意！", "太差了，迟到一小时", "一般般"]),
                         min_size=5, max_size=5),
       points=st.integers(1, 200))
def test_a_rated_binding_earns_the_same_points_for_every_rating(app, make_estate, make_engineer, mint_code, bind,
                                                               ratings, comments, points):
    """Through the real binding flow (the API, the fake WeChat): one resident per rating 1..5,
    in any order and with any tone, each earns exactly the rule's points."""
    with app.app_context():
        rule(kind="binding_rating", points=points)
    estate = make_estate()
    scene = mint_code(make_engineer([estate]), estate)["scene"]
    earned = {}
    for rating, comment in zip(ratings, comments):
        response = bind(scene, rating=rating, comment=comment)
        assert response.status_code == 200, response.json
        assert response.json["visit"]["rating"] == rating and response.json["points"]["refused"] is None
        earned[rating] = (response.json["points"]["granted"], response.json["user"]["id"])
    assert {granted for granted, _ in earned.values()} == {points}
    with app.app_context():  # promised alike, pending until each household shows a sign of life
        assert {services.balance(user_id).pending for _, user_id in earned.values()} == {points}


# "好评" near a promise of points or a reward, either way round.
_PROMISE = re.compile(r"好评[^\n]{0,40}(积分|奖励|返现|返|赠送|送|得|points|reward)"
                      r"|(积分|奖励|返现|赠送|points|reward)[^\n]{0,40}好评", re.IGNORECASE)
_ROOT = Path(__file__).resolve().parents[2]
_SOURCES = ("templates", "static", "core", "community", "points", "ambassador", "demo", "migrations")


def test_no_page_or_message_promises_points_for_good_reviews():
    assert _PROMISE.search("五星好评送 20 积分") and _PROMISE.search("积分奖励：给个好评")  # the pattern bites
    files = [path for folder in _SOURCES if (_ROOT / folder).is_dir() for path in (_ROOT / folder).rglob("*")
             if path.suffix in {".html", ".js", ".py", ".txt", ".json", ".po"} and "vendor" not in path.parts]
    assert any(path.suffix == ".html" for path in files) and any(path.suffix == ".py" for path in files)
    offenders = [f"{path.relative_to(_ROOT)}:{text.count(chr(10), 0, match.start()) + 1}: {match.group(0)}"
                 for path in files for text in [path.read_text(encoding="utf-8", errors="replace")]
                 for match in _PROMISE.finditer(text)]
    assert offenders == []

