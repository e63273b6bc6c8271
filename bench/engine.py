"""Service engine benchmark: the daily generation of care items, its re-run, customer health
recomputation and a steward's due list, on 2,000,000 product archives across 10,000 estates.

    .venv/bin/python bench/engine.py [--estates 10000] [--residents 1075000] [--products 2000000]

Everything runs on this machine and is torn down at the end (also on Ctrl-C and errors):

1. a fresh PostgreSQL database (unique name) on --pg, migrated with `flask db upgrade`;
2. data by set-based SQL (`INSERT ... SELECT generate_series`, a fixed random seed), each step
   timed: --estates estates in 4 cities; as many engineers, each covering 3 estates (3 per
   estate; 2% have left), with ranking rows (`engineer_estate_stats`, scored by the ranking's
   formula); agents on duty per city; --residents residents with a residency (1% of the estates
   hold 10% of them), 95% with an active steward binding to an engineer of their estate, 2%
   whose steward left (binding ended), 3% never bound; the product catalogue (16 models) and 13
   maintenance plans (filter every 6 months, yearly cleaning in a season window, an inspection 30
   days after installation, one model's own plan replacing its category's, ...); --products
   product archives (owners among the residents, 2% not yet linked to a user, 3% retired or
   transferred; installed over 5 years) and their `product_schedules` rows; the care items
   already there (overdue live items, a year of done / declined ones); service orders with
   ratings, reviews and complaints, scan visits, WeChat logins (activity), notes, follow-ups and
   subscribe quota, so the health signals vary; then `VACUUM ANALYZE`;
3. in an app context against that database (in this process, statements recorded with their
   durations): (a) `community.care.services.generate_due_items(today=...)` and the commit, timed,
   with the items created; (b) the same again at once: must create 0 items; (c)
   `community.book.services.recompute_health(today=...)` twice (from an empty table, then the
   daily update of every row), timed, with the rows written;
4. the due list: the steward with a typical and the one with the largest due list get bearer
   tokens (stored hashed, as the app stores them); the app runs under gunicorn (`wsgi:app`,
   --workers sync workers) and one client (--clients) sends --requests sequential
   `GET /api/v1/engineer/reminders?status=due` over HTTP, alternating the two stewards, after a
   warm-up: client latency p50/p95/p99 and gunicorn's own server time (`%(D)s`);
5. the statements of one due-list request (Flask test client, in process) and the slowest
   statement of the generation are run under `EXPLAIN (ANALYZE, BUFFERS)` when a target is missed
   (or with --explain), and their plans printed;
6. (e) the next day's run (`today + 1`): what a daily run creates in steady state.

The machine is shared: the load average and the CPU of the job and its PostgreSQL backend are
printed next to every figure. Figures are printed with the command that reproduces them and
written into bench/README.md (only runs at the issue's sizes; --no-readme leaves it alone).
"""
from __future__ import annotations

import argparse
import datetime
import importlib
import inspect
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

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
    _machine_busy,
    _stat,
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
README_START = "<!-- engine.py results: start (written by bench/engine.py) -->"
README_END = "<!-- engine.py results: end -->"
HISTORY_HEADER = ("| date (UTC) | products | schedules | generation s | items | re-run s | health s (first / update) "
                  "| customers | due list p99 ms (typical / large) | next day s | load |")
HISTORY_KEEP = 6
# 1,075,000 residents: with 93% bound, health scores the issue's 1,000,000 customers.
ISSUE_SIZES = {"estates": 10_000, "residents": 1_075_000, "products": 2_000_000}

TARGET_GENERATE_S = 60.0
TARGET_RERUN_S = 10.0
TARGET_HEALTH_S = 120.0
TARGET_DUE_P99_MS = 50.0
TOKEN_PREFIX = "lnl_"  # core.accounts.services.TOKEN_PREFIX
DUE_PATH = "/api/v1/engineer/reminders?status=due"
DUE_RE = re.compile(r"^/api/v1/engineer/reminders$")
BUSINESS_TZ = ZoneInfo("Asia/Shanghai")  # core.formatting.BUSINESS_TZ
LIVE = ("open", "snoozed", "booked")  # community.care.models.LIVE
MAINTENANCE_TEMPLATE_KEYS = ("WECHAT_TEMPLATE_MAINTENANCE", "WECHAT_TEMPLATE_CARE", "WECHAT_TEMPLATE_REMINDER")

# Service functions looked up by name, first match wins (the areas' helpers own the names).
GENERATE = ("community.care.services", ("generate_due_items", "generate_care_items", "generate_reminders"))
HEALTH = ("community.book.services", ("recompute_health", "recompute_all_health", "rebuild_health"))

CITIES = ("深圳市", "广州市", "佛山市", "东莞市")
DISTRICTS = ("南山区", "福田区", "宝安区", "龙岗区", "罗湖区")

# (id, code, category, name, warranty months, share of the products in %)
MODELS = [
    (1, "WP-RO400", "water_purifier", "RO反渗透净水器 400G", 24, 10),
    (2, "WP-RO600", "water_purifier", "RO反渗透净水器 600G", 24, 8),
    (3, "WP-RO800", "water_purifier", "RO反渗透净水器 800G 旗舰", 36, 4),
    (4, "AC-KFR35", "air_conditioner", "壁挂式空调 1.5匹", 72, 12),
    (5, "AC-KFR50", "air_conditioner", "壁挂式空调 2匹", 72, 6),
    (6, "AC-KFR72L", "air_conditioner", "立柜式空调 3匹", 72, 5),
    (7, "WH-D60", "water_heater", "储水式电热水器 60L", 36, 8),
    (8, "WH-G16", "water_heater", "燃气热水器 16L", 36, 6),
    (9, "RH-T5", "range_hood", "侧吸式油烟机", 24, 7),
    (10, "GS-B2", "gas_stove", "嵌入式燃气灶", 24, 5),
    (11, "DW-13", "dishwasher", "嵌入式洗碗机 13套", 24, 4),
    (12, "WM-D10", "washing_machine", "滚筒洗衣机 10kg", 36, 7),
    (13, "RF-530", "refrigerator", "对开门冰箱 530L", 36, 6),
    (14, "WB-L26", "wall_boiler", "燃气壁挂炉 26kW", 24, 3),
    (15, "FA-250", "fresh_air", "全热交换新风系统", 24, 3),
    (16, "WP-ML01", "water_purifier", "厨下超滤净水器", 12, 6),
]
# (id, name, category or None, model id or None, service type, first due days, interval months,
#  after completion, season start, season end, lead days, description)
PLANS = [
    (1, "滤芯更换", "water_purifier", None, "maintenance", 180, 6, True, None, None, 14,
     "净水器滤芯建议每6个月更换一次，保障饮水安全。"),
    (2, "安装后回访检测", "water_purifier", None, "inspection", 30, None, True, None, None, 7,
     "安装满一个月，工程师上门检查水压、接头和出水水质。"),
    (3, "年度清洗", "air_conditioner", None, "cleaning", 300, 12, False, 4, 6, 21,
     "入夏前清洗空调内机和滤网，制冷更快更省电。"),
    (4, "安装后回访检测", "air_conditioner", None, "inspection", 30, None, True, None, None, 7,
     "安装满一个月，检查制冷效果、排水和外机固定。"),
    (5, "镁棒更换", "water_heater", None, "maintenance", 730, 24, True, None, None, 14,
     "电热水器镁棒建议每两年更换，防止内胆腐蚀。"),
    (6, "内胆清洗除垢", "water_heater", None, "cleaning", 365, 12, True, None, None, 14,
     "每年清洗一次内胆水垢，加热更快更安全。"),
    (7, "深度清洗", "range_hood", None, "cleaning", 365, 12, False, 10, 12, 14,
     "年底大扫除前深度清洗油烟机，吸力恢复如新。"),
    (8, "采暖季前检修", "wall_boiler", None, "inspection", 300, 12, False, 9, 10, 21,
     "供暖季开始前检查燃气密封、水压和点火。"),
    (9, "滤网更换", "fresh_air", None, "maintenance", 180, 6, True, None, None, 14,
     "新风系统滤网建议每6个月更换。"),
    (10, "年度保养", "dishwasher", None, "maintenance", 365, 12, True, None, None, 14,
     "每年一次保养：清洁过滤网、喷淋臂，检查软水盐。"),
    (11, "筒清洁", "washing_machine", None, "cleaning", 180, 6, True, None, None, 7,
     "滚筒每半年清洁一次，去除霉菌和异味。"),
    (12, "RO膜及滤芯更换", None, 3, "maintenance", 365, 12, True, None, None, 21,
     "旗舰型号采用长效RO膜，每年更换一次。"),
    (13, "燃气安全检查", "gas_stove", None, "inspection", 365, 12, True, None, None, 14,
     "每年一次燃气灶及管路安全检查。"),
]
OVERDUE_SHARE = 0.03  # of the schedules past their first due date: overdue, with a live item already


