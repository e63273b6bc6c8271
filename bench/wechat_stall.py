"""WeChat stall benchmark: how long /healthz waits while binding-code mints hang on WeChat.

    .venv/bin/python bench/wechat_stall.py [--workers 4] [--stall 8] [--mints 4] [--before 3bd348c]

It reproduces the finding of issue 13 ("WeChat calls that stall the site") and measures the fix,
the same way for two versions of the code: the commit --before (unpacked with `git archive`, the
code before the fix) and this working tree. For each, on a fresh PostgreSQL database:

1. `flask db upgrade`, an admin (CLI), and the app under gunicorn as the README serves it
   (`gunicorn -w 4 -k sync wsgi:app`; --workers), with the defaults of every setting; the fake
   WeChat (`flask wechat-fake`, of this tree: its faults can delay an answer) serves both runs;
2. setup through the API: an estate, an engineer (admin API), the engineer's WeChat login and
   claim, and one binding code, so the access token is stored before WeChat hangs;
3. /healthz at rest: the median of 20 requests;
4. the stall: the fake holds every `wxa/getwxacodeunlimit` answer --stall seconds; --mints
   clients each ask for a binding code at once (`POST /api/v1/engineer/binding-codes`);
   --probe-after seconds later a client asks for /healthz, and again every 0.5 s until the mints
   are answered. Reported: the first probe's latency (the figure of the finding), the slowest
   probe, each mint's status and time, and how many calls WeChat (the fake) received.

The figures are printed with the command that reproduces them and written into bench/README.md
(--no-readme leaves it alone).
"""
from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime
import io
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from bench.binding import (  # noqa: E402
    ADMIN_PASSWORD,
    ADMIN_USER,
    BenchError,
    Interrupted,
    Proc,
    Processes,
    app_env,
    free_port,
    fresh_database,
    log,
    set_up,
    wait_ready,
)

README = ROOT / "bench" / "README.md"
README_START = "<!-- wechat_stall.py results: start (written by bench/wechat_stall.py) -->"
README_END = "<!-- wechat_stall.py results: end -->"
HISTORY_HEADER = ("| date (UTC) | code | workers | stall s | mints | /healthz during the stall | slowest probe "
                  "| mints answered | WeChat calls |")
HISTORY_KEEP = 6
DEFAULT_BEFORE = "3bd348c"  # the last commit before the fix
CODE_PATH = "/api/v1/engineer/binding-codes"


def start_in(procs: Processes, cwd: Path, name: str, argv: list[str], env: dict, log_path: Path) -> Proc:
    """Processes.start, in another tree (the code before the fix)."""
    with open(log_path, "ab") as out:
        popen = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=subprocess.STDOUT, start_new_session=True)
    proc = Proc(name, popen, log_path)
    procs.procs.append(proc)
    return proc


