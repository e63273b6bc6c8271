"""The daily generation of care items: what is due within the horizon, once; the route (the
household's steward, else the estate's best-ranked engineer, else the agent queue); and what
the same run reconciles (snoozes that ended, engineers who left, products that left, schedules
that moved)."""
from datetime import timedelta

import sqlalchemy as sa

from tests.community.care.conftest import headers, today


def test_items_due_within_the_horizon_are_created_once_with_their_notice_date(app, make_estate, make_engineer,
                                                                               household, make_product, make_plan,
                                                                               generate, items):
    estate = make_estate()
    steward = make_engineer([estate])
    home = household(estate, steward)
    soon, _ = make_product(owner_id=home.user_id, estate_id=estate, due_on=today() + timedelta(days=20))
    late, _ = make_product(owner_id=home.user_id, estate_id=estate, due_on=today() + timedelta(days=31))
    past, _ = make_product(owner_id=home.user_id, estate_id=estate, due_on=today() - timedelta(days=3))
    short_lead = make_plan(name="年度清洗", service_type="cleaning", lead_days=3)
    cleaning, _ = make_product(owner_id=home.user_id, estate_id=estate, due_on=today() + timedelta(days=30),
                               plan_id=short_lead)

    counts = generate()
    assert (counts["created"], counts["steward"], counts["estate"], counts["agent"]) == (3, 3, 0, 0)
    made = {i["product_id"]: i for i in items()}
    assert set(made) == {soon, past, cleaning}  # 31 days ahead is beyond the 30-day horizon
    assert made[soon]["due_on"] == today() + timedelta(days=20)
    assert made[soon]["notify_on"] == today() + timedelta(days=6)  # 14 days ahead
    assert made[past]["notify_on"] == today()  # never before today
    assert made[cleaning]["notify_on"] == today() + timedelta(days=27)
    for item in made.values():
        assert (item["status"], item["route"], item["engineer_id"], item["resident_id"], item["estate_id"]) == (
            "open", "steward", steward.engineer_id, home.user_id, estate)
        assert item["notified_at"] is None

    assert generate()["created"] == 0  # a re-run creates nothing
    assert len(items()) == 3
    assert generate(horizon_days=40)["created"] == 1  # a longer horizon takes the later one
    assert {i["product_id"] for i in items()} == {soon, past, cleaning, late}


def test_an_item_for_a_due_date_is_never_made_again_and_one_live_item_per_plan(app, make_estate, household,
                                                                               make_product, generate, items):
    from community.care.models import CareItem
    from community.products.models import ProductSchedule
    from core.extensions import db

    estate = make_estate()
    home = household(estate)
    product, plan = make_product(owner_id=home.user_id, estate_id=estate)
    generate()
    with app.app_context():  # the steward declined it: closed; the schedule still says the same date
        db.session.execute(sa.update(CareItem).values(status="declined"))
        db.session.commit()
    assert generate()["created"] == 0  # that due date had its item
    with app.app_context():  # the next cycle is due, while the old item is still live
        db.session.execute(sa.update(CareItem).values(status="open"))
        db.session.execute(sa.update(ProductSchedule).values(next_due_on=today() + timedelta(days=25)))
        db.session.commit()
    counts = generate()
    assert counts["created"] == 1 and counts["cancelled"] == 1  # the stale one closed, the new one made
    assert [(i["due_on"], i["status"]) for i in items(product_id=product)] == [
        (today() + timedelta(days=10), "cancelled"), (today() + timedelta(days=25), "open")]


