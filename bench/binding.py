"""Steward binding benchmark: server time of the binding flow, and read throughput against bare Flask.

    .venv/bin/python bench/binding.py [--bindings 1000] [--workers N] [--duration S]

Everything runs on this machine and is torn down at the end (also on Ctrl-C and errors):

1. a fresh PostgreSQL database (unique name) on --pg, migrated with `flask db upgrade`;
2. the fake WeChat (`flask wechat-fake --port P`) and the app under gunicorn (`wsgi:app`, sync
   workers), whose access log records each request's server time (`%(D)s`, microseconds from
   the parsed request to the sent response) and the client's `X-Bench-Id` header;
3. setup through the real API: an admin (CLI), an estate and an engineer (admin API), the
   engineer's WeChat login and claim;
4. the binding flow, --bindings times after --warmup unmeasured flows, from --clients threads:
   the engineer mints a binding code (`POST /api/v1/engineer/binding-codes`, which calls the
   fake's getwxacodeunlimit), then a new resident binds with a fresh wx.login code
   (`POST /api/v1/bindings`). The wx.login code comes from the fake's `/_fake/codes` control
   before the flow starts; that call is setup and is not timed. One flow's server time is the
   sum of its two requests' server times, read from gunicorn's access log. Then --serial flows
   from one client: the flow's own latency, without queueing behind other flows;
5. read throughput with wrk: `GET /api/v1/me/stewards` with bound residents' tokens, and the one
   JSON endpoint of bench/bare_app.py under an identical gunicorn on another port, in
   alternating rounds (bare, stewards, bare, stewards, ...);
6. CPU seconds per flow and per request of each part (app, fake WeChat, PostgreSQL backends,
   client, wrk) from /proc, and the share of the machine other processes took meanwhile.

The rate limiter stays on, counting in Redis (--redis) with limits far above the load, so its
cost (Redis round trips on the login, code and binding routes) is part of the figures;
--no-limiter switches it off instead.

The figures are printed with the command that reproduces them, and written into bench/README.md
(runs with fewer than 1,000 bindings, or --no-readme, leave the README alone).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime
import importlib.metadata
import json
import math
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "bench" / "README.md"
README_START = "<!-- binding.py results: start (written by bench/binding.py) -->"
README_END = "<!-- binding.py results: end -->"
HISTORY_HEADER = ("| date (UTC) | bindings | workers | server p50 | server p99 | stewards req/s | bare req/s | ratio "
                  "| others |")
HISTORY_KEEP = 6

TARGET_BINDING_P99_MS = 100.0
TARGET_READ_RATIO = 0.50

SECRET_KEY = "bench-secret-key-not-for-production-0123456789"
HIGH_LIMIT = "1000000/minute"
LIMIT_SETTINGS = ("RATELIMIT_LOGIN_PER_IP", "RATELIMIT_LOGIN_PER_ACCOUNT", "RATELIMIT_BINDING_PER_IP",
                  "RATELIMIT_CODES_PER_USER", "RATELIMIT_CODES_PER_IP")
# X-Bench-Id, method, path, status, server time in microseconds
ACCESS_LOG_FORMAT = '%({x-bench-id}i)s %(m)s %(U)s %(s)s %(D)s'
ADMIN_USER, ADMIN_PASSWORD = "bench-admin", "bench-admin-password-1"
STEWARDS_PATH = "/api/v1/me/stewards"
BARE_PATH = "/json"
RAW_PATH = "/db"


class BenchError(RuntimeError):
    """The benchmark cannot go on (a setup step failed, a request was refused, ...)."""


class Interrupted(BaseException):
    """SIGTERM/SIGHUP: unwind through the finally blocks like Ctrl-C does."""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- numbers ----------------------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p99 of 1,000 values is the 990th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summary_ms(values_us: list[float]) -> dict:
    return {name: percentile(values_us, p) / 1000 for name, p in (("p50", 50), ("p90", 90), ("p99", 99))} | {
        "max": max(values_us) / 1000, "mean": statistics.fmean(values_us) / 1000, "n": len(values_us)}


# -- processes --------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log_path: Path


@dataclass
class Processes:
    """Every process this run starts, each in its own process group, stopped in reverse order."""
    procs: list[Proc] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict, log_path: Path) -> Proc:
        with open(log_path, "ab") as out:
            popen = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        proc = Proc(name, popen, log_path)
        self.procs.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            self._signal(proc, signal.SIGTERM)
        for proc in reversed(self.procs):
            try:
                proc.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                log(f"{proc.name} did not stop in 15 s: SIGKILL")
                self._signal(proc, signal.SIGKILL)
                proc.popen.wait(timeout=5)
            # Workers of a gunicorn whose master is gone would still be in the group.
            self._signal(proc, signal.SIGKILL)
        self.procs.clear()

    @staticmethod
    def _signal(proc: Proc, sig: int) -> None:
        # start_new_session made the child a group leader: its pid is the group id.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.popen.pid, sig)


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_ready(proc: Proc, url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise BenchError(f"{proc.name} exited with {proc.popen.returncode}:\n{tail(proc.log_path)}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise BenchError(f"{proc.name} not ready at {url} after {timeout} s:\n{tail(proc.log_path)}")


def run_checked(argv: list[str], env: dict, what: str) -> str:
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise BenchError(f"{what} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout


# -- CPU accounting ---------------------------------------------------------------------------
# The machine is shared: CPU seconds by process group say what each part of the stack costs per
# flow or request, and how much of the machine other people's processes took meanwhile.

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(process group, CPU seconds) of a process, None when it is gone or unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[2]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / CLOCK_TICKS, sum(values) / CLOCK_TICKS


@dataclass
class CpuMeter:
    """CPU seconds of our process groups, our database's PostgreSQL backends, this client and wrk."""
    groups: dict[str, int]  # name -> process group id
    pg_admin_url: str
    database: str

    def _backends(self) -> set[int]:
        with psycopg.connect(self.pg_admin_url, autocommit=True, connect_timeout=5) as conn:
            return {row[0] for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.database,))}

    def snapshot(self) -> dict:
        by_group = {name: 0.0 for name in self.groups}
        backends = self._backends()
        pg = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            stat = _stat(int(entry))
            if stat is None:
                continue
            for name, pgid in self.groups.items():
                if stat[0] == pgid:
                    by_group[name] += stat[1]
            if int(entry) in backends:
                pg[int(entry)] = stat[1]
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {"groups": by_group, "pg": pg, "client": time.process_time(),
                "children": children.ru_utime + children.ru_stime, "machine": _machine_busy(),
                "wall": time.monotonic()}

    @staticmethod
    def delta(before: dict, after: dict) -> dict:
        """CPU seconds spent between two snapshots, by part, with the other processes' share."""
        out = {name: after["groups"][name] - before["groups"][name] for name in after["groups"]}
        out["postgres"] = sum(cpu - before["pg"].get(pid, 0.0) for pid, cpu in after["pg"].items())
        out["client"] = after["client"] - before["client"]
        out["wrk"] = after["children"] - before["children"]
        busy = after["machine"][0] - before["machine"][0]
        capacity = after["machine"][1] - before["machine"][1]
        ours = sum(out.values())
        out["others"] = max(0.0, busy - ours)
        out["others_share"] = out["others"] / capacity if capacity else 0.0
        out["busy_share"] = busy / capacity if capacity else 0.0
        return out


