"""Kernel commands: `flask jobs …` and `flask audit verify`."""
import signal
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from core import audit, scheduler as scheduled

jobs = AppGroup("jobs", help="Scheduled jobs.")
audit_group = AppGroup("audit", help="The audit log.")


@jobs.command("run")
def run_jobs():
    """Run the scheduler (only the holder of the database lease schedules jobs)."""
    scheduler = scheduled.Scheduler(current_app._get_current_object())
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: scheduler.stop())
    click.echo(f"scheduler {scheduler.holder}: {', '.join(j.name for j in scheduler.jobs)}")
    scheduler.run()


@jobs.command("list")
def list_jobs():
    """The registered jobs and their triggers."""
    for job in scheduled.all_jobs():
        click.echo(f"{job.name}\t{job.trigger} {job.trigger_args}")


@jobs.command("run-once")
@click.argument("name")
def run_once(name):
    """Run one job now, in this process."""
    found = [j for j in scheduled.all_jobs() if j.name == name]
    if not found:
        raise click.ClickException(f"no job named {name!r} (see `flask jobs list`)")
    click.echo(scheduled.run_job(current_app._get_current_object(), found[0]))


@audit_group.command("verify")
def verify_audit():
    """Check the audit log's hash chain; exits 1 when a row was altered, removed or inserted."""
    checked, problems = audit.verify()
    for problem in problems:
        click.echo(f"audit row {problem.entry_id}: {problem.problem}", err=True)
    click.echo(f"{checked} audit rows checked, {len(problems)} problems")
    sys.exit(1 if problems else 0)


COMMANDS = [jobs, audit_group]
