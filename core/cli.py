"""Kernel commands: `flask jobs …` and `flask audit verify`."""
import signal
import sys

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from flask_migrate.cli import db as migrate_cli

from core import audit, checkpoint, scheduler as scheduled
from core.db import grant_app_role as grant_role
from core.extensions import db

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
@click.option("--checkpoint", "move", is_flag=True,
              help="When the log is sound, move the signed checkpoint to its newest row.")
def verify_audit(move):
    """Check the audit log's keyed hash chain against its checkpoint; exits 1 when a row was
    altered, removed or inserted, the newest rows were deleted, or the checkpoint is forged."""
    checked, problems = audit.verify()
    for problem in problems:
        where = "audit log" if problem.entry_id is None else f"audit row {problem.entry_id}"
        click.echo(f"{where}: {problem.problem}", err=True)
    click.echo(f"{checked} audit rows checked, {len(problems)} problems")
    if move and not problems:
        db.session.rollback()  # read the log again as it is now (SQLite keeps a transaction's snapshot)
        try:
            mark = audit.checkpoint_log()
        except checkpoint.Problem as exc:
            click.echo(f"audit log: {exc}", err=True)
            sys.exit(1)
        if mark:
            click.echo(f"checkpoint: {mark['count']} rows up to row {mark['last_id']}")
    sys.exit(1 if problems else 0)


@click.command("grant-app-role")
@click.argument("role")
@with_appcontext
def grant_app_role(role):
    """PostgreSQL, as the owner of the tables: grant ROLE what the app needs (docs/security.md).

    SELECT, INSERT, UPDATE, DELETE on ordinary tables; SELECT, INSERT on the append-only ones;
    USAGE on sequences. Run again after every `flask db upgrade`."""
    with db.engine.begin() as conn:
        try:
            append_only = grant_role(conn, role)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"{role}: granted; append-only (SELECT, INSERT): {', '.join(append_only)}")


migrate_cli.add_command(grant_app_role)  # `flask db grant-app-role`, beside the migrations

COMMANDS = [jobs, audit_group]