def per_unit_ms(cpu: dict, count: int, parts: tuple[str, ...]) -> dict:
    return {part: cpu[part] / count * 1000 for part in parts} | {
        "others_share": cpu["others_share"], "busy_share": cpu["busy_share"]}


# -- the database -----------------------------------------------------------------------------

@contextlib.contextmanager
def fresh_database(admin_url: str):
    """A new database on the server of `admin_url`, dropped at the end whatever happens."""
    name = f"linli_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        server_version = conn.execute("SHOW server_version").fetchone()[0]
        conn.execute(f'CREATE DATABASE "{name}"')
    log(f"created database {name}")
    try:
        yield urlunsplit(urlsplit(admin_url)._replace(path="/" + name)), name, server_version
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        log(f"dropped database {name}")


# -- HTTP helpers -----------------------------------------------------------------------------

def call(session: requests.Session, method: str, url: str, expect: int, *, token: str | None = None,
         bench_id: str | None = None, **kwargs) -> requests.Response:
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if bench_id:
        headers["X-Bench-Id"] = bench_id
    response = session.request(method, url, headers=headers, timeout=30, **kwargs)
    if response.status_code != expect:
        raise BenchError(f"{method} {url} answered {response.status_code} (expected {expect}): "
                         f"{response.text[:500]}")
    return response


def fake_code(session: requests.Session, fake_url: str) -> str:
    """A one-shot wx.login code for a new openid (a test control of the fake, not WeChat)."""
    return call(session, "POST", fake_url + "_fake/codes", 200, json={}).json()["code"]


# -- the access log ---------------------------------------------------------------------------

@dataclass
class LogLine:
    bench_id: str
    method: str
    path: str
    status: int
    micros: int


def read_access_log(path: Path, start: int = 0) -> tuple[list[LogLine], int]:
    """Parse access-log lines from byte offset `start`; returns them and the new offset."""
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read()
    complete = data[:data.rfind(b"\n") + 1]  # a line being written stays for next time
    lines = []
    for raw in complete.decode(errors="replace").splitlines():
        parts = raw.split()
        if len(parts) == 5 and parts[3].isdigit() and parts[4].isdigit():
            lines.append(LogLine(parts[0], parts[1], parts[2], int(parts[3]), int(parts[4])))
    return lines, start + len(complete)


