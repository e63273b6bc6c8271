"""The console's queue of flagged bindings on a phone (390×844): each flag a card with its reason,
evidence and decision forms. Screenshot: test-artifacts/screens/phone-binding-flags.png."""
from __future__ import annotations

from playwright.sync_api import expect

from core.extensions import db
from tests.e2e.test_mobile_workbench import (  # noqa: F401 - fixtures
    ADMIN_LINKS,
    PHONE,
    assert_cards,
    assert_fits,
    assert_nav_reachable,
    demo,
    log_in,
    open_page,
    shoot,
)


def test_the_flagged_bindings_on_a_phone(live_app, demo, open_page):  # noqa: F811 - the imported fixtures
    from community.stewards import services
    from community.trust.models import BindingFlag
    from core.accounts.models import User
    with live_app.app_context():
        binding = services.active_binding(db.session.get(User, demo.customer).id)
        db.session.add(BindingFlag(binding_id=binding.id, resident_id=binding.resident_id,
                                   engineer_id=binding.engineer_id, estate_id=binding.estate_id,
                                   reason="far_from_estate", status="open",
                                   details={"distance_m": 4412, "latitude": 22.58, "longitude": 113.95,
                                            "limit_m": 3000}))
        db.session.commit()
    page = open_page(PHONE)
    log_in(page, live_app.url, *demo.admin, "概览")
    page.goto(live_app.url + "/admin/binding-flags")
    expect(page.get_by_test_id("flag-row")).to_have_count(1)
    assert_fits(page, "binding-flags")
    assert_nav_reachable(page, ADMIN_LINKS, "binding-flags")
    assert_cards(page, "binding-flags")
    shoot(page, "phone-binding-flags")
    page.get_by_role("button", name="通过", exact=True).click()
    expect(page.get_by_text("已判定为正常")).to_be_visible()
