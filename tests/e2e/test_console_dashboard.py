"""The console's dashboard and the estate league on the demo data, on a phone (390×844) and a
desktop: the work queues and the SVG charts show, nothing sticks out sideways (the league's
grid scrolls inside its card). Screenshots go to test-artifacts/screens/."""
from __future__ import annotations

from tests.e2e.test_mobile_workbench import DESKTOP, PHONE, assert_fits, log_in, shoot


def test_dashboard_and_league_read_on_a_phone_and_a_desktop(live_app, browser):
    from community.orders import services as orders
    from community.profiles.jobs import refresh_region_figures
    from core.extensions import db
    from demo import data

    with live_app.app_context():
        assert data.seed()
        orders.rebuild_stats()  # the demo's history into the rollups (the CLI's rebuild-stats)
        refresh_region_figures()
        db.session.commit()
    for size, options in (("phone", PHONE), ("desktop", DESKTOP)):
        context = browser.new_context(locale="zh-CN", **options)
        page = context.new_page()
        page.set_default_timeout(10_000)
        log_in(page, live_app.url, *data.ADMIN, heading="概览")
        assert page.locator('[data-testid="queue"]').count() >= 5
        assert page.locator('[data-testid="chart-bindings"] svg rect.bar').count() == 30
        assert page.locator('[data-testid="chart-months"] svg path.line').count() == 2
        assert_fits(page, f"dashboard ({size})")
        shoot(page, f"console-dashboard-{size}")
        page.goto(live_app.url + "/admin/estate-league")
        assert page.locator('[data-testid="league-row"]').count() > 0
        assert_fits(page, f"league ({size})")
        shoot(page, f"console-league-{size}")
        context.close()
