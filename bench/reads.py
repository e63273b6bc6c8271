"""Hot reads against bare Flask: the four reads a resident's mini-program makes most, side by side.

    .venv/bin/python bench/reads.py [--estates 1000] [--residents 100000] [--orders 200000]

The endpoints: `GET /api/v1/me/stewards`, `GET /api/v1/estates/{id}/engineers` (the ranking),
`GET /api/v1/estates/{id}/feed` (first page) and `GET /api/v1/me/points`; the ceiling is bench/
bare_app.py's `GET /json` under an identical gunicorn. Everything runs on this machine and is torn
down at the end (also on Ctrl-C and errors):

1. a fresh PostgreSQL database migrated with `flask db upgrade`, and the data of bench/community.py
   (its set-based SQL: estates with 3 covering engineers, residents, orders, likes, feed posts,
   readers' bearer tokens), `flask community rebuild-stats`; each reader (one resident in each
   of estates 1..--tokens) also gets a steward (a covering engineer of their estate) and three
   point grants through `points.services.grant` (three lots, one of them expiring soon);
   then `VACUUM ANALYZE`;
2. **a profile of each endpoint in one process** (`create_app()` on that database, each request
   through the whole WSGI app with its bearer token, after --warmup unmeasured requests):
   wall and CPU time per request, the SQL statements per request (each statement the driver
   sends, and the commits), and where the time goes (cProfile's own time per package:
   sqlalchemy, psycopg, marshmallow, flask_smorest, werkzeug, flask, the app's own code, ...);
3. the app under gunicorn (`wsgi:app`, the rate limiter on, counting in Redis with high limits;
   no HTTP cache exists) and bare Flask under an identical gunicorn; every endpoint is checked
   once (200 and the expected content), then wrk runs at --connections connections in
   alternating rounds (bare, stewards, ranking, feed, points, bare, ...), each reader's token on
   its own estate; the round with the median req/s is reported, the ratio to bare Flask is the
   median of the per-round ratios, and gunicorn's `%(D)s` gives the server time.

The machine is shared: the load average and other processes' CPU share are printed. Figures are
printed with the command that reproduces them and written into bench/README.md (runs of at least
3 rounds of 10 s; --no-readme leaves it alone).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]  # see bench/community.py
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import requests  # noqa: E402

from bench.binding import BenchError, Interrupted, Processes, app_env, call, ensure_wrk, free_port, log, machine_info  # noqa: E402
from bench.community import APPID, fresh_database, rebuild_stats, run_wrk, seed, start_stack, vacuum_analyze, wrk_script  # noqa: E402

README = ROOT / "bench" / "README.md"
README_START = "<!-- reads.py results: start (written by bench/reads.py) -->"
README_END = "<!-- reads.py results: end -->"
TARGET_RATIO = {"stewards": 0.50, "ranking": 0.40, "feed": 0.50, "points": 0.50}
TARGET_P99_MS = 50.0
ENDPOINTS = ("stewards", "ranking", "feed", "points")
PATHS = {"stewards": "/api/v1/me/stewards", "ranking": "/api/v1/estates/{estate}/engineers",
         "feed": "/api/v1/estates/{estate}/feed", "points": "/api/v1/me/points"}
PATH_RES = {"bare": re.compile(r"^/json$"), "stewards": re.compile(r"^/api/v1/me/stewards$"),
            "ranking": re.compile(r"^/api/v1/estates/\d+/engineers$"),
            "feed": re.compile(r"^/api/v1/estates/\d+/feed$"), "points": re.compile(r"^/api/v1/me/points$")}

STEWARDS_SQL = """
INSERT INTO steward_bindings (resident_id, engineer_id, estate_id, started_at, start_reason)
SELECT %(user)s, min(engineer_id), %(estate)s, now() AT TIME ZONE 'utc', 'scan'
FROM engineer_estates WHERE estate_id = %(estate)s"""

# The in-process profile, run as a child with the app's environment (its own interpreter, as a
# gunicorn worker has). It reads a JSON job on stdin and prints one JSON line.
PROFILE = r"""
import cProfile, json, pstats, re, sys, time
from werkzeug.test import EnvironBuilder
from core import create_app