def test_without_a_steward_the_best_ranked_engineer_of_the_estate_else_the_agent_queue(
        app, client, make_estate, make_engineer, household, make_product, generate, items):
    from community.orders import services as orders

    estate, lonely = make_estate(), make_estate()
    first, second = make_engineer([estate]), make_engineer([estate])
    # the second engineer completes an order in the estate: the ranking puts them first
    customer = household(estate)
    order = client.post("/api/v1/service-requests", headers=headers(customer),
                        json={"estate_id": estate, "service_type": "repair",
                              "preferred_engineer_id": second.engineer_id}).json
    assert client.post(f"/api/v1/engineer/service-orders/{order['id']}/complete",
                       headers=headers(second)).status_code == 200
    with app.app_context():
        assert orders.best_engineer(estate) == second.engineer_id
    ranked = client.get(f"/api/v1/estates/{estate}/engineers", headers=headers(customer)).json["items"]
    assert [r["engineer"]["id"] for r in ranked] == [second.engineer_id, first.engineer_id]

    nobody_home = household(estate)
    mine, _ = make_product(owner_id=nobody_home.user_id, estate_id=estate)
    ownerless, _ = make_product(estate_id=estate, owner_phone="13900001111")  # imported, owner not joined yet
    far, _ = make_product(owner_id=household(lonely).user_id, estate_id=lonely)
    counts = generate()
    assert (counts["steward"], counts["estate"], counts["agent"]) == (0, 2, 1)
    made = {i["product_id"]: i for i in items()}
    assert (made[mine]["route"], made[mine]["engineer_id"]) == ("estate", second.engineer_id)
    assert (made[ownerless]["route"], made[ownerless]["engineer_id"], made[ownerless]["resident_id"]) == (
        "estate", second.engineer_id, None)  # routed even without an owner: the engineer's work
    assert (made[far]["route"], made[far]["engineer_id"]) == ("agent", None)


def test_a_steward_in_another_estate_who_does_not_cover_the_product_is_passed_over(
        app, make_estate, make_engineer, household, make_product, generate, items):
    home_estate, parents_estate = make_estate(), make_estate()
    steward = make_engineer([home_estate])
    there = make_engineer([parents_estate])
    resident = household(home_estate, steward)
    at_home, _ = make_product(owner_id=resident.user_id, estate_id=home_estate)
    at_parents, _ = make_product(owner_id=resident.user_id, estate_id=parents_estate)
    generate()
    made = {i["product_id"]: i for i in items()}
    assert (made[at_home]["route"], made[at_home]["engineer_id"]) == ("steward", steward.engineer_id)
    assert (made[at_parents]["route"], made[at_parents]["engineer_id"]) == ("estate", there.engineer_id)


def test_inactive_products_and_plans_have_no_items_and_leaving_cancels_the_waiting_one(
        app, make_estate, household, make_product, make_plan, generate, items):
    from community.products.models import MaintenancePlan, Product
    from core.extensions import db

    estate = make_estate()
    home = household(estate)
    retired, _ = make_product(owner_id=home.user_id, estate_id=estate, status="retired")
    switched, _ = make_product(owner_id=home.user_id, estate_id=estate, plan_id=make_plan(active=False))
    kept, _ = make_product(owner_id=home.user_id, estate_id=estate)
    assert generate()["created"] == 1
    assert [i["product_id"] for i in items()] == [kept]
    with app.app_context():
        db.session.get(Product, kept).status = "transferred"
        db.session.commit()
    counts = generate()
    assert counts["cancelled"] == 1 and counts["created"] == 0
    assert items()[0]["status"] == "cancelled" and items()[0]["outcome_at"] is not None
    with app.app_context():
        db.session.get(Product, kept).status = "active"
        db.session.execute(sa.update(MaintenancePlan).values(active=True))
        db.session.commit()
    # the plan switched on: its product's item; the kept product's due date had its item already
    assert generate()["created"] == 1
    assert items(status="open")[0]["product_id"] == switched
    with app.app_context():  # the plan switched off again closes its waiting item
        db.session.execute(sa.update(MaintenancePlan).values(active=False))
        db.session.commit()
    assert generate()["cancelled"] == 1
    assert items(status="open") == []


def test_a_service_recorded_from_any_source_closes_the_waiting_item_as_done(app, make_estate, household,
                                                                           make_product, generate, items):
    from community.products.models import ProductSchedule
    from core.extensions import db

    estate = make_estate()
    product, plan = make_product(owner_id=household(estate).user_id, estate_id=estate)
    generate()
    with app.app_context():  # e.g. an imported order: the products area moved the schedule on
        schedule = db.session.get(ProductSchedule, (product, plan))
        schedule.last_done_on, schedule.next_due_on = today(), today() + timedelta(days=182)
        db.session.commit()
    assert generate()["done_by_schedule"] == 1
    assert items()[0]["status"] == "done"