def server_times(path: Path, ids: set[str], timeout: float = 10) -> dict[str, LogLine]:
    """The access-log lines of these X-Bench-Id values (gunicorn logs just after responding)."""
    found: dict[str, LogLine] = {}
    offset, deadline = 0, time.monotonic() + timeout
    while True:
        lines, offset = read_access_log(path, offset)
        found.update((line.bench_id, line) for line in lines if line.bench_id in ids)
        if len(found) == len(ids) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    missing = ids - found.keys()
    if missing:
        raise BenchError(f"{len(missing)} requests missing from the access log, e.g. {sorted(missing)[:3]}")
    return found


# -- the run ----------------------------------------------------------------------------------

@dataclass
class Stack:
    app_url: str
    bare_url: str
    fake_url: str
    access_log: Path
    bare_access_log: Path
    cpu: CpuMeter


def gunicorn_argv(args, port: int, app: str, access_log: Path, error_log: Path) -> list[str]:
    argv = [sys.executable, "-m", "gunicorn", "-w", str(args.workers), "-k", args.worker_class,
            "-b", f"127.0.0.1:{port}", "--access-logfile", str(access_log),
            "--access-logformat", ACCESS_LOG_FORMAT, "--error-logfile", str(error_log)]
    if args.worker_class == "gthread":
        argv += ["--threads", str(args.threads)]
    return argv + [app]