job = json.loads(sys.stdin.read())
app = create_app()
with app.app_context():
    from core.extensions import db
    from points import services as points
    from datetime import timedelta
    from core.db import utcnow
    for user_id in job["grant_users"]:
        points.grant(user_id, 100, "bench", f"bench-reads:{user_id}:1", "基准测试")
        points.grant(user_id, 50, "bench", f"bench-reads:{user_id}:2", "基准测试")
        points.grant(user_id, 20, "bench", f"bench-reads:{user_id}:3", "基准测试",
                     expires_at=utcnow() + timedelta(days=3))
    db.session.commit()
    engine = db.engine
seen = []
sa_event = __import__("sqlalchemy").event
sa_event.listen(engine, "before_cursor_execute", lambda c, cur, stmt, *a: seen.append(stmt))
sa_event.listen(engine, "commit", lambda c: seen.append("COMMIT"))

def label(sql):
    sql = " ".join(sql.split())
    m = re.match(r"(?i)(WITH|SELECT|INSERT INTO|UPDATE|DELETE FROM)\b", sql)
    if sql == "COMMIT" or not m:
        return sql[:30]
    word = m.group(1).upper()
    if word not in ("SELECT", "WITH"):
        table = re.match(r"(?i)\w+(?: INTO| FROM)?\s+(\w+)", sql)
        return f"{word} {table.group(1) if table else '?'}"
    depth = 0  # the statement's own FROM: the first one outside parentheses (not a subquery's)
    for token in re.finditer(r"[()]|(?i:\bFROM\s+(\w+))", sql):
        if token.group(0) == "(":
            depth += 1
        elif token.group(0) == ")":
            depth -= 1
        elif depth == 0:
            return f"SELECT {token.group(1)}"
    return "SELECT ?"

def group(filename):
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    for ours in ("core", "community", "points", "ambassador", "activation"):
        if f"/{ours}/" in filename:
            return "app: " + ours
    return "python" if filename.startswith(("/usr", "<")) or "/lib/python" in filename else "other"

def responder(status, headers, exc_info=None):
    responder.status = status

out = {}
for name, pairs in job["endpoints"].items():
    environs = [EnvironBuilder(path=p, headers={"Authorization": "Bearer " + t}).get_environ() for p, t in pairs]
    def one(i):
        body = b"".join(app(dict(environs[i % len(environs)]), responder))
        if not responder.status.startswith("200"):
            raise SystemExit(f"{name}: {responder.status} {body[:300]!r}")
        return body
    for i in range(job["warmup"]):
        one(i)
    n = job["requests"]
    seen.clear()
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        one(i)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    sent = len(seen)
    statements = {}
    for s in seen:
        statements[label(s)] = statements.get(label(s), 0) + 1
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(n):
        one(i)
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    groups, total = {}, 0.0
    top = sorted(((tottime, f"{filename.rsplit('/', 2)[-2:]}:{line}:{func}") for (filename, line, func), (_, _, tottime, _, _)
                  in stats.items()), reverse=True)[:job["top"]]
    for (filename, _, _), (_, _, tottime, _, _) in stats.items():
        g = group(filename)
        groups[g] = groups.get(g, 0.0) + tottime
        total += tottime
    out[name] = {"requests": n, "wall_ms": wall * 1000 / n, "cpu_ms": cpu * 1000 / n,
                 "statements": {k: v / n for k, v in sorted(statements.items())},
                 "statements_per_request": sent / n,
                 "profile": {k: v * 1000 / n for k, v in sorted(groups.items(), key=lambda kv: -kv[1])},
                 "profiled_ms": total * 1000 / n, "top": [(name, t * 1000 / n) for t, name in top]}
