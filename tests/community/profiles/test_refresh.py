"""Profiles are refreshed set-based (one INSERT … SELECT … ON CONFLICT DO UPDATE) from the estate,
the last 12 full months of its month statistics (Asia/Shanghai) and its active steward bindings;
the daily job refreshes every estate."""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

from core.formatting import BUSINESS_TZ


def profile(estate_id: int):
    from community.profiles.models import EstateProfile
    from core.extensions import db
    db.session.expire_all()
    return db.session.get(EstateProfile, estate_id)


def test_the_window_is_the_last_12_full_months_in_shanghai(ctx):
    from community.profiles import services
    assert services.profile_months(datetime(2026, 3, 15, 2, tzinfo=timezone.utc)) == ("2025-03", "2026-03")
    # 00:30 on 1 January in Shanghai is still December in UTC: Shanghai's month counts
    new_year = datetime(2026, 1, 1, 0, 30, tzinfo=BUSINESS_TZ).astimezone(timezone.utc)
    assert services.profile_months(new_year) == ("2025-01", "2026-01")
    assert services.profile_months(datetime(2025, 12, 31, 15, 59, tzinfo=timezone.utc)) == ("2024-12", "2025-12")


def test_figures_of_an_estate(ctx, estate, month_stats, bindings):
    from community.profiles import services
    from core.extensions import db
    now = datetime(2026, 3, 15, 2, tzinfo=timezone.utc)
    a = estate(households=400)
    month_stats(a, "2025-02", orders=100, complaints=9, ratings_count=9, ratings_sum=9)  # 13 months back: out
    month_stats(a, "2025-03", orders=6, complaints=1, ratings_count=2, ratings_sum=10)  # first month in
    month_stats(a, "2026-02", orders=4, complaints=1, ratings_count=3, ratings_sum=11)  # last full month
    month_stats(a, "2026-03", orders=50, complaints=5, ratings_count=5, ratings_sum=5)  # this month: not yet
    bindings(a, 100, ended=50)
    written = services.refresh_profiles(now=now)
    db.session.commit()
    assert written >= 1
    p = profile(a)
    assert (p.households, p.orders_12m, p.complaints_12m, p.bound_residents) == (400, 10, 2, 100)
    assert p.orders_per_1000 == 25.0 and p.complaints_per_1000 == 5.0
    assert p.avg_rating == 21 / 5
    assert p.coverage == 0.25
    assert p.refreshed_at == now


def test_no_households_no_ratings_and_coverage_capped(ctx, estate, month_stats, bindings):
    from community.profiles import services
    from core.extensions import db
    first, _ = services.profile_months()
    empty, small, quiet = estate(households=0), estate(households=10), estate(households=50)
    month_stats(empty, first, orders=3)
    bindings(empty, 2)
    bindings(small, 12)  # more bound residents than households (data entered late): 100 %
    assert services.refresh_profiles([empty, small, quiet]) == 3
    db.session.commit()
    p = profile(empty)
    assert p.orders_12m == 3 and p.orders_per_1000 is None and p.complaints_per_1000 is None and p.coverage is None
    assert profile(small).coverage == 1.0
    q = profile(quiet)
    assert (q.orders_12m, q.orders_per_1000, q.avg_rating, q.coverage, q.bound_residents) == (0, 0.0, None, 0.0, 0)


def test_a_second_refresh_updates_the_same_row_and_only_the_estates_named(ctx, estate, month_stats):
    from community.estates import services as estates
    from community.profiles import services
    from community.profiles.models import EstateProfile
    from core.extensions import db
    first, _ = services.profile_months()
    a, b = estate(households=100), estate(households=100)
    services.refresh_profiles()
    db.session.commit()
    month_stats(a, first, orders=5)
    month_stats(b, first, orders=7)
    estates.update_estate(estates.get_estate(a), {"households": 200}, actor=None)
    services.refresh_profiles([a])
    db.session.commit()
    assert (profile(a).households, profile(a).orders_12m, profile(a).orders_per_1000) == (200, 5, 25.0)
    assert profile(b).orders_12m == 0  # not named: unchanged until the next full refresh
    assert services.refresh_profiles([]) == 0
    services.refresh_profiles()
    db.session.commit()
    assert profile(b).orders_12m == 7
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EstateProfile)) == 2


def test_the_daily_job_refreshes_every_estate(app, estate):
    from community.profiles.jobs import JOBS
    from core.scheduler import run_job
    ids = {estate(), estate()}
    job = next(j for j in JOBS if j.name == "refresh-estate-profiles")
    assert job.trigger == "cron" and job.trigger_args["timezone"] == "Asia/Shanghai"
    assert run_job(app, job) == 2
    from community.profiles.models import EstateProfile
    from core.extensions import db
    assert set(db.session.scalars(sa.select(EstateProfile.estate_id))) == ids


def test_the_console_shows_the_figures_and_refreshes_one_estate(console, make_estate):
    from tests.conftest import html, post_form
    estate_id = make_estate(households=100)
    page = console.get(f"/admin/estates/{estate_id}/profile")
    assert page.status_code == 200 and "尚未计算" in html(page)
    r = post_form(console, f"/admin/estates/{estate_id}/profile", f"/admin/estates/{estate_id}/profile/refresh", {},
                  follow_redirects=True)
    assert "画像数据已更新" in html(r) and 'data-testid="profile-figures"' in html(r)
    assert "画像与标签" in html(console.get(f"/admin/estates/{estate_id}"))


def test_the_profile_api(client, admin, agent, make_estate):
    estate_id = make_estate(households=100)
    r = client.get(f"/api/v1/admin/estates/{estate_id}/profile", headers=agent.headers)
    assert r.status_code == 200 and r.json == {"estate_id": estate_id, "profile": None, "tags": []}
    assert client.post(f"/api/v1/admin/estates/{estate_id}/profile/refresh", headers=agent.headers).status_code == 403
    r = client.post(f"/api/v1/admin/estates/{estate_id}/profile/refresh", headers=admin.headers)
    assert r.status_code == 200 and r.json["profile"]["households"] == 100 and r.json["profile"]["coverage"] == 0.0
    assert client.get("/api/v1/admin/estates/999999/profile", headers=admin.headers).json["error"]["code"] == \
        "estate_not_found"