def applicable_plans(today: datetime.date) -> list[tuple]:
    """(model, plan, first due days, interval days, once, seasonal, window open now, current window
    start, current window end, next window start, next window length) for every model and the plans
    that apply to it: its category's, except where a plan of its own has the same service type."""
    def window(year: int, start: int, end: int) -> tuple[datetime.date, datetime.date]:
        last = datetime.date(year + (end == 12), end % 12 + 1, 1) - datetime.timedelta(days=1)
        return datetime.date(year, start, 1), last

    rows = []
    for model_id, _, category, *_ in MODELS:
        own = [p for p in PLANS if p[3] == model_id]
        mine = own + [p for p in PLANS if p[2] == category and p[4] not in {o[4] for o in own}]
        for plan in mine:
            interval = round(plan[6] * 30.44) if plan[6] else None
            start_m, end_m = plan[8], plan[9]
            if start_m:
                cur_start, cur_end = window(today.year, start_m, end_m)
                open_now = cur_start <= today <= cur_end
                if today < cur_start:
                    nxt = (cur_start, cur_end)
                else:
                    nxt = window(today.year + 1, start_m, end_m)
                rows.append((model_id, plan[0], plan[5], interval, plan[6] is None, True, open_now, cur_start,
                             cur_end, nxt[0], (nxt[1] - nxt[0]).days + 1))
            else:
                rows.append((model_id, plan[0], plan[5], interval, plan[6] is None, False, False, None, None,
                             None, None))
    return rows


# -- seed -------------------------------------------------------------------------------------
# Parameters: now (naive UTC), today (Asia/Shanghai), estates, residents, products, orders, agents,
# large (estates holding 10% of the residents), template (the maintenance subscribe template).
# Ids are explicit (1..n) so relations are computed; sequences are moved past them afterwards.
# Users: residents 1..R, engineers' users R+1..R+E, agents R+E+1..R+E+A.

