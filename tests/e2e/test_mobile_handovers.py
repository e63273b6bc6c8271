"""The console's steward-change queue on a phone (390×844): a resident's change request with its
approve and reject forms, as cards. Screenshot: test-artifacts/screens/phone-handovers.png."""
from __future__ import annotations

import sqlalchemy as sa
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


def test_the_change_requests_on_a_phone(live_app, demo, open_page):  # noqa: F811 - the imported fixtures
    from community.estates import services as places
    from community.estates.models import Engineer
    from community.stewards import services
    from core.accounts.models import User
    with live_app.app_context():
        resident = db.session.get(User, demo.customer)
        binding = services.active_binding(resident.id)
        other = db.session.scalars(sa.select(Engineer).where(
            Engineer.status == "active", Engineer.id != binding.engineer_id).order_by(Engineer.id)).first()
        places.set_engineer_estates(other, [e.id for e in other.estates] + [binding.estate_id], actor=None)
        services.request_change(resident, other.id, "希望换一位周末能上门的师傅，平时工作日家里没人，" * 2)
        db.session.commit()
    page = open_page(PHONE)
    log_in(page, live_app.url, *demo.admin, "概览")
    page.goto(live_app.url + "/admin/handovers")
    expect(page.get_by_test_id("handover-row")).to_have_count(1)
    assert_fits(page, "handovers")
    assert_nav_reachable(page, ADMIN_LINKS, "handovers")
    assert_cards(page, "handovers")
    shoot(page, "phone-handovers")
    page.get_by_test_id("approve").click()
    expect(page.get_by_text("已通过，住户的管家已更换")).to_be_visible()
