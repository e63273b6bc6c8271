"""The care-schedule arithmetic (pure functions, no database): month arithmetic, season windows
(wrapping the year too), the first due date, once-only plans, counting from completion or on a
fixed cycle, letting a due date go, catching up with long-installed appliances, which plans apply
to a model, and the warranty end."""
from dataclasses import dataclass
from datetime import date

import pytest

from community.products.services import (
    CATCH_UP_DAYS,
    add_months,
    applicable_plans,
    due_after,
    in_season,
    into_season,
    next_due,
    schedule_due,
    warranty_end,
)


@dataclass
class Plan:
    first_due_days: int = 0
    interval_months: int | None = None
    after_completion: bool = True
    season_start_month: int | None = None
    season_end_month: int | None = None
    id: int = 0
    active: bool = True
    service_type: str = "maintenance"
    category: str | None = "water_purifier"
    product_model_id: int | None = None


D = date.fromisoformat


@pytest.mark.parametrize("day, months, expected", [
    ("2024-01-31", 1, "2024-02-29"),   # leap year: clamped to the month's end
    ("2023-01-31", 1, "2023-02-28"),
    ("2024-03-31", 1, "2024-04-30"),
    ("2024-08-31", 6, "2025-02-28"),
    ("2024-11-15", 2, "2025-01-15"),   # across the new year
    ("2024-12-31", 12, "2025-12-31"),
    ("2024-02-29", 12, "2025-02-28"),
    ("2024-02-29", 48, "2028-02-29"),
    ("2024-05-10", -6, "2023-11-10"),  # backwards too
    ("2024-03-31", -1, "2024-02-29"),
    ("2024-05-10", 0, "2024-05-10"),
])
def test_add_months_clamps_the_day_to_the_month_end(day, months, expected):
    assert add_months(D(day), months) == D(expected)


@pytest.mark.parametrize("month, start, end, inside", [
    (4, 4, 6, True), (6, 4, 6, True), (3, 4, 6, False), (7, 4, 6, False),
    (11, 11, 2, True), (12, 11, 2, True), (1, 11, 2, True), (2, 11, 2, True),  # wraps the new year
    (3, 11, 2, False), (10, 11, 2, False), (7, 11, 2, False),
    (5, 5, 5, True), (6, 5, 5, False),  # a one-month window
    (9, None, None, True),  # no window: always in season
])
def test_in_season(month, start, end, inside):
    assert in_season(date(2025, month, 10), start, end) is inside


@pytest.mark.parametrize("day, start, end, expected", [
    ("2025-03-15", 4, 6, "2025-04-01"),  # before the window: its start this year
    ("2025-07-03", 4, 6, "2026-04-01"),  # after the window: next year's start
    ("2025-05-20", 4, 6, "2025-05-20"),  # inside: unchanged
    ("2025-12-31", 4, 6, "2026-04-01"),
    ("2025-05-20", 11, 2, "2025-11-01"),  # a wrapping window starts later this year
    ("2025-10-31", 11, 2, "2025-11-01"),
    ("2025-03-01", 11, 2, "2025-11-01"),
    ("2026-01-15", 11, 2, "2026-01-15"),  # inside the wrapped part
    ("2025-11-30", 11, 2, "2025-11-30"),
    ("2025-06-30", None, None, "2025-06-30"),
])
def test_into_season_moves_a_date_outside_the_window_to_the_next_window_start(day, start, end, expected):
    assert into_season(D(day), start, end) == D(expected)


INSTALLED = D("2024-01-10")


def test_first_due_is_installation_plus_first_due_days_when_nothing_is_done():
    assert next_due(Plan(first_due_days=30), INSTALLED, None) == D("2024-02-09")
    assert next_due(Plan(first_due_days=0, interval_months=6), INSTALLED, None) == INSTALLED
    assert next_due(Plan(first_due_days=180, interval_months=6, after_completion=False), INSTALLED, None) == D("2024-07-08")


def test_a_service_before_the_installation_does_not_count():
    plan = Plan(first_due_days=180, interval_months=6)
    assert next_due(plan, INSTALLED, D("2023-12-01")) == D("2024-07-08")
    assert next_due(Plan(first_due_days=30), INSTALLED, D("2024-01-09")) == D("2024-02-09")