SEED_SQL = [
    ("estates", """INSERT INTO estates (id, code, name, province, city, district, address, households, status,
                                        created_at, updated_at)
        SELECT g, 'BENCH' || lpad(g::text, 6, '0'), '基准小区' || g, '广东省', (%(cities)s::text[])[1 + g %% 4],
               (%(districts)s::text[])[1 + g %% 5], '基准路 ' || g || ' 号',
               CASE WHEN g %% 100 = 1 THEN 3000 ELSE 300 + g %% 900 END, 'active', %(now)s, %(now)s
        FROM generate_series(1, %(estates)s) g"""),
    ("users", """INSERT INTO users (id, display_name, phone, roles, status, created_at)
        SELECT g, '住户' || g, '139' || lpad(g::text, 8, '0'), 'resident', 'active',
               %(now)s - (g %% 1500) * interval '1 day'
        FROM generate_series(1, %(residents)s) g
        UNION ALL
        SELECT %(residents)s + g, '工程师' || g, '137' || lpad(g::text, 8, '0'),
               CASE WHEN g %% 50 = 7 THEN 'resident' ELSE 'engineer' END, 'active', %(now)s - interval '3 years'
        FROM generate_series(1, %(estates)s) g
        UNION ALL
        SELECT %(residents)s + %(estates)s + g, '客服' || g, '136' || lpad(g::text, 8, '0'), 'agent', 'active',
               %(now)s - interval '3 years'
        FROM generate_series(1, %(agents)s) g"""),
    # Engineer g covers estates g, g+1, g+2 (wrapping); 2% (g % 50 = 7) have left.
    ("engineers", """INSERT INTO engineers (id, user_id, name, phone, employee_no, intro, status, claimed_at, left_at,
                                            created_at)
        SELECT g, %(residents)s + g, '工程师' || g, '137' || lpad(g::text, 8, '0'), 'BENCH' || lpad(g::text, 7, '0'),
               '', CASE WHEN g %% 50 = 7 THEN 'left' ELSE 'active' END, %(now)s - interval '3 years',
               CASE WHEN g %% 50 = 7 THEN %(now)s - (g %% 200) * interval '1 day' END, %(now)s - interval '3 years'
        FROM generate_series(1, %(estates)s) g"""),
    ("engineer_estates", """INSERT INTO engineer_estates (engineer_id, estate_id, assigned_at)
        SELECT g, (g - 1 + k) %% %(estates)s + 1, %(now)s - interval '3 years'
        FROM generate_series(1, %(estates)s) g CROSS JOIN generate_series(0, 2) k"""),
    # The ranking rows, scored with community.stats.services.components.
    ("engineer_estate_stats", """INSERT INTO engineer_estate_stats (engineer_id, estate_id, completed,
            recent_completed, ratings_count, ratings_sum, complaints, likes, first_service_at, score, updated_at)
        SELECT engineer_id, estate_id, completed, recent, rc, rs, complaints, likes, first_at,
               round((100 * (0.6 * (0.7 * (((45.0 + rs) / (10 + rc)) - 1) / 4 + 0.3 * likes / (likes + 10.0)
                                   - complaints / (completed + 5.0))
                             + 0.4 * recent / (recent + 20.0)))::numeric, 4)::float8, %(now)s
        FROM (SELECT engineer_id, estate_id, completed, (completed * (0.1 + random() * 0.2))::int AS recent,
                     (completed * 0.7)::int AS rc, ((completed * 0.7)::int * (3.8 + random() * 1.15))::int AS rs,
                     (random() * random() * 6)::int AS complaints, (random() * 40)::int AS likes,
                     %(now)s - (200 + random() * 900) * interval '1 day' AS first_at
              FROM (SELECT engineer_id, estate_id, 10 + (random() * 190)::int AS completed
                    FROM engineer_estates) c) x"""),
    ("agent_duties", """INSERT INTO agent_duties (user_id, city, district, created_at)
        SELECT %(residents)s + %(estates)s + g, (%(cities)s::text[])[1 + (g - 1) %% 4],
               CASE WHEN g > 4 THEN (%(districts)s::text[])[1 + g %% 5] END, %(now)s
        FROM generate_series(1, %(agents)s) g"""),
    # Helper (dropped after the seed): each resident's estate and steward. 10% of the residents
    # live in the 1% large estates (id % 100 = 1), the others spread over all estates. The steward
    # is one of the 3 engineers covering the estate (60/30/10); 3% never bound; those whose
    # engineer left have an ended binding.
    ("bench_residents", """CREATE UNLOGGED TABLE bench_residents AS
        SELECT g AS user_id, e AS estate_id,
               CASE WHEN g %% 33 = 0 THEN NULL
                    ELSE ((e - 1 - CASE WHEN h < 6 THEN 0 WHEN h < 9 THEN 1 ELSE 2 END) %% %(estates)s
                          + %(estates)s) %% %(estates)s + 1 END AS steward_id,
               %(now)s - (30 + g %% 700) * interval '1 day' AS bound_at
        FROM (SELECT g, (g * 31 + 7) %% 10 AS h,
                     CASE WHEN g %% 10 = 0 THEN 1 + 100 * ((g / 10) %% %(large)s)
                          ELSE 1 + (g::bigint * 7919) %% %(estates)s END AS e
              FROM generate_series(1, %(residents)s) g) x"""),
    ("bench_residents_pk", "ALTER TABLE bench_residents ADD PRIMARY KEY (user_id)"),
    ("residencies", """INSERT INTO residencies (user_id, estate_id, source, joined_at)
        SELECT user_id, estate_id, 'binding', bound_at FROM bench_residents ORDER BY user_id"""),
    ("steward_bindings", """INSERT INTO steward_bindings (resident_id, engineer_id, estate_id, started_at, start_reason,
                                                      ended_at, end_reason)
        SELECT r.user_id, r.steward_id, r.estate_id, r.bound_at, 'scan', e.left_at,
               CASE WHEN e.status = 'left' THEN 'engineer_left' END
        FROM bench_residents r JOIN engineers e ON e.id = r.steward_id ORDER BY r.user_id"""),
    # Each estate's best-ranked active engineer (helper, dropped after the seed).
    ("bench_best", """CREATE UNLOGGED TABLE bench_best AS
        SELECT DISTINCT ON (s.estate_id) s.estate_id, s.engineer_id
        FROM engineer_estate_stats s JOIN engineers e ON e.id = s.engineer_id AND e.status = 'active'
        ORDER BY s.estate_id, s.score DESC, s.first_service_at, s.engineer_id"""),
    ("product_models", """INSERT INTO product_models (id, code, category, name, warranty_months, active, created_at,
                                                   updated_at)
        SELECT id, code, category, name, warranty, true, %(now)s, %(now)s
        FROM unnest(%(model_ids)s::int[], %(model_codes)s::text[], %(model_categories)s::text[],
                    %(model_names)s::text[], %(model_warranties)s::int[]) AS m(id, code, category, name, warranty)"""),
    ("maintenance_plans", """INSERT INTO maintenance_plans (id, name, category, product_model_id, service_type,
            first_due_days, interval_months, after_completion, season_start_month, season_end_month, lead_days,
            description, active, created_at, updated_at)
        SELECT id, name, category, model_id, service_type, first_due, interval_months, after_completion, season_start,
               season_end, lead, description, true, %(now)s, %(now)s
        FROM json_to_recordset(%(plans)s::json) AS p(id int, name text, category text, model_id int,
             service_type text, first_due int, interval_months int, after_completion bool, season_start int,
             season_end int, lead int, description text)"""),
    # 2% not linked to a user yet (imported with a phone only), 2% retired, 1% transferred; the
    # estate is the owner's; installed over 5 years; the installer one of the estate's engineers.
    ("products", """INSERT INTO products (id, model_id, serial, install_date, purchase_date, warranty_end, owner_id,
            owner_phone, estate_id, address, installer_id, status, source, created_at, updated_at)
        SELECT x.g, x.model_id, 'SN' || lpad(x.g::text, 10, '0'), x.installed, x.installed - x.bought,
               (x.installed - x.bought) + make_interval(months => m.warranty_months),
               CASE WHEN x.r >= 0.02 THEN x.owner END, '139' || lpad(x.owner::text, 8, '0'), r.estate_id,
               '基准小区' || r.estate_id || ' ' || (1 + x.g %% 30) || '栋' || (101 + x.g %% 2800) || '室',
               CASE WHEN x.r2 < 0.7 THEN ((r.estate_id - 1 - (x.g %% 3)) %% %(estates)s + %(estates)s)
                                         %% %(estates)s + 1 END,
               CASE WHEN x.r3 < 0.02 THEN 'retired' WHEN x.r3 < 0.03 THEN 'transferred' ELSE 'active' END,
               (ARRAY['import', 'import', 'import', 'engineer', 'engineer', 'resident', 'integration'])[1 + x.g %% 7],
               x.installed::timestamp + interval '10 hours', %(now)s
        FROM (SELECT g, (%(model_pick)s::int[])[1 + floor(random() * %(model_pick_len)s)::int] AS model_id,
                     1 + floor(random() * %(residents)s)::int AS owner, random() AS r, random() AS r2,
                     random() AS r3, %(today)s::date - floor(random() * 1826)::int AS installed,
                     floor(random() * 10)::int AS bought
              FROM generate_series(1, %(products)s) g) x
        JOIN bench_residents r ON r.user_id = x.owner
        JOIN product_models m ON m.id = x.model_id"""),
    # What each plan needs next, for active products (see applicable_plans): the first due date
    # while it is ahead; then 3% overdue (a live item exists, below), the others spread over the
    # plan's cycle; seasonal plans inside their window (this season's if still open and not done).
    ("bench_applicable", """CREATE UNLOGGED TABLE bench_applicable AS
        SELECT * FROM json_to_recordset(%(applicable)s::json) AS a(model_id int, plan_id int, first_due int,
             interval_days int, once bool, seasonal bool, open_now bool, cur_start date, cur_end date,
             next_start date, next_len int)"""),
    ("product_schedules", """INSERT INTO product_schedules (product_id, plan_id, next_due_on, last_done_on, updated_at)
        SELECT product_id, plan_id, next_due,
               CASE WHEN once THEN CASE WHEN next_due IS NULL THEN least(first_due + (r2 * 10)::int, %(today)s - 1) END
                    WHEN seasonal AND open_now AND next_due > cur_end
                         THEN cur_start + floor(r2 * greatest(1, %(today)s - cur_start))::int
                    WHEN next_due - interval_days >= first_due THEN next_due - interval_days END,
               %(now)s
        FROM (SELECT *,
                CASE WHEN once THEN
                          CASE WHEN first_due >= %(today)s THEN first_due
                               WHEN first_due >= %(today)s - 60 AND r < 0.25 THEN first_due END
                     WHEN seasonal THEN
                          CASE WHEN first_due > %(today)s THEN greatest(first_due, next_start + floor(r2 * next_len)::int)
                               WHEN open_now AND r < %(overdue)s THEN %(today)s - 1 - floor(r2 * 30)::int
                               WHEN open_now AND r < 0.35 THEN %(today)s + floor(r2 * (cur_end - %(today)s + 1))::int
                               ELSE next_start + floor(r2 * next_len)::int END
                     WHEN first_due > %(today)s THEN first_due
                     WHEN r < %(overdue)s THEN %(today)s - 1 - floor(r2 * 60)::int
                     ELSE %(today)s + floor(r2 * interval_days)::int END AS next_due
              FROM (SELECT p.id AS product_id, a.plan_id, p.install_date + a.first_due AS first_due, a.interval_days,
                           a.once, a.seasonal, a.open_now, a.cur_start, a.cur_end, a.next_start, a.next_len,
                           random() AS r, random() AS r2
                    FROM products p JOIN bench_applicable a ON a.model_id = p.model_id
                    WHERE p.status = 'active') b) s
        ORDER BY product_id, plan_id"""),
    # Items already there: every overdue schedule has its live item (routed as the job routes:
    # the steward, else the estate's best-ranked active engineer), 85% open, 15% snoozed; and a
    # year of history: 30% of the last completed services have their done item (5% declined,
    # 5% done elsewhere).
    ("care_items", """INSERT INTO care_items (product_id, plan_id, due_on, notify_on, resident_id, estate_id,
            engineer_id, route, status, snoozed_until, notified_at, channel, outcome_at, created_at, updated_at)
        SELECT s.product_id, s.plan_id, s.due_on, s.due_on - pl.lead_days, p.owner_id, p.estate_id,
               coalesce(b.engineer_id, best.engineer_id),
               CASE WHEN b.engineer_id IS NOT NULL THEN 'steward' WHEN best.engineer_id IS NOT NULL THEN 'estate'
                    ELSE 'agent' END,
               s.status, CASE WHEN s.status = 'snoozed' THEN %(today)s + 1 + (s.r * 14)::int END,
               (s.due_on - pl.lead_days)::timestamp + interval '1 hour',
               CASE WHEN s.r < 0.3 THEN 'subscribe' ELSE 'inbox' END,
               CASE WHEN s.status NOT IN ('open', 'snoozed') THEN s.due_on::timestamp + interval '20 hours' END,
               (s.due_on - pl.lead_days)::timestamp, %(now)s
        FROM (SELECT product_id, plan_id, next_due_on AS due_on, r,
                     CASE WHEN r < 0.85 THEN 'open' ELSE 'snoozed' END AS status
              FROM (SELECT product_id, plan_id, next_due_on, random() AS r FROM product_schedules
                    WHERE next_due_on < %(today)s) o
              UNION ALL
              SELECT product_id, plan_id, last_done_on, r,
                     CASE WHEN r < 0.27 THEN 'done' WHEN r < 0.285 THEN 'declined' ELSE 'done_elsewhere' END
              FROM (SELECT product_id, plan_id, last_done_on, random() AS r FROM product_schedules
                    WHERE last_done_on >= %(today)s - 365) h
              WHERE r < 0.3) s
        JOIN products p ON p.id = s.product_id
        JOIN maintenance_plans pl ON pl.id = s.plan_id
        LEFT JOIN steward_bindings b ON b.resident_id = p.owner_id AND b.ended_at IS NULL
        LEFT JOIN bench_best best ON best.estate_id = p.estate_id
        ORDER BY s.due_on, s.product_id"""),
    # Service orders of residents over 3 years, by their steward (else an engineer of the estate):
    # 88% completed (65% of those rated: 6% 1-2 stars; 1.5% complained), 4% cancelled, 8% open.
    ("service_orders", """INSERT INTO service_orders (source, estate_id, resident_id, resident_phone, engineer_id,
            service_type, description, status, requested_at, assigned_at, completed_at, cancelled_at, rating,
            complained, created_at, updated_at, product_id)
        SELECT 'app', r.estate_id, o.u, '139' || lpad(o.u::text, 8, '0'),
               CASE WHEN st <> 'requested' THEN coalesce(r.steward_id, r.estate_id) END,
               (ARRAY['maintenance', 'cleaning', 'repair', 'inspection', 'install', 'maintenance', 'repair'])
                 [1 + o.g %% 7], '', st, req,
               CASE WHEN st <> 'requested' THEN req + interval '2 hours' END,
               CASE WHEN st = 'completed' THEN req + (4 + r2 * 68) * interval '1 hour' END,
               CASE WHEN st = 'cancelled' THEN req + interval '1 day' END,
               CASE WHEN st = 'completed' AND r2 < 0.65 THEN
                    CASE WHEN r3 < 0.58 THEN 5 WHEN r3 < 0.84 THEN 4 WHEN r3 < 0.94 THEN 3 WHEN r3 < 0.97 THEN 2
                         ELSE 1 END END,
               st = 'completed' AND r3 > 0.985, req, req, NULL
        FROM (SELECT g, 1 + floor(random() * %(residents)s)::int AS u, r2, r3,
                     CASE WHEN r < 0.88 THEN 'completed' WHEN r < 0.92 THEN 'cancelled' WHEN r < 0.95 THEN 'requested'
                          WHEN r < 0.975 THEN 'assigned' ELSE 'scheduled' END AS st,
                     CASE WHEN r < 0.88 THEN %(now)s - (4 + random() * 1090) * interval '1 day'
                          ELSE %(now)s - random() * interval '20 days' END AS req
              FROM (SELECT g, random() AS r, random() AS r2, random() AS r3
                    FROM generate_series(1, %(orders)s) g) x) o
        JOIN bench_residents r ON r.user_id = o.u
        ORDER BY req"""),
    ("service_reviews", """INSERT INTO service_reviews (order_id, resident_id, engineer_id, estate_id, rating, text,
                                                    photos, created_at)
        SELECT id, resident_id, engineer_id, estate_id, rating,
               CASE WHEN rating <= 2 THEN '师傅迟到，问题也没解决。' ELSE '服务很好，很专业。' END, '[]'::json,
               completed_at + interval '3 hours'
        FROM service_orders WHERE rating IS NOT NULL ORDER BY id"""),
    ("service_complaints", """INSERT INTO service_complaints (order_id, resident_id, engineer_id, estate_id, text,
                                                       status, resolution, resolved_at, created_at)
        SELECT id, resident_id, engineer_id, estate_id, '上门服务不满意，要求回访。',
               CASE WHEN id %% 5 < 2 OR completed_at > %(now)s - interval '30 days' THEN 'open' ELSE 'resolved' END,
               CASE WHEN NOT (id %% 5 < 2 OR completed_at > %(now)s - interval '30 days') THEN '已回访处理' END,
               CASE WHEN NOT (id %% 5 < 2 OR completed_at > %(now)s - interval '30 days')
                    THEN completed_at + interval '3 days' END,
               completed_at + interval '5 hours'
        FROM service_orders WHERE complained ORDER BY id"""),
    # One binding code per engineer and the scan visit of every binding (the first contact).
    ("binding_codes", """INSERT INTO binding_codes (scene, engineer_id, estate_id, created_at, expires_at, uses, image,
                                                 image_type)
        SELECT 'bench' || lpad(g::text, 10, '0'), g, g, %(now)s - interval '3 years', %(now)s - interval '2 years',
               0, '\\x00'::bytea, 'image/png'
        FROM generate_series(1, %(estates)s) g"""),
    ("visits", """INSERT INTO visits (engineer_id, resident_id, estate_id, binding_code_id, rating, created_at)
        SELECT b.engineer_id, b.resident_id, b.estate_id, c.id,
               CASE WHEN b.resident_id %% 4 = 0 THEN 3 + b.resident_id %% 3 END, b.started_at
        FROM steward_bindings b JOIN binding_codes c ON c.engineer_id = b.engineer_id ORDER BY b.id"""),
    # Mini-program logins: 85% of the residents; 60% of those within 30 days, 25% within 6 months.
    ("wechat_identities", """INSERT INTO wechat_identities (user_id, appid, openid, created_at, last_login_at)
        SELECT user_id, 'wx_fake_appid', 'obench' || lpad(user_id::text, 10, '0'), %(now)s - interval '2 years',
               %(now)s - CASE WHEN r < 0.6 THEN random() * 30 WHEN r < 0.85 THEN 30 + random() * 150
                              ELSE 180 + random() * 500 END * interval '1 day'
        FROM (SELECT user_id, random() AS r FROM bench_residents WHERE user_id %% 20 NOT IN (3, 11, 17)) x
        ORDER BY user_id"""),
    # Maintenance reminder quota: 35% hold some, 10% used it up or turned it off.
    ("subscription_quotas", """INSERT INTO subscription_quotas (user_id, template_id, remaining, updated_at)
        SELECT user_id, %(template)s, CASE WHEN r < 0.35 THEN 1 + (r * 10)::int %% 3 ELSE 0 END,
               %(now)s - random() * interval '200 days'
        FROM (SELECT user_id, random() AS r FROM bench_residents) x WHERE r < 0.45 ORDER BY user_id"""),
    # Stewards' notes (contacts) on 15% of their customers, follow-ups on 4%.
    ("customer_notes", """INSERT INTO customer_notes (resident_id, author_id, engineer_id, text, created_at)
        SELECT r.user_id, %(residents)s + r.steward_id, r.steward_id, '电话回访：设备运行正常，客户满意。',
               %(now)s - random() * interval '400 days'
        FROM bench_residents r JOIN engineers e ON e.id = r.steward_id AND e.status = 'active'
        WHERE r.user_id %% 20 IN (1, 5, 9) ORDER BY r.user_id"""),
    ("customer_follow_ups", """INSERT INTO customer_follow_ups (resident_id, engineer_id, author_id, due_on, text,
                                                        done_at, created_at)
        SELECT r.user_id, r.steward_id, %(residents)s + r.steward_id, %(today)s - 20 + (r.user_id %% 50),
               '下周回访确认热水器使用情况', CASE WHEN r.user_id %% 3 = 0 THEN %(now)s - interval '1 day' END,
               %(now)s - interval '30 days'
        FROM bench_residents r JOIN engineers e ON e.id = r.steward_id AND e.status = 'active'
        WHERE r.user_id %% 25 = 2 ORDER BY r.user_id"""),
]