def app_env(args, database_url: str, fake_url: str, instance_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RATELIMIT_", "REDIS_URL", "LINLI_"))}
    env.update({
        "FLASK_APP": "wsgi.py",
        "LINLI_ENV": "development",
        "DATABASE_URL": database_url,
        "WECHAT_API_BASE": fake_url,
        "SECRET_KEY": SECRET_KEY,
        "LINLI_INSTANCE_DIR": str(instance_dir),
        "PYTHONUNBUFFERED": "1",
    })
    if args.no_limiter:
        env["RATELIMIT_ENABLED"] = "false"
    else:
        env["RATELIMIT_ENABLED"] = "true"
        env["RATELIMIT_STORAGE_URI"] = args.redis
        env.update({name: HIGH_LIMIT for name in LIMIT_SETTINGS})
    return env


def start_stack(args, procs: Processes, env: dict, tmp: Path, fake_port: int, database: str) -> Stack:
    flask = [sys.executable, "-m", "flask"]
    log("flask db upgrade")
    run_checked(flask + ["db", "upgrade"], env, "flask db upgrade")
    run_checked(flask + ["users", "create-admin", ADMIN_USER, "--password", ADMIN_PASSWORD], env,
                "flask users create-admin")

    fake = procs.start("fake WeChat", flask + ["wechat-fake", "--port", str(fake_port)], env, tmp / "fake.log")
    fake_url = f"http://127.0.0.1:{fake_port}/"
    wait_ready(fake, fake_url + "_fake/clock")

    app_port, bare_port = free_port(), free_port()
    access_log, bare_access_log = tmp / "access.log", tmp / "bare-access.log"
    app = procs.start("gunicorn (app)", gunicorn_argv(args, app_port, "wsgi:app", access_log, tmp / "gunicorn.log"),
                      env, tmp / "gunicorn.out")
    bare_env = {k: v for k, v in env.items() if k != "SECRET_KEY"}  # DATABASE_URL for /db
    bare = procs.start("gunicorn (bare Flask)", gunicorn_argv(args, bare_port, "bench.bare_app:app", bare_access_log,
                                                               tmp / "bare-gunicorn.log"), bare_env, tmp / "bare.out")
    app_url, bare_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{bare_port}"
    wait_ready(app, app_url + "/healthz")
    wait_ready(bare, bare_url + BARE_PATH)
    log(f"fake WeChat {fake_url}, app {app_url}, bare Flask {bare_url} ({args.workers} {args.worker_class} workers)")
    groups = {"app": app.popen.pid, "bare": bare.popen.pid, "fake": fake.popen.pid}
    return Stack(app_url, bare_url, fake_url, access_log, bare_access_log, CpuMeter(groups, args.pg, database))


@dataclass
class Setup:
    estate_id: int
    engineer_id: int
    engineer_token: str


def set_up(stack: Stack) -> Setup:
    """Admin login, an estate, an engineer, the engineer's login and claim: all through the API."""
    s = requests.Session()
    api = stack.app_url + "/api/v1"
    admin = call(s, "POST", api + "/auth/password-login", 200,
                 json={"username": ADMIN_USER, "password": ADMIN_PASSWORD}).json()["token"]
    estate = call(s, "POST", api + "/admin/estates", 201, token=admin, json={
        "name": "基准测试花园", "province": "广东省", "city": "深圳市", "district": "南山区",
        "address": "科技园路 1 号", "households": 2000}).json()["id"]
    engineer = call(s, "POST", api + "/admin/engineers", 201, token=admin, json={
        "name": "基准工程师", "phone": "13800138000", "employee_no": "BENCH001", "estate_ids": [estate]}).json()
    token = call(s, "POST", api + "/auth/wechat-login", 200,
                 json={"code": fake_code(s, stack.fake_url)}).json()["token"]
    call(s, "POST", api + "/engineer/claim", 200, token=token, json={"invite_code": engineer["invite_code"]})
    log(f"setup: estate {estate}, engineer {engineer['id']} claimed")
    return Setup(estate, engineer["id"], token)


@dataclass
class Flow:
    index: int
    wall_us: float
    resident_token: str


def run_flows(stack: Stack, setup: Setup, indexes: range, clients: int, label: str) -> tuple[list[Flow], float, dict]:
    """Binding flows from `clients` threads; returns them, the wall time and the CPU spent meanwhile."""
    local = threading.local()
    stop = threading.Event()
    api = stack.app_url + "/api/v1"

    def flow(i: int) -> Flow:
        if stop.is_set():
            raise BenchError("stopped after an earlier failure")
        if not hasattr(local, "session"):
            local.session = requests.Session()
        s = local.session
        try:
            wx_code = fake_code(s, stack.fake_url)  # setup: the resident's wx.login, not timed
            started = time.perf_counter()
            scene = call(s, "POST", api + "/engineer/binding-codes", 201, token=setup.engineer_token,
                         bench_id=f"{i}:code", json={"estate_id": setup.estate_id}).json()["scene"]
            body = call(s, "POST", api + "/bindings", 200, bench_id=f"{i}:bind",
                        json={"code": wx_code, "scene": scene}).json()
            wall = time.perf_counter() - started
            if body["result"] != "created" or body["steward"]["engineer"]["id"] != setup.engineer_id:
                raise BenchError(f"flow {i}: unexpected binding result {body['result']!r}")
        except BaseException:
            stop.set()
            raise
        return Flow(i, wall * 1e6, body["token"])

    log(f"{label}: {len(indexes)} binding flows, {clients} client thread{'s' if clients > 1 else ''}")
    flows: list[Flow] = []
    before = stack.cpu.snapshot()
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(flow, i) for i in indexes]
        try:
            for n, future in enumerate(concurrent.futures.as_completed(futures), 1):
                flows.append(future.result())
                if len(indexes) >= 500 and n % (len(indexes) // 5) == 0:
                    log(f"  {n}/{len(indexes)} flows")
        except BaseException:
            stop.set()
            for future in futures:
                future.cancel()
            raise
    wall = time.perf_counter() - started
    cpu = CpuMeter.delta(before, stack.cpu.snapshot())
    log(f"{label}: {wall:.1f} s, {len(indexes) / wall:.1f} flows/s")
    return sorted(flows, key=lambda f: f.index), wall, cpu


FLOW_CPU_PARTS = ("app", "fake", "postgres", "client")


def flow_figures(stack: Stack, flows: list[Flow], wall_s: float, cpu: dict, clients: int) -> dict:
    ids = {f"{f.index}:{step}" for f in flows for step in ("code", "bind")}
    lines = server_times(stack.access_log, ids)
    code_us = [lines[f"{f.index}:code"].micros for f in flows]
    bind_us = [lines[f"{f.index}:bind"].micros for f in flows]
    return {
        "flows": len(flows), "clients": clients, "wall_s": wall_s, "flows_per_s": len(flows) / wall_s,
        "server": summary_ms([c + b for c, b in zip(code_us, bind_us, strict=True)]), "code": summary_ms(code_us),
        "bind": summary_ms(bind_us), "wall": summary_ms([f.wall_us for f in flows]),
        "cpu": per_unit_ms(cpu, len(flows), FLOW_CPU_PARTS),
    }


def fake_share(stack: Stack, n: int = 30) -> dict:
    """What the fake WeChat itself takes per call (direct, sequential): part of the server time above."""
    s = requests.Session()
    token = call(s, "POST", stack.fake_url + "cgi-bin/stable_token", 200, data=json.dumps({
        "grant_type": "client_credential", "appid": "wx_fake_appid", "secret": "fake_secret",
        "force_refresh": False})).json()["access_token"]
    image_us, login_us = [], []
    for i in range(n):
        started = time.perf_counter()
        response = call(s, "POST", stack.fake_url + f"wxa/getwxacodeunlimit?access_token={token}", 200,
                        data=json.dumps({"scene": f"bench{i:04d}x" + "A" * 18, "page": "pages/bind/index",
                                         "check_path": True, "env_version": "release", "width": 430}))
        image_us.append((time.perf_counter() - started) * 1e6)
        if not response.headers.get("Content-Type", "").startswith("image/"):
            raise BenchError(f"fake getwxacodeunlimit: {response.text[:200]}")
        code = fake_code(s, stack.fake_url)
        started = time.perf_counter()
        call(s, "GET", stack.fake_url + "sns/jscode2session", 200, params={
            "appid": "wx_fake_appid", "secret": "fake_secret", "js_code": code, "grant_type": "authorization_code"})
        login_us.append((time.perf_counter() - started) * 1e6)
    return {"getwxacodeunlimit_ms": percentile(image_us, 50) / 1000,
            "jscode2session_ms": percentile(login_us, 50) / 1000, "n": n}


# -- read throughput --------------------------------------------------------------------------

WRK_SCRIPT = """\
-- Generated by bench/binding.py: rotate residents' bearer tokens; print figures as one JSON line.
local tokens = {%s}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", nil, {["Authorization"] = "Bearer " .. tokens[(n %% #tokens) + 1]})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_WRK {"requests": %%d, "duration_us": %%d, "non_2xx_3xx": %%d, "connect": %%d, "read": %%d, ' ..
    '"write": %%d, "timeout": %%d, "p50_us": %%d, "p90_us": %%d, "p99_us": %%d, "max_us": %%d}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise BenchError("wrk is not installed (Debian: apt-get install -y wrk)")
    return wrk


def wrk_version(wrk: str) -> str:
    out = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout
    return out.split("Copyright")[0].strip() or "wrk"


@dataclass
class Target:
    name: str
    url: str
    access_log: Path
    path: str
    cpu_group: str  # the gunicorn serving it, in CpuMeter's groups


def run_wrk(args, wrk: str, script: Path, target: Target, duration: int, cpu: CpuMeter) -> dict:
    _, offset = read_access_log(target.access_log)
    argv = [wrk, f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{duration}s", "--timeout", "5s",
            "-s", str(script), target.url]
    before = cpu.snapshot()
    result = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    used = CpuMeter.delta(before, cpu.snapshot())
    match = re.search(r"^BENCH_WRK (\{.*\})$", result.stdout, re.MULTILINE)
    if result.returncode != 0 or match is None:
        raise BenchError(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    figures = json.loads(match.group(1))
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    time.sleep(0.5)  # let the workers write their last access-log lines
    lines, _ = read_access_log(target.access_log, offset)
    served = [line for line in lines if line.path == target.path]
    if not served:
        raise BenchError(f"no {target.path} requests in {target.access_log}")
    statuses = {line.status for line in served}
    if figures["non_2xx_3xx"] or figures["timeout"] or statuses != {200}:
        raise BenchError(f"{target.url}: {figures['non_2xx_3xx']} non-2xx answers, {figures['timeout']} timeouts, "
                         f"statuses in the access log {sorted(statuses)}")
    micros = [line.micros for line in served]
    figures["server_p50_ms"] = percentile(micros, 50) / 1000
    figures["server_p99_ms"] = percentile(micros, 99) / 1000
    figures["socket_errors"] = figures["connect"] + figures["read"] + figures["write"]
    used["server"] = used[target.cpu_group]
    figures["cpu"] = per_unit_ms(used, figures["requests"], ("server", "postgres", "wrk"))
    return figures


def read_throughput(args, stack: Stack, flows: list[Flow], setup: Setup, tmp: Path) -> dict:
    wrk = ensure_wrk()
    tokens = [f.resident_token for f in flows[:args.tokens]]
    s = requests.Session()
    for token in tokens:  # every token reads its own steward: 200 with one item
        items = call(s, "GET", stack.app_url + STEWARDS_PATH, 200, token=token).json()["items"]
        if len(items) != 1 or items[0]["engineer"]["id"] != setup.engineer_id:
            raise BenchError(f"unexpected stewards answer: {items}")
    script = tmp / "stewards.lua"
    script.write_text(WRK_SCRIPT % ", ".join(json.dumps(t) for t in tokens))
    targets = (Target("bare", stack.bare_url + BARE_PATH, stack.bare_access_log, BARE_PATH, "bare"),
               Target("raw", stack.bare_url + RAW_PATH, stack.bare_access_log, RAW_PATH, "bare"),
               Target("stewards", stack.app_url + STEWARDS_PATH, stack.access_log, STEWARDS_PATH, "app"))
    for target in targets:  # warm-up: connection pools, caches and prepared statements in every worker
        run_wrk(args, wrk, script, target, 2, stack.cpu)
    rounds: dict[str, list[dict]] = {"bare": [], "raw": [], "stewards": []}
    for r in range(1, args.rounds + 1):
        for target in targets:
            log(f"wrk round {r}/{args.rounds}: {target.name} {target.url}, {args.duration} s")
            rounds[target.name].append(run_wrk(args, wrk, script, target, args.duration, stack.cpu))
    ratios = [s["rps"] / b["rps"] for b, s in zip(rounds["bare"], rounds["stewards"], strict=True)]
    raw_ratios = [d["rps"] / b["rps"] for b, d in zip(rounds["bare"], rounds["raw"], strict=True)]
    return {"rounds": rounds, "ratios": ratios, "ratio": statistics.median(ratios), "tokens": len(tokens),
            "raw_ratios": raw_ratios, "raw_ratio": statistics.median(raw_ratios),
            "wrk": wrk_version(wrk), "median": {name: _median_round(rs) for name, rs in rounds.items()}}


def _median_round(rounds: list[dict]) -> dict:
    """The round with the median req/s (its latencies and CPU go with it)."""
    return sorted(rounds, key=lambda r: r["rps"])[(len(rounds) - 1) // 2] | {
        "rps_median": statistics.median(r["rps"] for r in rounds)}


# -- report -----------------------------------------------------------------------------------

def machine_info(server_version: str, args) -> dict:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"nproc": len(os.sched_getaffinity(0)), "cpu": model, "postgres": server_version,
            "python": platform.python_version(), "gunicorn": importlib.metadata.version("gunicorn"),
            "flask": importlib.metadata.version("flask"), "workers": args.workers,
            "worker_class": args.worker_class, "loadavg_start": os.getloadavg()}


def command_line(args) -> str:
    parts = [".venv/bin/python", "bench/binding.py", "--bindings", str(args.bindings), "--workers",
             str(args.workers), "--duration", str(args.duration)]
    defaults = build_parser().parse_args([])
    for name in ("warmup", "clients", "serial", "rounds", "connections", "wrk_threads", "tokens", "worker_class",
                 "threads", "pg", "redis"):
        value = getattr(args, name)
        if value != getattr(defaults, name) and not (name == "connections" and value == 2 * args.workers):
            parts += [f"--{name.replace('_', '-')}", str(value)]
    if args.no_limiter:
        parts.append("--no-limiter")
    return shlex.join(parts)


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _flow_cpu_text(cpu: dict) -> str:
    return (f"app {cpu['app']:.1f} ms, fake WeChat {cpu['fake']:.1f} ms, PostgreSQL {cpu['postgres']:.1f} ms, "
            f"client {cpu['client']:.1f} ms; other people's processes used {cpu['others_share']:.0%} of the machine "
            f"(all together {cpu['busy_share']:.0%})")


def _read_cpu_text(r: dict) -> str:
    parts = []
    for name, label in (("bare", "bare Flask"), ("raw", "driver-only /db"), ("stewards", "stewards")):
        c = r["median"][name]["cpu"]
        parts.append(f"{label}: gunicorn workers {c['server']:.2f} ms, PostgreSQL {c['postgres']:.2f} ms, "
                     f"wrk {c['wrk']:.2f} ms (others {c['others_share']:.0%} of the machine)")
    return "; ".join(parts)


def report_lines(result: dict, markdown: bool) -> list[str]:
    b, serial, r, m, fake = (result["binding"], result["serial"], result["read"], result["machine"],
                             result["fake"])
    limiter = ("off (RATELIMIT_ENABLED=false)" if result["no_limiter"] else
               f"on, counting in Redis ({result['redis']}) with every limit at {HIGH_LIMIT}, so its cost is included")
    rows = [("flow server time (code + binding)", b["server"]), ("  code request", b["code"]),
            ("  binding call", b["bind"]), ("flow client wall time", b["wall"])]
    if serial:
        rows.append((f"1 client ({serial['flows']} flows): flow server time", serial["server"]))
    read_rows = [("bare Flask `GET /json`", r["median"]["bare"]),
                 ("driver-only `GET /db` (same 2 lookups)", r["median"]["raw"]),
                 ("`GET /api/v1/me/stewards`", r["median"]["stewards"])]
    binding_ok = b["server"]["p99"] < TARGET_BINDING_P99_MS
    serial_ok = bool(serial) and serial["server"]["p99"] < TARGET_BINDING_P99_MS
    ratio_ok = r["ratio"] >= TARGET_READ_RATIO
    fake_text = (f"getwxacodeunlimit {fake['getwxacodeunlimit_ms']:.1f} ms, "
                 f"jscode2session {fake['jscode2session_ms']:.1f} ms")
    targets = [f"binding p99 server time < {TARGET_BINDING_P99_MS:.0f} ms, one flow at a time: "
               f"{verdict(serial_ok)} ({serial['server']['p99']:.1f} ms)" if serial else
               "binding p99 server time, one flow at a time: not measured (--serial 0)",
               f"binding p99 server time < {TARGET_BINDING_P99_MS:.0f} ms with {b['clients']} concurrent clients: "
               f"{verdict(binding_ok)} ({b['server']['p99']:.1f} ms)",
               f"read endpoint >= {TARGET_READ_RATIO:.0%} of bare Flask: {verdict(ratio_ok)} ({r['ratio']:.0%})"]
    if markdown:
        out = [f"Run of {result['date']} UTC: `{result['command']}`", "",
               f"Machine: {m['nproc']} CPUs ({m['cpu']}), PostgreSQL {m['postgres']}, Python {m['python']}, "
               f"Flask {m['flask']}, gunicorn {m['gunicorn']} with {m['workers']} {m['worker_class']} workers, "
               f"{r['wrk']}; load average {m['loadavg_start'][0]:.2f} at the start. "
               f"Rate limiter {limiter}.", "",
               f"Binding flow: {b['flows']} flows after {result['warmup']} warm-up flows, {b['clients']} client "
               f"threads, {b['flows_per_s']:.1f} flows/s. Server time is gunicorn's `%(D)s`.", "",
               "| ms | p50 | p90 | p99 | max |", "| --- | ---: | ---: | ---: | ---: |"]
        out += [f"| {name.strip()} | {s['p50']:.1f} | {s['p90']:.1f} | {s['p99']:.1f} | {s['max']:.1f} |"
                for name, s in rows]
        out += ["", f"CPU per flow: {_flow_cpu_text(b['cpu'])}. The fake WeChat alone, called directly one at a "
                    f"time (median): {fake_text}.", "",
                f"Read throughput: wrk {result['wrk_args']}, {len(r['ratios'])} alternating rounds of "
                f"{result['duration']} s, {r['tokens']} residents' tokens; the round with the median req/s.", "",
                "| endpoint | req/s | latency p50 ms | latency p99 ms | server p50 ms | server p99 ms |",
                "| --- | ---: | ---: | ---: | ---: | ---: |"]
        out += [f"| {name} | {s['rps_median']:.0f} | {s['p50_us'] / 1000:.1f} | {s['p99_us'] / 1000:.1f} | "
                f"{s['server_p50_ms']:.2f} | {s['server_p99_ms']:.2f} |" for name, s in read_rows]
        out += ["", f"Ratio stewards / bare: **{r['ratio']:.0%}** (by round: "
                    f"{', '.join(f'{x:.0%}' for x in r['ratios'])}); driver-only `/db` / bare: "
                    f"{r['raw_ratio']:.0%}. CPU per request: {_read_cpu_text(r)}.", "",
                "Targets: " + "; ".join(targets) + "."]
        return out
    width = 44
    out = ["", "=" * 84, f"Steward binding benchmark, {result['date']} UTC",
           f"machine: {m['nproc']} CPUs, {m['cpu']}, PostgreSQL {m['postgres']}, load average "
           f"{m['loadavg_start'][0]:.2f} at the start, {result['loadavg_end'][0]:.2f} at the end",
           f"server: gunicorn {m['gunicorn']}, {m['workers']} {m['worker_class']} workers; rate limiter {limiter}",
           "", f"Binding flow: {b['flows']} flows (+{result['warmup']} warm-up), {b['clients']} client threads, "
               f"{b['flows_per_s']:.1f} flows/s; server time from gunicorn's access log",
           f"{'ms':<{width}}{'p50':>8}{'p90':>8}{'p99':>8}{'max':>8}"]
    out += [f"{name:<{width}}{s['p50']:>8.1f}{s['p90']:>8.1f}{s['p99']:>8.1f}{s['max']:>8.1f}" for name, s in rows]
    out += [f"CPU per flow: {_flow_cpu_text(b['cpu'])}",
            f"the fake WeChat alone, direct calls one at a time (median): {fake_text}",
            "", f"Read throughput: wrk {result['wrk_args']}, {len(r['ratios'])} rounds x {result['duration']} s, "
                f"alternating (median round shown)",
            f"{'':<{width}}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'srv p50':>8}{'srv p99':>8}"]
    out += [f"{name.replace('`', ''):<{width}}{s['rps_median']:>8.0f}{s['p50_us'] / 1000:>8.1f}"
            f"{s['p99_us'] / 1000:>8.1f}{s['server_p50_ms']:>8.2f}{s['server_p99_ms']:>8.2f}" for name, s in read_rows]
    for name in ("bare", "raw", "stewards"):
        out.append(f"  {name} req/s by round: " + ", ".join(f"{x['rps']:.0f}" for x in r["rounds"][name]))
    out += [f"ratio stewards/bare: {r['ratio']:.1%} (by round: {', '.join(f'{x:.1%}' for x in r['ratios'])}); "
            f"driver-only /db / bare: {r['raw_ratio']:.1%}",
            f"CPU per request: {_read_cpu_text(r)}", ""]
    out += [f"target {t}" for t in targets]
    out += ["", f"command: {result['command']}", "=" * 84]
    return out


def write_readme(result: dict) -> None:
    text = README.read_text() if README.exists() else ""
    if README_START not in text or README_END not in text:
        log(f"{README} has no results markers; not written")
        return
    head, rest = text.split(README_START, 1)
    old, tail_text = rest.split(README_END, 1)
    history = [line for line in old.splitlines() if re.match(r"^\| \d{4}-\d\d-\d\d", line)]
    b, r = result["binding"], result["read"]
    row = (f"| {result['date']} | {b['flows']} | {result['machine']['workers']} | {b['server']['p50']:.1f} ms | "
           f"{b['server']['p99']:.1f} ms | {r['median']['stewards']['rps_median']:.0f} | "
           f"{r['median']['bare']['rps_median']:.0f} | {r['ratio']:.0%} | {b['cpu']['others_share']:.0%} |")
    history = [row] + history[:HISTORY_KEEP - 1]
    block = ["", *report_lines(result, markdown=True), "", "Recent runs, newest first (the machine is shared: "
             "compare runs, not single figures; *others* is the CPU share other people's processes took during "
             "the binding flows):", "", HISTORY_HEADER, "| --- |" + " ---: |" * 8, *history, ""]
    README.write_text(head + README_START + "\n".join(block) + "\n" + README_END + tail_text)
    log(f"figures written to {README.relative_to(ROOT)}")


# -- main -------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    cpus = len(os.sched_getaffinity(0))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--bindings", type=int, default=1000, help="measured binding flows")
    p.add_argument("--warmup", type=int, default=50, help="unmeasured binding flows first")
    p.add_argument("--clients", type=int, default=4, help="client threads running binding flows")
    p.add_argument("--serial", type=int, default=100,
                   help="extra flows from one client afterwards: the flow's latency without queueing (0: none)")
    p.add_argument("--workers", type=int, default=2 * cpus + 1, help="gunicorn workers (both servers)")
    p.add_argument("--worker-class", default="sync", choices=("sync", "gthread"), help="gunicorn worker class")
    p.add_argument("--threads", type=int, default=4, help="threads per worker with --worker-class gthread")
    p.add_argument("--duration", type=int, default=10, help="seconds of each wrk round")
    p.add_argument("--rounds", type=int, default=3, help="wrk rounds per endpoint (alternating bare, stewards)")
    p.add_argument("--connections", type=int, default=None, help="wrk connections; when left out (%(default)s), 2 x workers")
    p.add_argument("--wrk-threads", type=int, default=2, help="wrk threads")
    p.add_argument("--tokens", type=int, default=8, help="residents' tokens the read load rotates through")
    p.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"),
                   help="PostgreSQL server (any database on it) where the benchmark database is created")
    p.add_argument("--redis", default="redis://127.0.0.1:6379/14", help="rate-limit storage")
    p.add_argument("--no-limiter", action="store_true", help="RATELIMIT_ENABLED=false instead of high limits")
    p.add_argument("--no-readme", action="store_true", help="do not write the figures into bench/README.md")
    p.add_argument("--keep-logs", action="store_true", help="keep the temporary directory with the server logs")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.connections is None:
        args.connections = 2 * args.workers
    if args.bindings < 1 or args.tokens > args.bindings:
        raise SystemExit("--bindings must be at least 1 and at least --tokens")

    def interrupted(signum, frame):
        raise Interrupted(signal.Signals(signum).name)
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)

    tmp = Path(tempfile.mkdtemp(prefix="linli-bench-"))
    procs = Processes()
    failed = True
    try:
        ensure_wrk()
        with fresh_database(args.pg) as (database_url, database, server_version):
            machine = machine_info(server_version, args)
            fake_port = free_port()
            (tmp / "instance").mkdir()
            env = app_env(args, database_url, f"http://127.0.0.1:{fake_port}/", tmp / "instance")
            try:
                stack = start_stack(args, procs, env, tmp, fake_port, database)
                setup = set_up(stack)
                # Warm-up to the end first, so measured flows never meet a cold worker.
                run_flows(stack, setup, range(args.warmup), args.clients, "warm-up")
                measured = range(args.warmup, args.warmup + args.bindings)
                flows, wall, cpu = run_flows(stack, setup, measured, args.clients, "measured")
                binding = flow_figures(stack, flows, wall, cpu, args.clients)
                serial = None
                if args.serial:
                    serial_range = range(measured.stop, measured.stop + args.serial)
                    serial = flow_figures(stack, *run_flows(stack, setup, serial_range, 1, "one client"), 1)
                fake = fake_share(stack)
                # A fresh database has no planner statistics until autovacuum gets to it; a running
                # platform has them. Without them PostgreSQL joins the token lookup the wrong way
                # round (a scan of users: 3 ms instead of 0.05 ms), so measure the steady state.
                log("ANALYZE (planner statistics, as a running database has them)")
                with psycopg.connect(database_url, autocommit=True) as conn:
                    conn.execute("ANALYZE")
                read = read_throughput(args, stack, flows, setup, tmp)
            finally:
                procs.stop_all()
        result = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
                  "command": command_line(args), "machine": machine, "binding": binding, "serial": serial,
                  "warmup": args.warmup, "read": read, "fake": fake, "duration": args.duration,
                  "no_limiter": args.no_limiter, "redis": args.redis,
                  "wrk_args": f"-t{args.wrk_threads} -c{args.connections}", "loadavg_end": os.getloadavg()}
        print("\n".join(report_lines(result, markdown=False)))
        (tmp / "result.json").write_text(json.dumps(result, indent=2))
        if args.no_readme or args.bindings < 1000:
            log("bench/README.md not written (--no-readme, or fewer than 1,000 bindings)")
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