def test_a_once_only_plan_is_due_once_then_never():
    plan = Plan(first_due_days=30)
    assert next_due(plan, INSTALLED, None) == D("2024-02-09")
    assert next_due(plan, INSTALLED, D("2024-02-20")) is None  # done (late)
    assert next_due(plan, INSTALLED, D("2024-01-20")) is None  # done early counts too
    assert due_after(plan, INSTALLED, D("2024-02-09")) is None  # declined: nothing more


def test_after_completion_counts_the_interval_from_the_last_service():
    plan = Plan(first_due_days=180, interval_months=6, after_completion=True)
    assert next_due(plan, INSTALLED, D("2024-05-31")) == D("2024-11-30")  # early: next from the service
    assert next_due(plan, INSTALLED, D("2024-08-31")) == D("2025-02-28")  # clamped to February's end
    assert next_due(plan, INSTALLED, D("2025-03-15")) == D("2025-09-15")  # very late: still from the service
    assert next_due(plan, INSTALLED, INSTALLED) == D("2024-07-10")  # a filter changed at installation


@pytest.mark.parametrize("done, expected", [
    ("2024-07-08", "2025-01-08"),  # on the due date
    ("2024-06-20", "2025-01-08"),  # early: it answered the July due date, next is January
    ("2024-08-20", "2025-01-08"),  # late: the same
    ("2024-10-05", "2025-01-08"),  # nearer to July than to January: it answered July
    ("2024-10-08", "2025-01-08"),  # exactly halfway (July 8 .. January 8, 92 days each way) answers the earlier
    ("2024-10-09", "2025-07-08"),  # nearer to January: it answered January
    ("2024-12-30", "2025-07-08"),
    ("2025-09-01", "2026-01-08"),  # a year later: answered July 2025
    ("2024-01-10", "2024-07-08"),  # at installation: answered the cycle date before the first
])
def test_a_fixed_cycle_continues_from_the_due_date_the_service_answered(done, expected):
    plan = Plan(first_due_days=180, interval_months=6, after_completion=False)  # cycle: Jul 8, Jan 8, …
    assert next_due(plan, INSTALLED, D(done)) == D(expected)


def test_a_fixed_cycle_counts_each_date_from_the_first_so_month_ends_do_not_drift():
    plan = Plan(first_due_days=21, interval_months=1, after_completion=False)  # first due Jan 31
    assert next_due(plan, INSTALLED, D("2024-01-31")) == D("2024-02-29")
    assert next_due(plan, INSTALLED, D("2024-02-29")) == D("2024-03-31")  # not the 29th: from Jan 31 + 2
    assert next_due(plan, INSTALLED, D("2024-03-31")) == D("2024-04-30")


def test_the_season_window_moves_every_due_date():
    # yearly AC cleaning in April-June, counted on a fixed cycle from the first due date
    plan = Plan(first_due_days=60, interval_months=12, after_completion=False, season_start_month=4,
                season_end_month=6)
    installed = D("2024-08-20")  # first due 2024-10-19: outside the window
    assert next_due(plan, installed, None) == D("2025-04-01")
    # the household saw it due on 2025-04-01: a cleaning in May answered that, next is April 2026
    assert next_due(plan, installed, D("2025-05-10")) == D("2026-04-01")
    assert next_due(plan, installed, D("2025-09-30")) == D("2026-04-01")  # late (nearer April 2025 than 2026)
    assert next_due(plan, installed, D("2026-03-20")) == D("2027-04-01")  # early for April 2026
    # counted from completion instead: a cleaning in May is due again next May (in the window)
    from_done = Plan(first_due_days=60, interval_months=12, season_start_month=4, season_end_month=6)
    assert next_due(from_done, installed, D("2025-05-10")) == D("2026-05-10")
    assert next_due(from_done, installed, D("2025-07-20")) == D("2027-04-01")  # July is after the window


def test_a_wrapping_window_for_a_winter_boiler_check():
    plan = Plan(first_due_days=30, interval_months=12, season_start_month=11, season_end_month=2)
    assert next_due(plan, D("2024-04-01"), None) == D("2024-11-01")  # May 1 moves to November
    assert next_due(plan, D("2024-12-05"), None) == D("2025-01-04")  # in the wrapped part of the window
    assert next_due(plan, D("2024-04-01"), D("2024-12-15")) == D("2025-12-15")