def test_a_schedule_moved_by_a_plan_change_cancels_the_item_and_makes_the_new_dates(app, make_estate, household,
                                                                                   make_product, generate, items):
    from community.products.models import ProductSchedule
    from core.extensions import db

    estate = make_estate()
    product, plan = make_product(owner_id=household(estate).user_id, estate_id=estate)
    generate()
    with app.app_context():  # the last service was long ago; the plan's new interval moves the date
        schedule = db.session.get(ProductSchedule, (product, plan))
        schedule.last_done_on, schedule.next_due_on = today() - timedelta(days=170), today() + timedelta(days=20)
        db.session.commit()
    counts = generate()
    assert (counts["done_by_schedule"], counts["cancelled"], counts["created"]) == (0, 1, 1)
    assert [(i["status"], i["due_on"]) for i in items()] == [
        ("cancelled", today() + timedelta(days=10)), ("open", today() + timedelta(days=20))]


def test_snoozed_items_are_open_again_on_their_day(app, make_estate, household, make_product, generate, items):
    from community.care.models import CareItem
    from core.extensions import db

    estate = make_estate()
    make_product(owner_id=household(estate).user_id, estate_id=estate)
    generate()
    with app.app_context():
        db.session.execute(sa.update(CareItem).values(status="snoozed", snoozed_until=today() + timedelta(days=2)))
        db.session.commit()
    assert generate()["reopened"] == 0
    assert items()[0]["status"] == "snoozed"
    assert generate(today() + timedelta(days=2))["reopened"] == 1
    assert (items()[0]["status"], items()[0]["snoozed_until"]) == ("open", None)


def test_waiting_items_follow_when_the_steward_leaves_and_when_an_engineer_arrives(
        app, client, admin, make_estate, make_engineer, household, make_product, generate, items):
    estate, lonely = make_estate(), make_estate()
    steward, colleague = make_engineer([estate]), make_engineer([estate])
    home = household(estate, steward)
    mine, _ = make_product(owner_id=home.user_id, estate_id=estate)
    far, _ = make_product(owner_id=household(lonely).user_id, estate_id=lonely)
    generate()
    r = client.post(f"/api/v1/admin/engineers/{steward.engineer_id}/deactivate", headers=admin.headers, json={})
    assert r.status_code == 200, r.json
    # a new engineer starts covering the lonely estate
    newcomer = make_engineer([lonely])
    counts = generate()
    assert counts["rerouted"] == 2 and counts["created"] == 0
    made = {i["product_id"]: i for i in items()}
    assert (made[mine]["route"], made[mine]["engineer_id"]) == ("estate", colleague.engineer_id)
    assert (made[far]["route"], made[far]["engineer_id"]) == ("estate", newcomer.engineer_id)
    assert generate()["rerouted"] == 0  # nothing moves twice


def test_the_job_is_registered_and_runs_once_from_the_command_line(app, make_estate, household, make_product, items):
    estate = make_estate()
    make_product(owner_id=household(estate).user_id, estate_id=estate)
    listed = app.test_cli_runner().invoke(args=["jobs", "list"])
    assert "generate-service-reminders\tcron" in listed.output
    assert "notify-service-reminders\tcron" in listed.output
    result = app.test_cli_runner().invoke(args=["jobs", "run-once", "generate-service-reminders"])
    assert result.exit_code == 0, result.output
    assert "'created': 1" in result.output
    assert len(items()) == 1
    result = app.test_cli_runner().invoke(args=["jobs", "run-once", "generate-service-reminders"])
    assert "'created': 0" in result.output and len(items()) == 1
    result = app.test_cli_runner().invoke(args=["jobs", "run-once", "notify-service-reminders"])
    assert result.exit_code == 0 and "'claimed'" in result.output  # inside the notice window or not


def test_the_daily_run_turns_postgresql_jit_off_for_its_own_transaction_only(app):
    """Its plans are large and its statements short: JIT compiling cost more than the work
    (bench/README.md). The setting ends with the run's transaction."""
    from community.care import services
    from core.extensions import db

    with app.app_context():
        services.generate_due_items()
        if db.session.get_bind().dialect.name == "postgresql":
            assert db.session.scalar(sa.text("SHOW jit")) == "off"
            db.session.commit()
            assert db.session.scalar(sa.text("SHOW jit")) != "off"
        db.session.rollback()
