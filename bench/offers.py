"""Per-estate offers benchmark (千区千面): matching one offer after a rule change, an estate's offer
list with 1,000 live offers, and concurrent coupon claims, on 500,000 estates.

    .venv/bin/python bench/offers.py [--estates 500000] [--offers 1000]

Everything runs on this machine and is torn down at the end (also on Ctrl-C and errors):

1. a fresh PostgreSQL database (unique name) on --pg, migrated with `flask db upgrade`;
2. data by set-based SQL (a fixed random seed), each step timed: --estates estates in 40 cities
   of 10 provinces (8 districts each, coordinates scattered ±0.3° around each city, 1% inactive,
   100–5,000 households); estate tags (新小区 30%, 老旧小区 20%, 学区房 15%, 次新小区 10%, 别墅 5%,
   高端住宅 3%); 12 months of statistics for a fifth of the estates;
3. `community.profiles.services.refresh_profiles()` in an app context, timed (every estate's
   figures, one INSERT … SELECT … ON CONFLICT DO UPDATE); coverage is then set at random (0–80%),
   standing in for steward bindings, which this benchmark does not seed;
4. the things offers show, through the services: 20 claimable coupon templates, 10 activities,
   10 rewards, a partner with 10 published services; then --offers live offers by SQL (half
   coupons, a fifth activities, the rest rewards and services), each matching a share of the
   estates (every 60th to 140th estate; 5 of them every estate): their `offer_estates` rows;
   `VACUUM ANALYZE`;
5. `refresh_matches` of one offer after rule changes, in process, each timed with its commit:
   publishing (from nothing), a rule change that keeps part of the estates, a change to every
   active estate, a distance-and-tags rule, and the same rule again (nothing to write);
6. the estate's list: the app under gunicorn (`wsgi:app`, --workers sync workers); one client
   sends --requests sequential `GET /api/v1/estates/{id}/offers` for random active estates with
   the tokens of residents (stored hashed, as the app stores them), after a warm-up: client
   latency p50/p95/p99 and gunicorn's own time (`%(D)s`);
7. claims: the app under gunicorn with gthread workers (--claim-workers × --claim-threads), a
   template with stock 50 and a per-user limit of 1 offered in one estate, and 100 residents of it
   each claiming once, all released at the same moment; then a template with a per-user limit of
   2 and one resident sending 100 claims at once. The coupons issued must equal the stock and the
   limit.

The machine is shared: the load average is printed with the figures. Figures are printed with
the command that reproduces them and written into bench/README.md (only runs at the issue's
sizes; --no-readme leaves it alone). `--estates 20000` is a quick trial.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import os
import random
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# With bench/ first on sys.path, `import community` would find bench/community.py instead of the
# app's community package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import requests  # noqa: E402

from bench.binding import (  # noqa: E402
    SECRET_KEY,
    BenchError,
    Interrupted,
    Processes,
    app_env,
    free_port,
    gunicorn_argv,
    log,
    machine_info,
    percentile,
    read_access_log,
    wait_ready,
)
from bench.community import fresh_database, vacuum_analyze  # noqa: E402

README = ROOT / "bench" / "README.md"
README_START = "<!-- offers.py results: start (written by bench/offers.py) -->"
README_END = "<!-- offers.py results: end -->"
HISTORY_HEADER = ("| date (UTC) | estates | offer_estates rows | profiles s | rule change s (worst) | list p99 ms "
                  "| claims issued (stock 50 / limit 2) | load |")
HISTORY_KEEP = 6
ISSUE_SIZES = {"estates": 500_000, "offers": 1000}

TARGET_REFRESH_S = 30.0
TARGET_LIST_P99_MS = 50.0
TOKEN_PREFIX = "lnl_"  # core.accounts.services.TOKEN_PREFIX
LIST_RE = re.compile(r"^/api/v1/estates/\d+/offers$")
PROVINCES = ("广东省", "浙江省", "江苏省", "山东省", "四川省", "湖北省", "福建省", "河南省", "湖南省", "安徽省")
TAGS = (("新小区", 30, 7), ("老旧小区", 20, 11), ("学区房", 15, 13), ("次新小区", 10, 17), ("别墅", 5, 19),
        ("高端住宅", 3, 23))
CLAIMS = 100
STOCK = 50
LIMIT = 2


# -- the data ---------------------------------------------------------------------------------

# Parameters: now, estates, provinces, shanghai_month (YYYY-MM of the current month in Shanghai).
SEED_SQL = [
    ("estates", """INSERT INTO estates (id, code, name, province, city, district, address, lat, lng, households,
                                        status, created_at, updated_at)
        SELECT g, 'OF' || lpad(g::text, 7, '0'), '基准小区' || g, (%(provinces)s::text[])[1 + (g %% 40) / 4],
               replace((%(provinces)s::text[])[1 + (g %% 40) / 4], '省', '') || (ARRAY['一', '二', '三', '四'])[1 + g %% 4] || '市',
               (ARRAY['东', '西', '南', '北', '中', '新', '高新', '滨海'])[1 + (g / 40) %% 8] || '区', '基准路 ' || g || ' 号',
               round((22 + (g %% 40 %% 8) * 3.0 + (random() - 0.5) * 0.6)::numeric, 6),
               round((102 + (g %% 40 / 8) * 4.0 + (random() - 0.5) * 0.6)::numeric, 6),
               100 + (random() * 4900)::int, CASE WHEN g %% 100 = 0 THEN 'inactive' ELSE 'active' END, %(now)s, %(now)s
        FROM generate_series(1, %(estates)s) g"""),
    ("estate_tags", """INSERT INTO estate_tags (estate_id, tag, created_at)
        SELECT g, t.tag, %(now)s FROM generate_series(1, %(estates)s) g
        JOIN (VALUES """ + ", ".join(f"('{tag}', {share}, {prime})" for tag, share, prime in TAGS) + """) t(tag, share, prime)
          ON (g * t.prime + t.prime * 31) %% 100 < t.share"""),
    ("estate_month_stats", """INSERT INTO estate_month_stats (estate_id, month, orders, complaints, ratings_count,
                                                              ratings_sum)
        SELECT g, to_char(to_date(%(shanghai_month)s, 'YYYY-MM') - make_interval(months => m), 'YYYY-MM'),
               o, (o * random() * 0.1)::int, r, (r * (3 + random() * 2))::int
        FROM generate_series(5, %(estates)s, 5) g, generate_series(1, 12) m,  -- 0 * g: drawn per row
             LATERAL (SELECT (random() * 8 + 0 * g)::int AS o, (random() * 4 + 0 * m)::int AS r) x"""),
]


def seed(args, database_url: str, now: datetime.datetime) -> dict:
    params = {"now": now, "estates": args.estates, "provinces": list(PROVINCES),
              "shanghai_month": now.replace(tzinfo=datetime.timezone.utc).astimezone(
                  datetime.timezone(datetime.timedelta(hours=8))).strftime("%Y-%m")}
    counts, timings = {}, {}
    with psycopg.connect(database_url) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '256MB'")
        conn.execute("SELECT setseed(0.42)")
        for table, sql in SEED_SQL:
            t0 = time.monotonic()
            counts[table] = conn.execute(sql, params).rowcount
            conn.commit()
            timings[table] = time.monotonic() - t0
            log(f"seeded {counts[table]:,} rows of {table} in {timings[table]:.1f} s")
        conn.execute("SELECT setval(pg_get_serial_sequence('estates', 'id'), (SELECT max(id) FROM estates))")
        conn.commit()
    return {"counts": counts, "timings": timings}


def build_app(database_url: str):
    from core import create_app
    from core.config import normalise_database_url
    return create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url), "SECRET_KEY": SECRET_KEY,
                       "RATELIMIT_ENABLED": False, "RATELIMIT_STORAGE_URI": "memory://", "LOG_LEVEL": "WARNING"})


def refresh_profiles(app, database_url: str) -> dict:
    from community.profiles import services as profiles
    from core.extensions import db
    with app.app_context():
        t0 = time.monotonic()
        rows = profiles.refresh_profiles()
        db.session.commit()
        seconds = time.monotonic() - t0
    with psycopg.connect(database_url) as conn:
        conn.execute("SELECT setseed(0.17)")
        conn.execute("UPDATE estate_profiles SET coverage = CASE WHEN households > 0 THEN random() * 0.8 END, "
                     "bound_residents = (households * random() * 0.8)::int")
        rated = conn.execute("SELECT count(avg_rating) FROM estate_profiles").fetchone()[0]
    log(f"refresh_profiles: {rows:,} rows in {seconds:.1f} s ({rated:,} estates with ratings)")
    return {"rows": rows, "seconds": seconds, "rated": rated}


def make_things(app, database_url: str, now: datetime.datetime) -> dict:
    """The things offers name, through the services (an admin decides them); returns their ids."""
    from activation.activities import services as activities
    from activation.coupons import services as coupons
    from activation.partners.models import Partner, PartnerListing
    from core.accounts import services as accounts
    from core.extensions import db
    from points import services as points
    aware = now.replace(tzinfo=datetime.timezone.utc)
    with app.app_context():
        admin = accounts.create_staff("bench-admin", secrets.token_urlsafe(12), {"admin"})
        db.session.flush()
        templates = [coupons.create_template({"name": f"优惠券{i}", "kind": "amount", "amount_fen": 500 + i * 100,
                                              "min_spend_fen": 5000, "valid_days": 30, "total_stock": 100_000,
                                              "per_user_limit": 1, "claimable": True}, admin).id for i in range(20)]
        acts = [activities.create_activity(admin, {
            "title": f"社区活动{i}", "place": "小区会所", "starts_at": aware + datetime.timedelta(days=3 + i),
            "ends_at": aware + datetime.timedelta(days=3 + i, hours=2), "capacity": 50,
            "estate_ids": [1 + i]}).id for i in range(10)]
        rewards = [points.create_reward({"name": f"好礼{i}", "cost": 100 + 10 * i}, admin).id for i in range(10)]
        partner = Partner(code="PBENCH01", name="基准家政", category="家政", contact_name="王经理",
                          contact_phone="13800138000", reach_rule={}, status="approved")
        db.session.add(partner)
        db.session.flush()
        listings = []
        for i in range(10):
            x = PartnerListing(partner_id=partner.id, kind="service", title=f"上门保洁{i}", body="三小时全屋保洁",
                               price_fen=9900 + 1000 * i, price_note="起", signup_mode="platform",
                               status="published", created_by_id=admin.id)
            db.session.add(x)
            db.session.flush()
            listings.append(x.id)
        db.session.commit()
        return {"admin_id": admin.id, "coupon": templates, "activity": acts, "reward": rewards,
                "partner_service": listings, "partner_id": partner.id}


OFFERS_SQL = """
    INSERT INTO offers (kind, ref_id, title, summary, rule, starts_at, ends_at, status, partner_id, matched, matched_at,
                        notify_state, notify_cursor, notified, created_by_id, published_at, created_at, updated_at)
    SELECT k.kind, k.ref_id, k.kind || ' 投放 ' || g, '基准投放', '{}'::json, %(starts)s, %(ends)s, 'published',
           CASE WHEN k.kind = 'partner_service' THEN %(partner_id)s END, 0, %(now)s, 'done', 0, 0, %(admin_id)s,
           %(now)s, %(now)s, %(now)s
    FROM generate_series(1, %(offers)s) g,
         LATERAL (SELECT CASE WHEN g %% 20 < 10 THEN 'coupon' WHEN g %% 20 < 14 THEN 'activity'
                              WHEN g %% 20 < 17 THEN 'reward' ELSE 'partner_service' END AS kind) c,
         LATERAL (SELECT c.kind, CASE c.kind WHEN 'coupon' THEN (%(coupon)s::bigint[])[1 + g %% 20]
                                             WHEN 'activity' THEN (%(activity)s::bigint[])[1 + g %% 10]
                                             WHEN 'reward' THEN (%(reward)s::bigint[])[1 + g %% 10]
                                             ELSE (%(partner_service)s::bigint[])[1 + g %% 10] END AS ref_id) k"""

OFFER_ESTATES_SQL = """
    INSERT INTO offer_estates (offer_id, estate_id)
    SELECT o.id, e FROM offers o,
         LATERAL (SELECT CASE WHEN o.id <= 5 THEN 1 ELSE 60 + (o.id * 7919) %% 81 END AS step) s,
         LATERAL generate_series(1 + (o.id * 104729) %% s.step, %(estates)s, s.step) e
    WHERE e %% 100 <> 0"""  # the inactive estates (every 100th) match nothing


def seed_offers(args, database_url: str, now: datetime.datetime, things: dict) -> dict:
    params = {**{k: things[k] for k in ("coupon", "activity", "reward", "partner_service", "partner_id", "admin_id")},
              "now": now, "starts": now - datetime.timedelta(days=1), "ends": now + datetime.timedelta(days=30),
              "offers": args.offers, "estates": args.estates}
    with psycopg.connect(database_url) as conn:
        conn.execute("SET synchronous_commit = off")
        t0 = time.monotonic()
        offers = conn.execute(OFFERS_SQL, params).rowcount
        conn.commit()
        t1 = time.monotonic()
        rows = conn.execute(OFFER_ESTATES_SQL, params).rowcount
        conn.execute("UPDATE offers SET matched = m.n FROM (SELECT offer_id, count(*) n FROM offer_estates "
                     "GROUP BY offer_id) m WHERE m.offer_id = offers.id")
        conn.commit()
        t2 = time.monotonic()
    log(f"seeded {offers:,} live offers in {t1 - t0:.1f} s and their {rows:,} offer_estates rows in {t2 - t1:.1f} s "
        f"({rows / max(1, args.estates * 0.99):.1f} live offers per active estate on average)")
    return {"offers": offers, "offer_estates": rows, "seconds": t2 - t0}


# -- 5. matching one offer ----------------------------------------------------------------------

def rule_changes(now: datetime.datetime) -> list[tuple[str, dict]]:
    return [
        ("publish: 3 of 10 provinces", {"provinces": list(PROVINCES[:3])}),
        ("rule change: 2 of those provinces + 2 others, ≥ 800 households, no 老旧小区, coverage ≥ 10%",
         {"provinces": [PROVINCES[1], PROVINCES[2], PROVINCES[5], PROVINCES[6]], "households": {"min": 800},
          "tags_none": ["老旧小区"], "coverage": {"min": 0.1}}),
        ("rule change: every active estate", {}),
        ("rule change: within 50 km of a city centre, 新小区 or 学区房, rated ≥ 4",
         {"near": {"lat": 28.0, "lng": 106.0, "radius_km": 50}, "tags_any": ["新小区", "学区房"],
          "avg_rating": {"min": 4}}),
        ("the same rule again (nothing to write)", None),
    ]


def time_refreshes(app, things: dict, now: datetime.datetime) -> list[dict]:
    from activation.offers import services as offers
    from core.accounts.models import User
    from core.extensions import db
    aware = now.replace(tzinfo=datetime.timezone.utc)
    runs = []
    with app.app_context():
        admin = db.session.get(User, things["admin_id"])
        offer = offers.create_offer({"kind": "coupon", "ref_id": things["coupon"][0], "rule": {},
                                     "starts_at": aware - datetime.timedelta(hours=1),
                                     "ends_at": aware + datetime.timedelta(days=30)}, admin)
        db.session.commit()
        offer_id = offer.id
        for i, (label, rule) in enumerate(rule_changes(now)):
            before = offers.get_offer(offer_id).matched
            t0 = time.monotonic()
            if i == 0:
                offer = offers.update_offer(offer_id, {"rule": rule}, admin)
                offer = offers.publish(offer_id, admin)
            elif rule is None:
                offers.refresh_matches(offer_id)
            else:
                offer = offers.update_offer(offer_id, {"rule": rule}, admin)
            db.session.commit()
            seconds = time.monotonic() - t0
            matched = offers.get_offer(offer_id).matched
            runs.append({"label": label, "seconds": seconds, "before": before, "matched": matched})
            log(f"refresh_matches, {label}: {seconds:.2f} s ({before:,} → {matched:,} estates)")
        # take it down again: the list measurement reads the seeded offers only
        offers.withdraw_offer(offer_id, admin)
        db.session.commit()
    return runs


# -- 6. the estate's list -----------------------------------------------------------------------

def residents(database_url: str, now: datetime.datetime, estate_ids: list[int], start_id: int) -> list[dict]:
    """Users living in these estates, with bearer tokens stored as their SHA-256 (as issue_token)."""
    people = []
    with psycopg.connect(database_url) as conn:
        for i, estate_id in enumerate(estate_ids):
            user_id = start_id + i
            token = TOKEN_PREFIX + secrets.token_urlsafe(32)
            conn.execute("INSERT INTO users (id, display_name, roles, status, created_at) "
                         "VALUES (%s, %s, 'resident', 'active', %s)", (user_id, f"住户{user_id}", now))
            conn.execute("INSERT INTO residencies (user_id, estate_id, source, joined_at) VALUES (%s, %s, 'self', %s)",
                         (user_id, estate_id, now))
            conn.execute("INSERT INTO api_tokens (user_id, token_hash, kind, created_at, expires_at) "
                         "VALUES (%s, encode(sha256(%s::bytea), 'hex'), 'wechat', %s, %s)",
                         (user_id, token.encode(), now, now + datetime.timedelta(days=30)))
            people.append({"user_id": user_id, "estate_id": estate_id, "token": token})
        conn.execute("SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users))")
    return people


def list_http(args, procs: Processes, env: dict, tmp: Path, readers: list[dict]) -> dict:
    port = free_port()
    access_log = tmp / "access.log"
    app = procs.start("gunicorn (app)", gunicorn_argv(args, port, "wsgi:app", access_log, tmp / "gunicorn.log"),
                      env, tmp / "gunicorn.out")
    url = f"http://127.0.0.1:{port}"
    wait_ready(app, url + "/healthz")
    log(f"app {url} ({args.workers} {args.worker_class} workers)")
    session = requests.Session()
    items: list[int] = []

    def get(reader: dict, bench_id: str) -> float:
        t0 = time.perf_counter()
        response = session.get(f"{url}/api/v1/estates/{reader['estate_id']}/offers", timeout=30, headers={
            "Authorization": f"Bearer {reader['token']}", "X-Bench-Id": bench_id})
        elapsed = time.perf_counter() - t0
        if response.status_code != 200:
            raise BenchError(f"GET /api/v1/estates/{reader['estate_id']}/offers: {response.status_code} "
                             f"{response.text[:300]}")
        items.append(len(response.json()["items"]))
        return elapsed

    for i in range(args.warmup):
        get(readers[i % len(readers)], f"warm-{i}")
    _, offset = read_access_log(access_log)
    items.clear()
    latencies, ids = [], set()
    started = time.monotonic()
    for i in range(args.requests):
        ids.add(f"list-{i}")
        latencies.append(get(readers[i % len(readers)], f"list-{i}") * 1000)
    wall = time.monotonic() - started
    time.sleep(0.5)
    lines, _ = read_access_log(access_log, offset)
    server = [line.micros / 1000 for line in lines if line.bench_id in ids and LIST_RE.match(line.path)]
    procs.stop_all()
    out = {"requests": args.requests, "wall_s": wall, "p50": percentile(latencies, 50),
           "p95": percentile(latencies, 95), "p99": percentile(latencies, 99), "max": max(latencies),
           "server_p50": percentile(server, 50), "server_p99": percentile(server, 99),
           "items_mean": sum(items) / len(items), "items_max": max(items)}
    log(f"estate offers list: p50 {out['p50']:.1f} ms, p95 {out['p95']:.1f} ms, p99 {out['p99']:.1f} ms (server p50 "
        f"{out['server_p50']:.1f}, p99 {out['server_p99']:.1f} ms), {out['items_mean']:.1f} items a page")
    return out


# -- 7. claims --------------------------------------------------------------------------------

def claims_http(args, procs: Processes, env: dict, tmp: Path, app, things: dict, database_url: str,
                now: datetime.datetime, next_user: int) -> dict:
    from activation.coupons import services as coupons
    from activation.offers import services as offers
    from core.accounts.models import User
    from core.extensions import db
    aware = now.replace(tzinfo=datetime.timezone.utc)
    estate_id = 2  # active (every 100th is not)
    with app.app_context():
        admin = db.session.get(User, things["admin_id"])
        stocked = coupons.create_template({"name": "限量券", "kind": "amount", "amount_fen": 1000, "valid_days": 7,
                                           "total_stock": STOCK, "per_user_limit": 1, "claimable": True}, admin).id
        limited = coupons.create_template({"name": "每人两张", "kind": "amount", "amount_fen": 500, "valid_days": 7,
                                           "per_user_limit": LIMIT, "claimable": True}, admin).id
        for template_id in (stocked, limited):
            offers.publish_offer(kind="coupon", ref_id=template_id, rule={"estate_ids": [estate_id]},
                                 starts_at=aware - datetime.timedelta(hours=1), ends_at=aware + datetime.timedelta(days=7),
                                 actor=admin)
        db.session.commit()
    people = residents(database_url, now, [estate_id] * (CLAIMS + 1), next_user)
    many, one = people[:CLAIMS], people[CLAIMS]

    port = free_port()
    argv = gunicorn_argv(argparse.Namespace(workers=args.claim_workers, worker_class="gthread",
                                            threads=args.claim_threads), port, "wsgi:app", tmp / "claims-access.log",
                         tmp / "claims-gunicorn.log")
    server = procs.start("gunicorn (claims)", argv, env, tmp / "claims.out")
    url = f"http://127.0.0.1:{port}"
    wait_ready(server, url + "/healthz")
    log(f"claims app {url} ({args.claim_workers} gthread workers × {args.claim_threads} threads)")

    def storm(template_id: int, tokens: list[str]) -> dict:
        barrier = threading.Barrier(len(tokens))

        def claim(token: str) -> tuple[int, str]:
            s = requests.Session()
            s.get(url + "/healthz", timeout=10)  # connected before the start
            barrier.wait()
            r = s.post(f"{url}/api/v1/coupon-templates/{template_id}/claim", json={}, timeout=60,
                       headers={"Authorization": f"Bearer {token}"})
            return r.status_code, (r.json().get("error") or {}).get("code", "") if r.status_code >= 400 else ""

        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(len(tokens)) as pool:
            outcomes = list(pool.map(claim, tokens))
        seconds = time.monotonic() - t0
        with psycopg.connect(database_url) as conn:
            issued, holders = conn.execute("SELECT count(*), count(DISTINCT user_id) FROM coupons WHERE template_id = %s",
                                           (template_id,)).fetchone()
            counter = conn.execute("SELECT issued FROM coupon_templates WHERE id = %s", (template_id,)).fetchone()[0]
        codes: dict[str, int] = {}
        for status, code in outcomes:
            key = str(status) + (f" {code}" if code else "")
            codes[key] = codes.get(key, 0) + 1
        return {"seconds": seconds, "issued": issued, "holders": holders, "counter": counter, "responses": codes}

    stock_run = storm(stocked, [p["token"] for p in many])
    log(f"{CLAIMS} residents claim a template with stock {STOCK}: {stock_run['issued']} issued to "
        f"{stock_run['holders']} residents (template counter {stock_run['counter']}), responses {stock_run['responses']}")
    limit_run = storm(limited, [one["token"]] * CLAIMS)
    log(f"one resident claims {CLAIMS} times at once, limit {LIMIT}: {limit_run['issued']} issued, responses "
        f"{limit_run['responses']}")
    procs.stop_all()
    return {"stock": stock_run, "limit": limit_run, "workers": args.claim_workers, "threads": args.claim_threads}


# -- report -----------------------------------------------------------------------------------

def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def command_line(args) -> str:
    parts = [".venv/bin/python", "bench/offers.py"]
    defaults = build_parser().parse_args([])
    for name in ("estates", "offers", "requests", "warmup", "workers", "claim_workers", "claim_threads", "pg"):
        value = getattr(args, name)
        if value != getattr(defaults, name):
            parts += [f"--{name.replace('_', '-')}", str(value)]
    return shlex.join(parts)


def targets_of(result: dict) -> list[tuple[str, bool, str]]:
    changes = result["refreshes"][1:4]
    worst = max(changes, key=lambda r: r["seconds"])
    lst, claims = result["list"], result["claims"]
    return [
        (f"refresh_matches after a rule change < {TARGET_REFRESH_S:.0f} s", worst["seconds"] < TARGET_REFRESH_S,
         f"worst {worst['seconds']:.1f} s: {worst['label']}"),
        (f"GET /api/v1/estates/{{id}}/offers p99 < {TARGET_LIST_P99_MS:.0f} ms", lst["p99"] < TARGET_LIST_P99_MS,
         f"{lst['p99']:.1f} ms"),
        (f"{CLAIMS} concurrent claims, stock {STOCK}: issued = {STOCK}", claims["stock"]["issued"] == STOCK
         and claims["stock"]["holders"] == STOCK and claims["stock"]["counter"] == STOCK,
         f"{claims['stock']['issued']} issued"),
        (f"{CLAIMS} concurrent claims by one resident, limit {LIMIT}: issued = {LIMIT}",
         claims["limit"]["issued"] == LIMIT, f"{claims['limit']['issued']} issued"),
    ]


def report_lines(result: dict, markdown: bool) -> list[str]:
    m, s, p, o, lst, c = (result["machine"], result["seed"], result["profiles"], result["offers"], result["list"],
                          result["claims"])
    b = "**" if markdown else ""
    data = (f"{s['counts']['estates']:,} estates (1% inactive) in 40 cities, {s['counts']['estate_tags']:,} tags, "
            f"{s['counts']['estate_month_stats']:,} month statistics ({p['rated']:,} estates rated); "
            f"{o['offers']:,} live offers with {o['offer_estates']:,} offer_estates rows "
            f"({o['offer_estates'] / max(1, s['counts']['estates'] * 0.99):.1f} per active estate); seeded by "
            f"set-based SQL, VACUUM ANALYZE {result['vacuum_s']:.0f} s")
    refresh_rows = [f"{r['label']}: {b}{r['seconds']:.2f} s{b} ({r['before']:,} → {r['matched']:,} estates)"
                    for r in result["refreshes"]]
    claims = [f"{CLAIMS} residents claim once each, stock {STOCK}, limit 1: {b}{c['stock']['issued']} issued{b} to "
              f"{c['stock']['holders']} residents (the template's counter {c['stock']['counter']}); responses "
              f"{json.dumps(c['stock']['responses'], ensure_ascii=False)}; {c['stock']['seconds']:.1f} s",
              f"one resident claims {CLAIMS} times at once, limit {LIMIT}: {b}{c['limit']['issued']} issued{b}; "
              f"responses {json.dumps(c['limit']['responses'], ensure_ascii=False)}; {c['limit']['seconds']:.1f} s"]
    listing = (f"{lst['requests']} sequential requests for random active estates after {result['warmup']} warm-up: "
               f"p50 {lst['p50']:.1f} ms, p95 {lst['p95']:.1f} ms, {b}p99 {lst['p99']:.1f} ms{b}, max "
               f"{lst['max']:.1f} ms; server p50 {lst['server_p50']:.1f} ms, p99 {lst['server_p99']:.1f} ms; "
               f"{lst['items_mean']:.1f} offers a page on average (at most {lst['items_max']})")
    targets = [f"{name}: {verdict(ok)} ({detail})" for name, ok, detail in targets_of(result)]
    if markdown:
        out = [f"Run of {result['date']} UTC: `{result['command']}`", "",
               f"Machine: {m['nproc']} CPUs ({m['cpu']}), PostgreSQL {m['postgres']} (shared_buffers "
               f"{result['pg']['shared_buffers']}, work_mem {result['pg']['work_mem']}), Python {m['python']}, "
               f"gunicorn {m['gunicorn']}; load average {m['loadavg_start'][0]:.2f} at the start, "
               f"{result['loadavg_end'][0]:.2f} at the end.", "", f"Data: {data}.", "",
               f"- `refresh_profiles()`, every estate: {b}{p['seconds']:.1f} s{b} ({p['rows']:,} rows)", "",
               "`refresh_matches` of one offer (in process, with the commit):", ""]
        out += [f"- {line}" for line in refresh_rows]
        out += ["", f"`GET /api/v1/estates/{{id}}/offers` under gunicorn ({m['workers']} {m['worker_class']} "
                    f"workers): {listing}.", "",
                f"Claims, `POST /api/v1/coupon-templates/{{id}}/claim` under gunicorn ({c['workers']} gthread "
                f"workers × {c['threads']} threads), all released at once:", ""]
        out += [f"- {line}" for line in claims]
        out += ["", "Targets: " + "; ".join(targets) + "."]
        return out
    out = ["", "=" * 96, f"Offers benchmark, {result['date']} UTC",
           f"machine: {m['nproc']} CPUs, {m['cpu']}, PostgreSQL {m['postgres']}, load average "
           f"{m['loadavg_start'][0]:.2f} at the start, {result['loadavg_end'][0]:.2f} at the end", "",
           f"data: {data}", "", f"refresh_profiles (every estate): {p['seconds']:.1f} s, {p['rows']:,} rows", "",
           "refresh_matches of one offer:"]
    out += [f"  {line}" for line in refresh_rows]
    out += ["", f"GET /api/v1/estates/{{id}}/offers ({m['workers']} {m['worker_class']} workers): {listing}", "",
            f"claims ({c['workers']} gthread workers x {c['threads']} threads):"]
    out += [f"  {line}" for line in claims]
    out += [""] + [f"target {t}" for t in targets]
    out += ["", f"command: {result['command']}", "=" * 96]
    return out


def write_readme(result: dict) -> None:
    text = README.read_text() if README.exists() else ""
    if README_START not in text or README_END not in text:
        log(f"{README} has no offers.py results markers; not written")
        return
    head, rest = text.split(README_START, 1)
    old, tail_text = rest.split(README_END, 1)
    history = [line for line in old.splitlines() if re.match(r"^\| \d{4}-\d\d-\d\d", line)]
    worst = max(result["refreshes"][1:4], key=lambda r: r["seconds"])
    c = result["claims"]
    row = (f"| {result['date']} | {result['seed']['counts']['estates']:,} | {result['offers']['offer_estates']:,} | "
           f"{result['profiles']['seconds']:.1f} | {worst['seconds']:.1f} | {result['list']['p99']:.1f} | "
           f"{c['stock']['issued']} / {c['limit']['issued']} | {result['machine']['loadavg_start'][0]:.2f} |")
    history = [row] + history[:HISTORY_KEEP - 1]
    block = ["", *report_lines(result, markdown=True), "", "Recent runs, newest first (the machine is shared: "
             "compare runs, not single figures; *load* is the load average at the start):", "", HISTORY_HEADER,
             "| --- |" + " ---: |" * 7, *history, ""]
    README.write_text(head + README_START + "\n".join(block) + "\n" + README_END + tail_text)
    log(f"figures written to {README.relative_to(ROOT)}")


# -- main -------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--estates", type=int, default=ISSUE_SIZES["estates"], help="estates (--estates 20000: a quick trial)")
    p.add_argument("--offers", type=int, default=ISSUE_SIZES["offers"], help="live offers in the estates' lists")
    p.add_argument("--requests", type=int, default=1000, help="measured list requests")
    p.add_argument("--warmup", type=int, default=50, help="unmeasured list requests first")
    p.add_argument("--readers", type=int, default=200, help="residents (random active estates) whose lists are read")
    p.add_argument("--workers", type=int, default=2, help="gunicorn sync workers for the list")
    p.add_argument("--claim-workers", type=int, default=4, help="gunicorn gthread workers for the claims")
    p.add_argument("--claim-threads", type=int, default=10, help="threads per claims worker")
    p.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"),
                   help="PostgreSQL server (any database on it) where the benchmark database is created")
    p.add_argument("--no-readme", action="store_true", help="do not write the figures into bench/README.md")
    p.add_argument("--keep-logs", action="store_true", help="keep the temporary directory with the server logs")
    return p


def run(args, tmp: Path, procs: Processes) -> dict:
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0, tzinfo=None)
    with fresh_database(args.pg, prefix="linli_bench_offers_") as (database_url, database, pg_settings):
        machine = machine_info(pg_settings["server_version"], args)
        (tmp / "instance").mkdir()
        env = app_env(argparse.Namespace(no_limiter=True), database_url, "http://127.0.0.1:9/", tmp / "instance")
        log("flask db upgrade")
        done = subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise BenchError(f"flask db upgrade failed:\n{done.stdout}\n{done.stderr}")
        os.environ.update({k: env[k] for k in ("DATABASE_URL", "SECRET_KEY", "LINLI_INSTANCE_DIR")})
        seeded = seed(args, database_url, now)
        app = build_app(database_url)
        try:
            profiles = refresh_profiles(app, database_url)
            things = make_things(app, database_url, now)
            offers = seed_offers(args, database_url, now, things)
            vacuum_s = vacuum_analyze(database_url)
            refreshes = time_refreshes(app, things, now)
            rng = random.Random(7)
            active = [e for e in rng.sample(range(1, args.estates + 1), min(args.estates, args.readers * 2))
                      if e % 100 != 0][:args.readers]
            readers = residents(database_url, now, active, 1_000_000)
            with psycopg.connect(database_url, autocommit=True) as conn:
                conn.execute("ANALYZE users")
                conn.execute("ANALYZE residencies")
                conn.execute("ANALYZE api_tokens")
            listing = list_http(args, procs, env, tmp, readers)
            claims = claims_http(args, procs, env, tmp, app, things, database_url, now, 2_000_000)
        finally:
            from core.extensions import db
            with app.app_context():
                db.engine.dispose()
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
            "command": command_line(args), "machine": machine, "pg": pg_settings, "seed": seeded,
            "profiles": profiles, "offers": offers, "vacuum_s": vacuum_s, "refreshes": refreshes,
            "warmup": args.warmup, "list": listing, "claims": claims, "loadavg_end": os.getloadavg()}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.worker_class, args.threads = "sync", 1
    if args.estates < 1000 or args.offers < 10:
        raise SystemExit("need at least 1,000 estates and 10 offers")

    def interrupted(signum, frame):
        raise Interrupted(signal.Signals(signum).name)
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)

    tmp = Path(tempfile.mkdtemp(prefix="linli-bench-offers-"))
    procs = Processes()
    failed = True
    try:
        log(f"load average {os.getloadavg()[0]:.2f} at the start")
        result = run(args, tmp, procs)
        print("\n".join(report_lines(result, markdown=False)))
        (tmp / "result.json").write_text(json.dumps(result, indent=2, default=str))
        full = all(getattr(args, k) >= v for k, v in ISSUE_SIZES.items())
        if args.no_readme or not full:
            log("bench/README.md not written (--no-readme, or smaller than the issue's sizes)")
        else:
            write_readme(result)
        failed = False
        return 0 if all(ok for _, ok, _ in targets_of(result)) else 2
    except BenchError as exc:
        log(f"FAILED: {exc}")
        return 1
    except (KeyboardInterrupt, Interrupted) as exc:
        log(f"interrupted ({type(exc).__name__} {exc}); cleaned up")
        return 130
    finally:
        procs.stop_all()
        if args.keep_logs or failed:
            log(f"logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