def test_due_after_lets_a_declined_due_date_go():
    from_done = Plan(first_due_days=180, interval_months=6)
    assert due_after(from_done, INSTALLED, D("2024-07-08")) == D("2025-01-08")
    fixed = Plan(first_due_days=180, interval_months=6, after_completion=False)
    assert due_after(fixed, INSTALLED, D("2024-07-08")) == D("2025-01-08")
    assert due_after(fixed, INSTALLED, D("2024-09-01")) == D("2025-01-08")  # the first cycle date after it
    seasonal = Plan(first_due_days=60, interval_months=12, after_completion=False, season_start_month=4,
                    season_end_month=6)
    assert due_after(seasonal, D("2024-08-20"), D("2025-04-01")) == D("2026-04-01")


def test_schedule_due_catches_up_with_an_appliance_installed_long_ago():
    on = D("2027-03-15")
    installed = D("2024-01-10")
    inspection = Plan(first_due_days=30)
    assert schedule_due(inspection, installed, None, on) is None  # a post-install check three years on: no
    assert schedule_due(inspection, D("2027-01-20"), None, on) == D("2027-02-19")  # 24 days overdue: still asked
    filters = Plan(first_due_days=180, interval_months=6)  # cycle Jul 8 / Jan 8
    assert schedule_due(filters, installed, None, on) == D("2027-01-08")  # the latest cycle date on or before today
    assert next_due(filters, installed, None) == D("2024-07-08")  # (what next_due alone says)
    # within the catch-up window, or with a service on record, schedule_due is next_due
    recent = D("2026-07-01")
    assert schedule_due(filters, recent, None, on) == next_due(filters, recent, None) == D("2026-12-28")
    assert schedule_due(filters, installed, D("2026-12-01"), on) == D("2027-06-01")
    seasonal = Plan(first_due_days=60, interval_months=12, after_completion=False, season_start_month=4,
                    season_end_month=6)
    assert schedule_due(seasonal, D("2020-08-20"), None, on) == D("2026-04-01")  # the last season's start
    assert CATCH_UP_DAYS == 90


def test_applicable_plans_a_models_plan_replaces_its_categorys_plan_of_that_type():
    category_filter = Plan(id=1, service_type="maintenance", category="water_purifier")
    category_check = Plan(id=2, service_type="inspection", category="water_purifier")
    other_category = Plan(id=3, service_type="cleaning", category="air_conditioner")
    model_filter = Plan(id=4, service_type="maintenance", category=None, product_model_id=7)
    stopped = Plan(id=5, service_type="cleaning", category="water_purifier", active=False)
    other_model = Plan(id=6, service_type="cleaning", category=None, product_model_id=8)
    plans = [category_filter, category_check, other_category, model_filter, stopped, other_model]
    assert [p.id for p in applicable_plans(plans, 7, "water_purifier")] == [4, 2]
    assert [p.id for p in applicable_plans(plans, 9, "water_purifier")] == [1, 2]
    model_filter.active = False  # a stopped model plan no longer replaces the category's
    assert [p.id for p in applicable_plans(plans, 7, "water_purifier")] == [1, 2]


def test_warranty_end_counts_from_the_purchase_else_the_installation():
    assert warranty_end(D("2024-01-31"), D("2024-02-10"), 12) == D("2025-01-31")
    assert warranty_end(None, D("2024-02-29"), 12) == D("2025-02-28")
    assert warranty_end(None, None, 12) is None
    assert warranty_end(D("2024-05-05"), None, 0) == D("2024-05-05")


def test_two_cycle_dates_in_one_window_never_make_the_next_due_date_the_answered_one():
    # every 6 months, but only in April-June: Oct and Apr cycle dates both land on April 1
    plan = Plan(first_due_days=0, interval_months=6, after_completion=False, season_start_month=4, season_end_month=6)
    installed = D("2024-10-01")  # cycle Oct 1, Apr 1, Oct 1, … → Apr 1 2025 (twice), Apr 1 2026 (twice)
    assert next_due(plan, installed, None) == D("2025-04-01")
    assert next_due(plan, installed, D("2025-04-10")) == D("2026-04-01")
    assert next_due(plan, installed, D("2025-04-01")) == D("2026-04-01")