def run_in(cwd: Path, argv: list[str], env: dict, what: str) -> None:
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise BenchError(f"{what} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


def unpack(ref: str, into: Path) -> str:
    """`git archive ref` unpacked into `into`; returns the commit's short hash."""
    commit = subprocess.run(["git", "rev-parse", "--short", ref + "^{commit}"], cwd=ROOT, capture_output=True,
                            text=True)
    if commit.returncode != 0:
        raise BenchError(f"--before {ref!r} is not a commit of this repository: {commit.stderr.strip()}")
    archive = subprocess.run(["git", "archive", "--format=tar", ref], cwd=ROOT, capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return commit.stdout.strip()


def timed_get(url: str) -> float:
    started = time.perf_counter()
    response = requests.get(url, timeout=120)
    if response.status_code != 200:
        raise BenchError(f"GET {url} answered {response.status_code}")
    return time.perf_counter() - started


def measure(args, label: str, tree: Path, fake_url: str, tmp: Path) -> dict:
    """One version of the code: its own database and gunicorn; the stall; the figures."""
    procs = Processes()
    with fresh_database(args.pg) as (database_url, _database, _version):
        instance = tmp / f"instance-{label}"
        instance.mkdir()
        env = app_env(SimpleNamespace(no_limiter=True, redis=None), database_url, fake_url, instance)
        flask = [sys.executable, "-m", "flask"]
        log(f"{label}: flask db upgrade")
        run_in(tree, flask + ["db", "upgrade"], env, "flask db upgrade")
        run_in(tree, flask + ["users", "create-admin", ADMIN_USER, "--password", ADMIN_PASSWORD], env,
               "flask users create-admin")
        port = free_port()
        argv = [sys.executable, "-m", "gunicorn", "-w", str(args.workers), "-k", "sync", "-b", f"127.0.0.1:{port}",
                "--error-logfile", str(tmp / f"gunicorn-{label}.log"), "wsgi:app"]
        try:
            app = start_in(procs, tree, f"gunicorn ({label})", argv, env, tmp / f"gunicorn-{label}.out")
            app_url = f"http://127.0.0.1:{port}"
            wait_ready(app, app_url + "/healthz")
            requests.post(fake_url + "_fake/reset", timeout=10).raise_for_status()
            setup = set_up(SimpleNamespace(app_url=app_url, fake_url=fake_url))
            mint_url, headers = app_url + CODE_PATH, {"Authorization": f"Bearer {setup.engineer_token}"}
            body = {"estate_id": setup.estate_id}
            for _ in range(args.workers):  # the token is stored; every worker has served a mint
                response = requests.post(mint_url, headers=headers, json=body, timeout=30)
                if response.status_code != 201:
                    raise BenchError(f"warm-up mint answered {response.status_code}: {response.text[:300]}")
            at_rest = statistics.median(timed_get(app_url + "/healthz") for _ in range(20))
            requests.delete(fake_url + "_fake/calls", timeout=10).raise_for_status()
            requests.post(fake_url + "_fake/faults", json={"endpoint": "wxa/getwxacodeunlimit", "count": 1000,
                                                           "delay": args.stall}, timeout=10).raise_for_status()
            log(f"{label}: WeChat holds getwxacodeunlimit {args.stall} s; {args.mints} mints at once")
            done = threading.Event()

            def mint(_):
                started = time.perf_counter()
                response = requests.post(mint_url, headers=headers, json=body, timeout=120)
                return response.status_code, time.perf_counter() - started

            with concurrent.futures.ThreadPoolExecutor(args.mints) as pool:
                futures = [pool.submit(mint, i) for i in range(args.mints)]
                threading.Thread(target=lambda: (concurrent.futures.wait(futures), done.set()), daemon=True).start()
                time.sleep(args.probe_after)
                probes = [timed_get(app_url + "/healthz")]
                while not done.wait(0.5):
                    probes.append(timed_get(app_url + "/healthz"))
                mints = sorted(f.result() for f in futures)
            calls = [c for c in requests.get(fake_url + "_fake/calls", timeout=10).json()["calls"]
                     if c["endpoint"] == "wxa/getwxacodeunlimit"]
            requests.delete(fake_url + "_fake/faults", timeout=10).raise_for_status()
        finally:
            procs.stop_all()
    statuses = {}
    for status, _ in mints:
        statuses[status] = statuses.get(status, 0) + 1
    result = {"label": label, "healthz_rest_s": at_rest, "healthz_first_s": probes[0], "healthz_max_s": max(probes),
              "probes": len(probes), "mints": [{"status": s, "seconds": t} for s, t in mints],
              "statuses": statuses, "mint_max_s": max(t for _, t in mints), "wechat_calls": len(calls)}
    log(f"{label}: /healthz {_s(probes[0])} during the stall (slowest {_s(max(probes))}); mints {statuses}, "
        f"slowest {result['mint_max_s']:.1f} s; WeChat saw {len(calls)} calls")
    return result


# -- report -----------------------------------------------------------------------------------

def command_line(args) -> str:
    parts = [".venv/bin/python", "bench/wechat_stall.py"]
    defaults = build_parser().parse_args([])
    for name in ("workers", "stall", "mints", "probe_after", "before", "pg"):
        if getattr(args, name) != getattr(defaults, name):
            parts += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
    return shlex.join(parts)


def _s(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _statuses(r: dict) -> str:
    return ", ".join(f"{n} × {s}" for s, n in sorted(r["statuses"].items()))


def report_lines(result: dict) -> list[str]:
    rows = result["runs"]
    out = [f"Run of {result['date']} UTC: `{result['command']}`", "",
           f"Machine: {result['nproc']} CPUs; load average {result['loadavg'][0]:.2f} at the start. gunicorn with "
           f"{result['workers']} sync workers, every setting at its default; WeChat (the fake) holds each "
           f"getwxacodeunlimit answer {result['stall']:g} s; {result['mints']} binding-code mints at once, "
           f"/healthz asked {result['probe_after']:g} s later.", "",
           "| code | /healthz at rest | /healthz during the stall | slowest probe | mints answered | slowest mint "
           "| WeChat calls |", "| --- | ---: | ---: | ---: | --- | ---: | ---: |"]
    out += [f"| {r['label']} | {_s(r['healthz_rest_s'])} | **{_s(r['healthz_first_s'])}** | "
            f"{_s(r['healthz_max_s'])} | {_statuses(r)} | {r['mint_max_s']:.1f} s | {r['wechat_calls']} |"
            for r in rows]
    return out


def write_readme(result: dict) -> None:
    text = README.read_text()
    if README_START not in text or README_END not in text:
        log(f"{README} has no results markers; not written")
        return
    head, rest = text.split(README_START, 1)
    old, tail_text = rest.split(README_END, 1)
    history = [line for line in old.splitlines() if re.match(r"^\| \d{4}-\d\d-\d\d", line)]
    rows = [f"| {result['date']} | {r['label']} | {result['workers']} | {result['stall']:g} | {result['mints']} | "
            f"{_s(r['healthz_first_s'])} | {_s(r['healthz_max_s'])} | {_statuses(r)} | {r['wechat_calls']} |"
            for r in result["runs"]]
    history = (rows + history)[:HISTORY_KEEP]
    block = ["", *report_lines(result), "", "Recent runs, newest first (the machine is shared: compare runs, not "
             "single figures):", "", HISTORY_HEADER, "| --- | --- |" + " ---: |" * 5 + " --- | ---: |", *history, ""]
    README.write_text(head + README_START + "\n".join(block) + "\n" + README_END + tail_text)
    log(f"figures written to {README.relative_to(ROOT)}")


# -- main -------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (the README's serving command)")
    p.add_argument("--stall", type=float, default=8, help="seconds WeChat holds each getwxacodeunlimit answer")
    p.add_argument("--mints", type=int, default=4, help="binding-code mints at once during the stall")
    p.add_argument("--probe-after", type=float, default=0.5, help="seconds after the mints to ask /healthz")
    p.add_argument("--before", default=DEFAULT_BEFORE, help="the commit measured as the code before the fix")
    p.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"),
                   help="PostgreSQL server (any database on it) where the benchmark databases are created")
    p.add_argument("--no-readme", action="store_true", help="do not write the figures into bench/README.md")
    p.add_argument("--keep-logs", action="store_true", help="keep the temporary directory with the server logs")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def interrupted(signum, frame):
        raise Interrupted(signal.Signals(signum).name)
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)

    tmp = Path(tempfile.mkdtemp(prefix="linli-bench-stall-"))
    fake_procs = Processes()
    failed = True
    try:
        before = tmp / "before"
        before.mkdir()
        commit = unpack(args.before, before)
        loadavg = os.getloadavg()
        fake_port = free_port()
        fake_url = f"http://127.0.0.1:{fake_port}/"
        fake_env = {k: v for k, v in os.environ.items() if not k.startswith(("LINLI_", "WECHAT_"))}
        fake_env["FLASK_APP"] = "wsgi.py"
        fake_env["LINLI_INSTANCE_DIR"] = str(tmp / "instance-fake")
        fake = start_in(fake_procs, ROOT, "fake WeChat", [sys.executable, "-m", "flask", "wechat-fake", "--port",
                                                           str(fake_port)], fake_env, tmp / "fake.log")
        wait_ready(fake, fake_url + "_fake/clock")
        runs = [measure(args, f"before ({commit})", before, fake_url, tmp),
                measure(args, "after (this tree)", ROOT, fake_url, tmp)]
        result = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
                  "command": command_line(args), "nproc": len(os.sched_getaffinity(0)), "loadavg": loadavg,
                  "workers": args.workers, "stall": args.stall, "mints": args.mints,
                  "probe_after": args.probe_after, "runs": runs}
        print("\n".join(["", *report_lines(result), ""]))
        if not args.no_readme:
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
        fake_procs.stop_all()
        if args.keep_logs or failed:
            log(f"logs kept in {tmp}")
        else:
            with contextlib.suppress(OSError):
                shutil.rmtree(tmp)


if __name__ == "__main__":
    sys.exit(main())