print("BENCH_PROFILE " + json.dumps(out), flush=True)
"""


def prepare_readers(database_url: str, readers: list) -> None:
    """Each reader gets a steward: the first engineer covering their estate."""
    with psycopg.connect(database_url) as conn:
        for estate_id, user_id, _ in readers:
            conn.execute(STEWARDS_SQL, {"user": user_id, "estate": estate_id})
        conn.commit()


def pairs_of(name: str, readers: list) -> list[tuple[str, str]]:
    return [(PATHS[name].format(estate=estate_id), token) for estate_id, _, token in readers]


def profile(args, env: dict, readers: list) -> dict:
    """The in-process profile (and the readers' point grants, before it)."""
    log(f"in-process profile: {args.profile_requests} requests per endpoint after {args.warmup} warm-up")
    job = {"grant_users": [user_id for _, user_id, _ in readers], "warmup": args.warmup,
           "requests": args.profile_requests, "top": 25 if args.profile_only else 0,
           "endpoints": {name: pairs_of(name, readers) for name in ENDPOINTS}}
    result = subprocess.run([sys.executable, "-c", PROFILE], cwd=ROOT, env=env, input=json.dumps(job),
                            capture_output=True, text=True, timeout=1800)
    match = re.search(r"^BENCH_PROFILE (\{.*\})$", result.stdout, re.MULTILINE)
    if result.returncode != 0 or match is None:
        raise BenchError(f"profile failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return json.loads(match.group(1))


def check_reads(app_url: str, readers: list) -> None:
    """Each endpoint answers each reader with what the data holds, before anything is timed."""
    s = requests.Session()
    for estate_id, _, token in readers:
        get = lambda name: call(s, "GET", app_url + PATHS[name].format(estate=estate_id), 200,  # noqa: E731
                                token=token).json()
        stewards, ranked, feed, points = get("stewards"), get("ranking"), get("feed"), get("points")
        if len(stewards["items"]) != 1 or stewards["items"][0]["estate"]["id"] != estate_id:
            raise BenchError(f"estate {estate_id}: unexpected stewards {stewards}")
        if len(ranked["items"]) != 3:
            raise BenchError(f"estate {estate_id}: unexpected ranking {ranked}")
        if not feed["items"] or any(item["estate_id"] != estate_id for item in feed["items"]):
            raise BenchError(f"estate {estate_id}: unexpected feed page")
        if points["balance"] != 170 or points["expiring"]["points"] != 20:
            raise BenchError(f"reader of estate {estate_id}: unexpected points {points}")


def read_throughput(args, stack: dict, readers: list, tmp: Path) -> dict:
    wrk = ensure_wrk()
    check_reads(stack["app_url"], readers)
    targets = {"bare": (wrk_script(tmp, "bare", [("/json", t) for _, _, t in readers]), stack["bare_url"],
                        stack["bare_access_log"], PATH_RES["bare"], "bare")}
    for name in ENDPOINTS:
        targets[name] = (wrk_script(tmp, name, pairs_of(name, readers)), stack["app_url"], stack["access_log"],
                         PATH_RES[name], "app")
    for name, target in targets.items():  # warm-up: pools and prepared statements in every worker
        run_wrk(args, wrk, *target, 3, stack["cpu"])
    rounds: dict[str, list[dict]] = {name: [] for name in targets}
    for r in range(1, args.rounds + 1):
        for name, target in targets.items():
            log(f"wrk round {r}/{args.rounds}: {name}, {args.duration} s")
            rounds[name].append(run_wrk(args, wrk, *target, args.duration, stack["cpu"]))
    out = {"rounds": rounds, "ratios": {}, "ratio": {}, "median": {}}
    for name in ENDPOINTS:
        out["ratios"][name] = [x["rps"] / b["rps"] for b, x in zip(rounds["bare"], rounds[name], strict=True)]
        out["ratio"][name] = statistics.median(out["ratios"][name])
    for name, rs in rounds.items():
        out["median"][name] = sorted(rs, key=lambda r: r["rps"])[(len(rs) - 1) // 2] | {
            "rps_median": statistics.median(r["rps"] for r in rs)}
    return out


def command_line(args) -> str:
    parts = [".venv/bin/python", "bench/reads.py"]
    defaults = build_parser().parse_args([])
    for name in ("estates", "residents", "orders", "tokens", "hot_posts", "workers", "worker_class", "duration",
                 "rounds", "connections", "profile_requests", "pg", "redis"):
        if getattr(args, name) != getattr(defaults, name):
            parts += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    return shlex.join(parts)


def report_lines(result: dict, markdown: bool) -> list[str]:
    m, read, prof = result["machine"], result["read"], result["profile"]
    lines = [f"Run of {result['date']} UTC: `{result['command']}`", "",
             f"Code: commit {result['commit']}. Machine: {m['nproc']} CPUs ({m['cpu']}), PostgreSQL {m['postgres']}, "
             f"Python {m['python']}, Flask {m['flask']}, gunicorn {m['gunicorn']} with {m['workers']} "
             f"{m['worker_class']} workers (both servers); load average {m['loadavg_start'][0]:.2f} at the start, "
             f"{result['loadavg_end'][0]:.2f} at the end. Data: {result['sizes']}. Rate limiter on (Redis), no HTTP "
             "cache.", "",
             f"Throughput: wrk {result['wrk_args']}, {result['rounds']} alternating rounds of {result['duration']} s "
             f"after a 3 s warm-up each, {result['tokens']} readers; the round with the median req/s.", "",
             "| endpoint | req/s | ratio to bare (by round) | latency p50 ms | latency p99 ms | server p99 ms "
             "| CPU per request: workers, PostgreSQL ms | target |",
             "| --- | ---: | --- | ---: | ---: | ---: | --- | --- |"]
    for name in ("bare", *ENDPOINTS):
        r = read["median"][name]
        cpu = r["cpu"]
        if name == "bare":
            ratio, target = "–", "–"
        else:
            ratio = f"**{read['ratio'][name]:.0%}** ({', '.join(f'{x:.0%}' for x in read['ratios'][name])})"
            ok = read["ratio"][name] >= TARGET_RATIO[name] and r["p99_us"] / 1000 < TARGET_P99_MS
            target = f"≥ {TARGET_RATIO[name]:.0%}, p99 < {TARGET_P99_MS:.0f} ms: {'met' if ok else 'MISSED'}"
        label = "bare Flask `GET /json`" if name == "bare" else f"`GET {PATHS[name].replace('{estate}', '{id}')}`"
        lines.append(f"| {label} | {r['rps_median']:.0f} | {ratio} | {r['p50_us'] / 1000:.1f} | "
                     f"{r['p99_us'] / 1000:.1f} | {r['server_p99_ms']:.2f} | {cpu['server']:.2f}, {cpu['postgres']:.2f} "
                     f"| {target} |")
    lines += ["", f"In one process ({result['profile_requests']} requests per endpoint through the WSGI app, "
              "PostgreSQL on the same machine): time per request, statements per request, and cProfile's own "
              "time per package.", "",
              "| endpoint | wall ms | CPU ms | statements per request | where the time goes (ms per request, "
              "under cProfile) |", "| --- | ---: | ---: | --- | --- |"]
    for name in ENDPOINTS:
        p = prof[name]
        statements = ", ".join(f"{v:g} × {k}" for k, v in p["statements"].items())
        top = ", ".join(f"{k} {v:.2f}" for k, v in list(p["profile"].items())[:7])
        lines.append(f"| {name} | {p['wall_ms']:.2f} | {p['cpu_ms']:.2f} | {p['statements_per_request']:g}: "
                     f"{statements} | {top} (of {p['profiled_ms']:.2f}) |")
    return lines


def write_readme(result: dict) -> None:
    text = README.read_text()
    block = "\n".join([README_START, *report_lines(result, markdown=True), README_END])
    if README_START in text:
        head, rest = text.split(README_START, 1)
        text = head + block + rest.split(README_END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    README.write_text(text)
    log("bench/README.md updated")


def build_parser() -> argparse.ArgumentParser:
    cpus = len(os.sched_getaffinity(0))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--estates", type=int, default=1000, help="estates (3 engineers each)")
    p.add_argument("--residents", type=int, default=100_000, help="residents (users)")
    p.add_argument("--orders", type=int, default=200_000, help="service orders over 3 years")
    p.add_argument("--hot-posts", type=int, default=300, help="feed posts in each estate the readers live in")
    p.add_argument("--tokens", type=int, default=16, help="readers: one resident in each of estates 1..N")
    p.add_argument("--workers", type=int, default=2 * cpus + 1, help="gunicorn workers (both servers)")
    p.add_argument("--worker-class", default="sync", choices=("sync", "gthread"), help="gunicorn worker class")
    p.add_argument("--threads", type=int, default=4, help="threads per worker with --worker-class gthread")
    p.add_argument("--duration", type=int, default=10, help="seconds of each wrk round")
    p.add_argument("--rounds", type=int, default=3, help="rounds of (bare, stewards, ranking, feed, points)")
    p.add_argument("--connections", type=int, default=16, help="wrk connections")
    p.add_argument("--wrk-threads", type=int, default=2, help="wrk threads")
    p.add_argument("--warmup", type=int, default=50, help="unmeasured requests per endpoint before the profile")
    p.add_argument("--profile-requests", type=int, default=400, help="profiled requests per endpoint")
    p.add_argument("--profile-only", action="store_true", help="the in-process profile only, no gunicorn and wrk")
    p.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"),
                   help="PostgreSQL server (any database on it) where the benchmark database is created")
    p.add_argument("--redis", default="redis://127.0.0.1:6379/14", help="rate-limit storage")
    p.add_argument("--no-readme", action="store_true", help="do not write the figures into bench/README.md")
    p.add_argument("--keep-logs", action="store_true", help="keep the temporary directory with the server logs")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.no_limiter, args.notify_residents = False, 0  # what bench/community.py's helpers read
    if args.estates < args.tokens + 1 or args.residents < 20 * args.estates:
        raise SystemExit("need more estates than --tokens, and at least 20 x --estates residents")

    def interrupted(signum, frame):
        raise Interrupted(signal.Signals(signum).name)
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)

    tmp = Path(tempfile.mkdtemp(prefix="linli-bench-reads-"))
    procs = Processes()
    failed = True
    try:
        with fresh_database(args.pg, "linli_bench_reads_") as (database_url, database, pg_settings):
            machine = machine_info(pg_settings["server_version"], args)
            fake_port = free_port()
            (tmp / "instance").mkdir()
            env = app_env(args, database_url, f"http://127.0.0.1:{fake_port}/", tmp / "instance")
            env["WECHAT_APPID"] = APPID
            try:
                log("flask db upgrade")
                done = subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env,
                                      capture_output=True, text=True, timeout=600)
                if done.returncode != 0:
                    raise BenchError(f"flask db upgrade failed:\n{done.stdout}\n{done.stderr}")
                seeded = seed(args, database_url)
                readers = seeded["readers"]
                prepare_readers(database_url, readers)
                rebuild_stats(env, database_url)
                vacuum_analyze(database_url)
                profiled = profile(args, env, readers)
                read = None
                if not args.profile_only:
                    stack = start_stack(args, procs, env, tmp, fake_port, database)
                    read = read_throughput(args, stack, readers, tmp)
            finally:
                procs.stop_all()
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip() or "unknown"
        result = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
                  "command": command_line(args), "commit": commit, "machine": machine, "profile": profiled,
                  "read": read, "duration": args.duration, "rounds": args.rounds, "tokens": len(readers),
                  "profile_requests": args.profile_requests,
                  "sizes": f"{args.estates:,} estates, {args.residents:,} residents, {args.orders:,} orders",
                  "wrk_args": f"-t{args.wrk_threads} -c{args.connections}", "loadavg_end": os.getloadavg()}
        (tmp / "result.json").write_text(json.dumps(result, indent=2, default=str))
        if read is None:
            print(json.dumps(profiled, indent=1))
        else:
            print("\n".join(report_lines(result, markdown=False)))
            if args.no_readme or args.duration < 10 or args.rounds < 3:
                log("bench/README.md not written (--no-readme, or fewer than 3 rounds of 10 s)")
            else:
                write_readme(result)
        failed = False
        return 0
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