# Optional columns other areas add: seeded when the migration has them.
OPTIONAL_SQL = [
    (("users", "last_active_on"), "users.last_active_on", """UPDATE users u
        SET last_active_on = (w.last_login_at AT TIME ZONE 'UTC' AT TIME ZONE 'Asia/Shanghai')::date
        FROM wechat_identities w WHERE w.user_id = u.id"""),
]


def _columns(conn) -> set[tuple[str, str]]:
    return set(conn.execute("SELECT table_name, column_name FROM information_schema.columns "
                            "WHERE table_schema = 'public'").fetchall())


def seed(args, database_url: str, today: datetime.date, now: datetime.datetime, template: str) -> dict:
    """Everything by set-based SQL (a fixed random seed); returns row counts and timings."""
    pick = [m[0] for m in MODELS for _ in range(m[5])]
    applicable = applicable_plans(today)
    keys = ("model_id", "plan_id", "first_due", "interval_days", "once", "seasonal", "open_now", "cur_start",
            "cur_end", "next_start", "next_len")
    plans = [dict(zip(("id", "name", "category", "model_id", "service_type", "first_due", "interval_months",
                       "after_completion", "season_start", "season_end", "lead", "description"), p)) for p in PLANS]
    params = {"now": now, "today": today, "estates": args.estates, "residents": args.residents,
              "products": args.products, "orders": args.orders, "agents": args.agents,
              "large": max(1, (args.estates + 99) // 100), "cities": list(CITIES), "districts": list(DISTRICTS),
              "model_ids": [m[0] for m in MODELS], "model_codes": [m[1] for m in MODELS],
              "model_categories": [m[2] for m in MODELS], "model_names": [m[3] for m in MODELS],
              "model_warranties": [m[4] for m in MODELS], "model_pick": pick, "model_pick_len": len(pick),
              "plans": json.dumps(plans, ensure_ascii=False),
              "applicable": json.dumps([dict(zip(keys, r)) for r in applicable], default=str),
              "overdue": OVERDUE_SHARE, "template": template}
    counts, timings = {}, {}
    started = time.monotonic()
    with psycopg.connect(database_url) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET work_mem = '256MB'")
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SELECT setseed(0.42)")
        for table, sql in SEED_SQL:
            t0 = time.monotonic()
            cur = conn.execute(sql, params)
            conn.commit()
            counts[table], timings[table] = cur.rowcount, time.monotonic() - t0
            if not table.startswith("bench_") or table == "bench_residents":
                log(f"seeded {counts[table]:,} rows of {table} in {timings[table]:.1f} s")
        columns = _columns(conn)
        for needs, label, sql in OPTIONAL_SQL:
            if needs in columns:
                t0 = time.monotonic()
                counts[label] = conn.execute(sql, params).rowcount
                conn.commit()
                timings[label] = time.monotonic() - t0
                log(f"seeded {counts[label]:,} rows of {label} in {timings[label]:.1f} s")
        for table in ("users", "estates", "engineers", "products", "product_models", "maintenance_plans"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        figures = conn.execute(
            """SELECT count(*) FILTER (WHERE next_due_on < %(today)s),
                      count(*) FILTER (WHERE next_due_on BETWEEN %(today)s AND %(today)s + %(horizon)s),
                      count(*) FILTER (WHERE next_due_on IS NULL), count(*)
               FROM product_schedules""", {"today": today, "horizon": args.horizon}).fetchone()
        bindings = conn.execute(
            "SELECT count(*) FILTER (WHERE ended_at IS NULL), count(*) FILTER (WHERE ended_at IS NOT NULL) "
            "FROM steward_bindings").fetchone()
        conn.execute("DROP TABLE bench_applicable")
        conn.commit()
    seconds = time.monotonic() - started
    out = {"counts": counts, "timings": timings, "seconds": seconds, "overdue": figures[0], "in_horizon": figures[1],
           "nothing_due": figures[2], "schedules": figures[3], "active_bindings": bindings[0],
           "ended_bindings": bindings[1]}
    log(f"seeded in {seconds:.0f} s: {figures[3]:,} schedules, {figures[1]:,} due within {args.horizon} days "
        f"({figures[1] / max(1, figures[3]):.1%}), {figures[0]:,} overdue with a live item")
    return out


def drop_helpers(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_residents, bench_best, bench_applicable")


# -- the measured runs ------------------------------------------------------------------------

def find_service(spec: tuple[str, tuple[str, ...]]):
    module_name, names = spec
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BenchError(f"{module_name} cannot be imported ({exc}): the service is not there yet") from exc
    for name in names:
        func = getattr(module, name, None)
        if callable(func):
            return func
    raise BenchError(f"{module_name} has none of {', '.join(names)}")


def call_service(func, today: datetime.date, horizon: int | None):
    kwargs = {}
    params = inspect.signature(func).parameters
    if "today" in params:
        kwargs["today"] = today
    if horizon is not None and "horizon_days" in params:
        kwargs["horizon_days"] = horizon
    return func(**kwargs)


class Recorder:
    """Every statement of one run with its parameters, duration and row count."""

    def __init__(self, engine):
        import sqlalchemy as sa
        self.engine, self.sa, self.statements, self._starts = engine, sa, [], {}

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self._starts[id(cursor)] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        started = self._starts.pop(id(cursor), None)
        self.statements.append({"sql": statement, "params": parameters, "executemany": executemany,
                                "seconds": time.perf_counter() - started if started else 0.0,
                                "rows": cursor.rowcount})

    def __enter__(self):
        self.sa.event.listen(self.engine, "before_cursor_execute", self._before)
        self.sa.event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc):
        self.sa.event.remove(self.engine, "before_cursor_execute", self._before)
        self.sa.event.remove(self.engine, "after_cursor_execute", self._after)

    def slowest(self, n: int = 3) -> list[dict]:
        return sorted(self.statements, key=lambda s: s["seconds"], reverse=True)[:n]


def _short(sql: str, width: int = 150) -> str:
    text = " ".join(sql.split())
    return text if len(text) <= width else text[:width - 1] + "…"


def timed_run(app, label: str, func, today: datetime.date, horizon: int | None, count_sql: str) -> dict:
    """Run a service in an app context and commit, as the job runner does; wall time, CPU of this
    process and of its PostgreSQL backend, statements, and the rows the count query finds."""
    import sqlalchemy as sa

    from core.extensions import db
    since = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    with app.app_context():
        before_count = db.session.execute(sa.text(count_sql), {"since": since}).scalar()
        backend = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        db.session.commit()  # the connection stays checked out by the next transaction (pool_size 1)
        pg_before, cpu_before, busy_before = (_stat(backend) or (0, 0.0))[1], time.process_time(), _machine_busy()
        load = os.getloadavg()[0]
        with Recorder(db.engine) as rec:
            started = time.monotonic()
            result = call_service(func, today, horizon)
            db.session.commit()
            wall = time.monotonic() - started
        cpu, pg_after, busy_after = time.process_time() - cpu_before, (_stat(backend) or (0, 0.0))[1], _machine_busy()
        after_count = db.session.execute(sa.text(count_sql), {"since": since}).scalar()
        db.session.commit()
    capacity = busy_after[1] - busy_before[1]
    out = {"label": label, "wall_s": wall, "cpu_s": cpu, "pg_cpu_s": pg_after - pg_before,
           "busy_share": (busy_after[0] - busy_before[0]) / capacity if capacity else 0.0, "load": load,
           "rows": after_count - before_count, "result": _jsonable(result), "statements": len(rec.statements),
           "slowest": [{"sql": s["sql"], "params": _jsonable(s["params"]), "seconds": s["seconds"], "rows": s["rows"]}
                       for s in rec.slowest()],
           "_recorded": rec.slowest()}
    log(f"{label}: {wall:.1f} s, {out['rows']:,} rows, {len(rec.statements)} statements "
        f"(CPU: this process {cpu:.1f} s, its PostgreSQL backend {out['pg_cpu_s']:.1f} s); service returned "
        f"{_short(repr(result), 200)}")
    shown = rec.statements if len(rec.statements) <= 12 else rec.slowest()
    for s in shown:
        log(f"    {s['seconds']:7.2f} s  {s['rows']:>9,} rows  {_short(s['sql'])}")
    out["statement_seconds"] = [round(s["seconds"], 2) for s in rec.statements] if len(rec.statements) <= 12 else None
    return out


def _jsonable(value):
    try:
        json.dumps(value, default=str)
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return repr(value)


def explain(app, statement: dict, prelude: list[tuple[str, dict]] | None = None) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of a recorded statement in a transaction that is rolled back
    (after `prelude` statements, e.g. removing the run's own rows so the plan is the first run's)."""
    import sqlalchemy as sa

    from core.extensions import db
    with app.app_context():
        conn = db.session.connection()
        try:
            for sql, params in prelude or []:
                conn.execute(sa.text(sql), params)
            params = statement["params"]
            if statement.get("executemany") and isinstance(params, (list, tuple)):
                params = params[0]
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement["sql"], params).fetchall()
            return [_short(statement["sql"], 400)] + [r[0] for r in rows]
        except sa.exc.SQLAlchemyError as exc:  # e.g. it reads a temporary table of the run
            return [_short(statement["sql"], 400), f"(EXPLAIN failed: {_short(str(exc.orig or exc), 300)})"]
        finally:
            db.session.rollback()


def plan_summary(lines: list[str], keep: int = 40) -> list[str]:
    """The plan's nodes and timings, without the buffer lines, at most `keep` lines."""
    out = [line for line in lines if not line.strip().startswith(("Buffers:", "I/O Timings:"))]
    return out[:keep] + ([f"... ({len(out) - keep} more lines)"] if len(out) > keep else [])


# -- the due list -----------------------------------------------------------------------------

def pick_stewards(database_url: str, today: datetime.date, horizon: int) -> list[dict]:
    """The steward whose due list is typical (the median) and the one whose list is the largest,
    counting the open and snoozed items routed to each active engineer."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            """SELECT c.engineer_id, e.user_id, count(*) AS live,
                      count(*) FILTER (WHERE c.due_on BETWEEN %s AND %s) AS due_soon,
                      count(*) FILTER (WHERE c.due_on < %s) AS overdue
               FROM care_items c JOIN engineers e ON e.id = c.engineer_id AND e.status = 'active'
               WHERE c.status IN ('open', 'snoozed')
               GROUP BY c.engineer_id, e.user_id ORDER BY count(*), c.engineer_id""",
            (today, today + datetime.timedelta(days=horizon), today)).fetchall()
    if not rows:
        raise BenchError("no engineer has a live care item: the generation routed nothing to a steward")
    keys = ("engineer_id", "user_id", "live", "due_soon", "overdue")
    typical, large = dict(zip(keys, rows[len(rows) // 2])), dict(zip(keys, rows[-1]))
    typical["label"], large["label"] = "typical", "largest"
    counts = [r[2] for r in rows]
    log(f"due lists: {len(rows):,} engineers with live items, median {statistics.median(counts):.0f}, "
        f"p99 {percentile(counts, 99)}, max {max(counts)}; typical engineer {typical['engineer_id']} "
        f"({typical['live']} live), largest engineer {large['engineer_id']} ({large['live']} live)")
    return [typical, large]


def issue_tokens(database_url: str, stewards: list[dict], now: datetime.datetime) -> None:
    """Bearer tokens stored as their SHA-256, as core.accounts.services.issue_token does."""
    with psycopg.connect(database_url) as conn:
        for s in stewards:
            s["token"] = TOKEN_PREFIX + secrets.token_urlsafe(32)
            conn.execute("INSERT INTO api_tokens (user_id, token_hash, kind, created_at, expires_at) "
                         "VALUES (%s, encode(sha256(%s::bytea), 'hex'), 'wechat', %s, %s)",
                         (s["user_id"], s["token"].encode(), now, now + datetime.timedelta(days=30)))


def due_list_in_process(app, steward: dict, n: int = 30) -> tuple[dict, Recorder, dict]:
    """Due-list requests through the Flask test client, statements recorded: the last response,
    the last request's statements, and the median wall time and SQL time (sum of statement
    durations, the driver's round trips included) of `n` requests."""
    from core.extensions import db
    client = app.test_client()
    walls, sqls = [], []
    for _ in range(n):
        with app.app_context(), Recorder(db.engine) as rec:
            t0 = time.perf_counter()
            response = client.get(DUE_PATH, headers={"Authorization": f"Bearer {steward['token']}"})
            walls.append((time.perf_counter() - t0) * 1000)
        if response.status_code != 200:
            raise BenchError(f"GET {DUE_PATH} as engineer {steward['engineer_id']}: {response.status_code} "
                             f"{response.get_data(as_text=True)[:500]}")
        sqls.append(sum(st["seconds"] for st in rec.statements) * 1000)
    timing = {"n": n, "wall_p50": statistics.median(walls), "sql_p50": statistics.median(sqls)}
    log(f"due list in process, {steward['label']} steward: {len(rec.statements)} statements, p50 "
        f"{timing['wall_p50']:.1f} ms of which SQL {timing['sql_p50']:.1f} ms ({n} requests)")
    for st in sorted(rec.statements, key=lambda x: -x["seconds"])[:3]:
        log(f"    {st['seconds'] * 1000:6.2f} ms  {_short(st['sql'], 120)}")
    return response.get_json(), rec, timing


def _items_of(body) -> tuple[int, object]:
    if isinstance(body, dict):
        items = body.get("items", body.get("reminders", []))
        return len(items) if isinstance(items, list) else 0, body.get("total", body.get("count"))
    return (len(body), None) if isinstance(body, list) else (0, None)


def due_list_http(args, procs: Processes, env: dict, tmp: Path, stewards: list[dict]) -> dict:
    """--requests sequential GETs over HTTP to the app under gunicorn, alternating the stewards."""
    port = free_port()
    access_log = tmp / "access.log"
    app = procs.start("gunicorn (app)", gunicorn_argv(args, port, "wsgi:app", access_log, tmp / "gunicorn.log"),
                      env, tmp / "gunicorn.out")
    url = f"http://127.0.0.1:{port}"
    wait_ready(app, url + "/healthz")
    log(f"app {url} ({args.workers} {args.worker_class} workers)")
    session = requests.Session()

    def get(steward: dict, bench_id: str) -> float:
        t0 = time.perf_counter()
        response = session.get(url + DUE_PATH, timeout=30, headers={
            "Authorization": f"Bearer {steward['token']}", "X-Bench-Id": bench_id})
        elapsed = time.perf_counter() - t0
        if response.status_code != 200:
            raise BenchError(f"GET {DUE_PATH}: {response.status_code} {response.text[:300]}")
        return elapsed

    for i in range(args.warmup):
        get(stewards[i % len(stewards)], f"warm-{i}")
    _, offset = read_access_log(access_log)
    latencies: dict[str, list[float]] = {s["label"]: [] for s in stewards}
    ids: dict[str, str] = {}
    started = time.monotonic()
    for i in range(args.requests):
        steward = stewards[i % len(stewards)]
        bench_id = f"due-{i}"
        ids[bench_id] = steward["label"]
        latencies[steward["label"]].append(get(steward, bench_id) * 1000)
    wall = time.monotonic() - started
    time.sleep(0.5)
    lines, _ = read_access_log(access_log, offset)
    server: dict[str, list[float]] = {s["label"]: [] for s in stewards}
    for line in lines:
        if line.bench_id in ids and DUE_RE.match(line.path):
            server[ids[line.bench_id]].append(line.micros / 1000)
    out = {"requests": args.requests, "wall_s": wall, "by": {}}
    for s in stewards:
        lat, srv = latencies[s["label"]], server[s["label"]]
        out["by"][s["label"]] = {
            "n": len(lat), "p50": percentile(lat, 50), "p95": percentile(lat, 95), "p99": percentile(lat, 99),
            "max": max(lat), "server_p50": percentile(srv, 50) if srv else None,
            "server_p99": percentile(srv, 99) if srv else None}
        f = out["by"][s["label"]]
        log(f"due list, {s['label']} steward (engineer {s['engineer_id']}, {s['live']} live items): "
            f"p50 {f['p50']:.1f} ms, p95 {f['p95']:.1f} ms, p99 {f['p99']:.1f} ms (server p50 "
            f"{f['server_p50'] or 0:.1f}, p99 {f['server_p99'] or 0:.1f} ms)")
    return out


# -- report -----------------------------------------------------------------------------------

def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def command_line(args) -> str:
    parts = [".venv/bin/python", "bench/engine.py"]
    defaults = build_parser().parse_args([])
    for name in ("estates", "residents", "products", "orders", "agents", "horizon", "requests", "warmup", "workers",
                 "worker_class", "pg", "redis"):
        value = getattr(args, name)
        if name == "orders" and value == args.residents:
            continue
        if value != getattr(defaults, name):
            parts += [f"--{name.replace('_', '-')}", str(value)]
    for flag in ("no_limiter", "explain"):
        if getattr(args, flag):
            parts.append("--" + flag.replace("_", "-"))
    return shlex.join(parts)


def targets_of(result: dict) -> list[tuple[str, bool, str]]:
    g, r, h1, h2, d = (result["generate"], result["rerun"], result["health"], result["health_update"],
                       result["due"]["by"])
    out = [(f"daily generation < {TARGET_GENERATE_S:.0f} s", g["wall_s"] < TARGET_GENERATE_S,
            f"{g['wall_s']:.1f} s, {g['rows']:,} items"),
           (f"immediate re-run < {TARGET_RERUN_S:.0f} s creating 0 items",
            r["wall_s"] < TARGET_RERUN_S and r["rows"] == 0, f"{r['wall_s']:.1f} s, {r['rows']:,} items"),
           (f"health recomputation < {TARGET_HEALTH_S:.0f} s (first)", h1["wall_s"] < TARGET_HEALTH_S,
            f"{h1['wall_s']:.1f} s, {h1['customers']:,} customers"),
           (f"health recomputation < {TARGET_HEALTH_S:.0f} s (daily update)", h2["wall_s"] < TARGET_HEALTH_S,
            f"{h2['wall_s']:.1f} s, {h2['customers']:,} customers")]
    for label, f in d.items():
        out.append((f"due list p99 < {TARGET_DUE_P99_MS:.0f} ms ({label} steward)", f["p99"] < TARGET_DUE_P99_MS,
                    f"{f['p99']:.1f} ms"))
    return out


def _cpu(run: dict) -> str:
    return (f"CPU: job {run['cpu_s']:.1f} s, its PostgreSQL backend {run['pg_cpu_s']:.1f} s; machine busy "
            f"{run['busy_share']:.0%}, load {run['load']:.2f}")


def report_lines(result: dict, markdown: bool) -> list[str]:
    m, sd, g, r, h1, h2, nd, d = (result["machine"], result["seed"], result["generate"], result["rerun"],
                                  result["health"], result["health_update"], result["next_day"], result["due"])
    c = sd["counts"]
    b = "**" if markdown else ""
    data = (f"{c['estates']:,} estates, {c['engineers']:,} engineers ({c['engineer_estates']:,} coverages, "
            f"2% left), {c['agent_duties']} agent duties, {c['residencies']:,} residents ({sd['active_bindings']:,} "
            f"with an active steward, {sd['ended_bindings']:,} whose steward left), {c['products']:,} products of "
            f"{c['product_models']} models, {c['maintenance_plans']} maintenance plans, {sd['schedules']:,} schedules "
            f"({sd['in_horizon']:,} = {sd['in_horizon'] / max(1, sd['schedules']):.1%} due within the "
            f"{result['horizon']}-day horizon, {sd['overdue']:,} overdue with a live item), {c['care_items']:,} care "
            f"items already there, {c['service_orders']:,} service orders ({c['service_reviews']:,} reviews, "
            f"{c['service_complaints']:,} complaints), {c['visits']:,} visits, {c['wechat_identities']:,} WeChat "
            f"logins, {c['subscription_quotas']:,} quota rows, {c['customer_notes']:,} notes, "
            f"{c['customer_follow_ups']:,} follow-ups; seeded in {sd['seconds']:.0f} s by set-based SQL, "
            f"VACUUM ANALYZE {result['vacuum_s']:.0f} s")
    runs = [("(a) generation", g, f"{g['rows']:,} items created"),
            ("(b) immediate re-run", r, f"{r['rows']:,} items created"),
            ("(c) health, first run (empty table)", h1, f"{h1['customers']:,} customers scored"),
            ("(c) health, daily update", h2, f"{h2['customers']:,} customers scored"),
            ("(e) next day's generation", nd, f"{nd['rows']:,} items created")]
    due = [f"{label} steward (engineer {s['engineer_id']}: {s['live']} live items, {s['due_soon']} due within "
           f"{result['horizon']} days, {s['overdue']} overdue; the response lists {s['listed']}"
           f"{'' if s['total'] is None else ' of ' + str(s['total'])}): p50 {f['p50']:.1f} ms, p95 {f['p95']:.1f} "
           f"ms, {b}p99 {f['p99']:.1f} ms{b}, max {f['max']:.1f} ms; server p50 {f['server_p50'] or 0:.1f} ms, p99 "
           f"{f['server_p99'] or 0:.1f} ms; {s['statements']} statements (in process, no HTTP: p50 "
           f"{s['in_process']['wall_p50']:.1f} ms, of which SQL {s['in_process']['sql_p50']:.1f} ms)"
           for label, f, s in ((lbl, d["by"][lbl], result["stewards"][lbl]) for lbl in d["by"])]
    targets = [f"{name}: {verdict(ok)} ({detail})" for name, ok, detail in targets_of(result)]
    if markdown:
        out = [f"Run of {result['date']} UTC: `{result['command']}`", "",
               f"Machine: {m['nproc']} CPUs ({m['cpu']}), PostgreSQL {m['postgres']} (shared_buffers "
               f"{result['pg']['shared_buffers']}, work_mem {result['pg']['work_mem']}), Python {m['python']}, "
               f"Flask {m['flask']}, gunicorn {m['gunicorn']} with {m['workers']} {m['worker_class']} workers; load "
               f"average {m['loadavg_start'][0]:.2f} at the start, {result['loadavg_end'][0]:.2f} at the end; "
               f"today = {result['today']} (Asia/Shanghai).", "", f"Data: {data}.", "",
               "| run | wall s | rows | statements | CPU s: job | CPU s: PostgreSQL | machine busy | load |",
               "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for label, run, rows in runs:
            out.append(f"| {label} | {run['wall_s']:.1f} | {rows} | {run['statements']} | {run['cpu_s']:.1f} | "
                       f"{run['pg_cpu_s']:.1f} | {run['busy_share']:.0%} | {run['load']:.2f} |")
        out += ["", f"Due list, `GET {DUE_PATH}`: {d['requests']} sequential requests over HTTP from one client "
                    f"(gunicorn, {m['workers']} {m['worker_class']} workers), alternating two stewards, after "
                    f"{result['warmup']} warm-up requests:", ""]
        out += [f"- {line}" for line in due]
        out += ["", "Targets: " + "; ".join(targets) + "."]
        return out
    out = ["", "=" * 96, f"Service engine benchmark, {result['date']} UTC (today = {result['today']}, Asia/Shanghai)",
           f"machine: {m['nproc']} CPUs, {m['cpu']}, PostgreSQL {m['postgres']}, load average "
           f"{m['loadavg_start'][0]:.2f} at the start, {result['loadavg_end'][0]:.2f} at the end", "",
           f"data: {data}", ""]
    for label, run, rows in runs:
        out.append(f"{label:<38} {run['wall_s']:7.1f} s   {rows:<28} {run['statements']:>4} statements   "
                   f"{_cpu(run)}")
    out += ["", f"due list, GET {DUE_PATH}: {d['requests']} sequential HTTP requests (gunicorn "
                f"{m['workers']} {m['worker_class']} workers), after {result['warmup']} warm-up"]
    out += [f"  {line}" for line in due]
    out += [""] + [f"target {t}" for t in targets]
    for title, lines in result.get("explains", {}).items():
        out += ["", f"EXPLAIN ANALYZE, {title}:"] + [f"  {line}" for line in lines]
    out += ["", f"command: {result['command']}", "=" * 96]
    return out


def write_readme(result: dict) -> None:
    text = README.read_text() if README.exists() else ""
    if README_START not in text or README_END not in text:
        log(f"{README} has no engine.py results markers; not written")
        return
    head, rest = text.split(README_START, 1)
    old, tail_text = rest.split(README_END, 1)
    history = [line for line in old.splitlines() if re.match(r"^\| \d{4}-\d\d-\d\d", line)]
    g, r, h1, h2, nd, d = (result["generate"], result["rerun"], result["health"], result["health_update"],
                           result["next_day"], result["due"]["by"])
    row = (f"| {result['date']} | {result['seed']['counts']['products']:,} | {result['seed']['schedules']:,} | "
           f"{g['wall_s']:.1f} | {g['rows']:,} | {r['wall_s']:.1f} | {h1['wall_s']:.1f} / {h2['wall_s']:.1f} | "
           f"{h1['customers']:,} | {d['typical']['p99']:.1f} / {d['largest']['p99']:.1f} | {nd['wall_s']:.1f} | "
           f"{result['machine']['loadavg_start'][0]:.2f} |")
    history = [row] + history[:HISTORY_KEEP - 1]
    block = ["", *report_lines(result, markdown=True), "", "Recent runs, newest first (the machine is shared: "
             "compare runs, not single figures; *load* is the load average at the start):", "", HISTORY_HEADER,
             "| --- |" + " ---: |" * 10, *history, ""]
    README.write_text(head + README_START + "\n".join(block) + "\n" + README_END + tail_text)
    log(f"figures written to {README.relative_to(ROOT)}")


# -- main -------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--estates", type=int, default=ISSUE_SIZES["estates"], help="estates (3 engineers each)")
    p.add_argument("--residents", type=int, default=ISSUE_SIZES["residents"], help="residents (users)")
    p.add_argument("--products", type=int, default=ISSUE_SIZES["products"], help="product archives")
    p.add_argument("--orders", type=int, default=None, help="residents' service orders (default: one per resident)")
    p.add_argument("--agents", type=int, default=8, help="agents on duty (one per city, then districts)")
    p.add_argument("--horizon", type=int, default=30, help="the generation's horizon in days")
    p.add_argument("--requests", type=int, default=500, help="measured due-list requests")
    p.add_argument("--warmup", type=int, default=20, help="unmeasured due-list requests first")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    p.add_argument("--worker-class", default="sync", choices=("sync", "gthread"), help="gunicorn worker class")
    p.add_argument("--threads", type=int, default=4, help="threads per worker with --worker-class gthread")
    p.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"),
                   help="PostgreSQL server (any database on it) where the benchmark database is created")
    p.add_argument("--redis", default="redis://127.0.0.1:6379/14", help="rate-limit storage")
    p.add_argument("--no-limiter", action="store_true", help="RATELIMIT_ENABLED=false instead of high limits")
    p.add_argument("--seed-only", action="store_true", help="seed, print the counts and stop (no services needed)")
    p.add_argument("--explain", action="store_true", help="print the EXPLAIN ANALYZE plans even if every target is met")
    p.add_argument("--no-readme", action="store_true", help="do not write the figures into bench/README.md")
    p.add_argument("--keep-logs", action="store_true", help="keep the temporary directory with the server logs")
    return p


def build_app(database_url: str):
    from core import create_app
    from core.config import normalise_database_url
    # One pooled connection: the job's PostgreSQL backend is the one whose CPU is read from /proc.
    return create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url), "SECRET_KEY": SECRET_KEY,
                       "RATELIMIT_ENABLED": False, "RATELIMIT_STORAGE_URI": "memory://", "LOG_LEVEL": "WARNING",
                       "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0, "pool_pre_ping": True}})


def maintenance_template() -> str:
    from core.config import load_config
    config = load_config()
    for key in MAINTENANCE_TEMPLATE_KEYS:
        if config.get(key):
            return config[key]
    return "tmpl_maintenance_due"


def run(args, tmp: Path, procs: Processes) -> dict:
    now_aware = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    now, today = now_aware.replace(tzinfo=None), now_aware.astimezone(BUSINESS_TZ).date()
    with fresh_database(args.pg, prefix="linli_bench_engine_") as (database_url, database, pg_settings):
        machine = machine_info(pg_settings["server_version"], args)
        (tmp / "instance").mkdir()
        env = app_env(args, database_url, "http://127.0.0.1:9/", tmp / "instance")
        log("flask db upgrade")
        done = subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise BenchError(f"flask db upgrade failed:\n{done.stdout}\n{done.stderr}")
        os.environ.update({k: env[k] for k in ("DATABASE_URL", "SECRET_KEY", "LINLI_INSTANCE_DIR")})
        if not args.seed_only:
            generate, health = find_service(GENERATE), find_service(HEALTH)
        template = maintenance_template()
        seeded = seed(args, database_url, today, now, template)
        drop_helpers(database_url)
        vacuum_s = vacuum_analyze(database_url)
        if args.seed_only:
            print(json.dumps({"seed": seeded, "vacuum_s": vacuum_s}, indent=2, default=str))
            return {}
        app = build_app(database_url)
        try:
            items = "SELECT count(*) FROM care_items"
            max_id = "SELECT coalesce(max(id), 0) FROM care_items"
            with psycopg.connect(database_url) as conn:
                first_new_id = conn.execute(max_id).fetchone()[0] + 1
            gen = timed_run(app, "(a) generation", generate, today, args.horizon, items)
            rerun = timed_run(app, "(b) immediate re-run", generate, today, args.horizon, items)
            if rerun["rows"] != 0:
                raise BenchError(f"the immediate re-run created {rerun['rows']:,} care items (must be 0)")
            if gen["rows"] == 0:
                raise BenchError("the generation created no care item")
            with psycopg.connect(database_url) as conn:
                routes = dict(conn.execute("SELECT route, count(*) FROM care_items WHERE id >= %s GROUP BY route",
                                           (first_new_id,)).fetchall())
            log(f"generated items by route: {routes}")
            # Rows the run wrote: computed since it started (the service stamps computed_at).
            scored = "SELECT count(*) FROM customer_health WHERE computed_at >= :since"
            h1 = timed_run(app, "(c) health, first run", health, today, None, scored)
            h1["customers"] = h1["rows"]
            with psycopg.connect(database_url) as conn:
                bands = dict(conn.execute("SELECT band, count(*) FROM customer_health GROUP BY band").fetchall())
            log(f"health bands: {bands}")
            # The next day's job: every row again, now with a previous score.
            h2 = timed_run(app, "(c) health, daily update", health, today + datetime.timedelta(days=1), None, scored)
            h2["customers"] = h2["rows"]
            with psycopg.connect(database_url, autocommit=True) as conn:
                conn.execute("ANALYZE care_items")
                conn.execute("ANALYZE customer_health")

            stewards = pick_stewards(database_url, today, args.horizon)
            issue_tokens(database_url, stewards, now)
            for s in stewards:
                body, rec, s["in_process"] = due_list_in_process(app, s)
                s["listed"], s["total"] = _items_of(body)
                s["statements"] = len(rec.statements)
                s["_recorded"] = rec.statements
            due = due_list_http(args, procs, env, tmp, stewards)
            procs.stop_all()
            result = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
                      "today": today.isoformat(), "command": command_line(args), "machine": machine, "pg": pg_settings,
                      "seed": seeded, "vacuum_s": vacuum_s, "horizon": args.horizon, "warmup": args.warmup,
                      "generate": gen, "rerun": rerun, "routes": routes, "health": h1, "health_update": h2,
                      "bands": bands, "due": due,
                      "stewards": {s["label"]: {k: v for k, v in s.items() if not k.startswith("_") and k != "token"}
                                   for s in stewards}}
            # Plans of what missed (or everything with --explain).
            missed = {name for name, ok, _ in targets_of(result) if not ok}
            explains = {}
            if args.explain or any("generation" in n for n in missed):
                slowest = gen["_recorded"][0]
                explains[f"the generation's slowest statement ({slowest['seconds']:.1f} s in the run; the run's "
                         f"own items removed first, rolled back)"] = plan_summary(explain(
                             app, slowest, [("DELETE FROM care_items WHERE id >= :first", {"first": first_new_id})]))
            if args.explain or any("re-run" in n for n in missed):
                slowest = rerun["_recorded"][0]
                explains[f"the re-run's slowest statement ({slowest['seconds']:.1f} s in the re-run, rolled back)"] = \
                    plan_summary(explain(app, slowest))
            if args.explain or any("due list" in n for n in missed):
                for s in stewards:  # the statements reading the care items (the page, the counts)
                    for i, st in enumerate(s["_recorded"]):
                        if "FROM care_items" in st["sql"] and st["sql"].lstrip().upper().startswith("SELECT"):
                            explains[f"due list of the {s['label']} steward, statement {i + 1} of "
                                     f"{len(s['_recorded'])}"] = plan_summary(explain(app, st))
            if args.explain or any("health" in n for n in missed):
                slowest = h2["_recorded"][0]
                explains[f"health's slowest statement ({slowest['seconds']:.1f} s in the daily update, "
                         f"rolled back)"] = plan_summary(explain(app, slowest))
            result["explains"] = explains
            # (e) the next day: what a daily run creates in steady state.
            result["next_day"] = timed_run(app, "(e) next day's generation", generate,
                                           today + datetime.timedelta(days=1), args.horizon, items)
            for key in ("generate", "rerun", "health", "health_update", "next_day"):
                result[key].pop("_recorded", None)
        finally:
            from core.extensions import db
            with app.app_context():
                db.engine.dispose()
    result["loadavg_end"] = os.getloadavg()
    return result


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.orders is None:
        args.orders = args.residents
    if args.estates < 3 or args.residents < 10 * args.estates or args.products < args.residents // 10:
        raise SystemExit("need at least 3 estates, 10 residents per estate, and products >= residents / 10")

    def interrupted(signum, frame):
        raise Interrupted(signal.Signals(signum).name)
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)

    tmp = Path(tempfile.mkdtemp(prefix="linli-bench-engine-"))
    procs = Processes()
    failed = True
    try:
        log(f"load average {os.getloadavg()[0]:.2f} at the start")
        result = run(args, tmp, procs)
        if args.seed_only:
            failed = False
            return 0
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
