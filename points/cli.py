"""`flask points …`: ledger checks from the command line."""
import sys

import click
from flask.cli import AppGroup

from core import checkpoint
from core.extensions import db
from points import services

points = AppGroup("points", help="The points ledger.")


@points.command("verify")
@click.option("--checkpoint", "move", is_flag=True,
              help="When the ledger is sound, move its signed checkpoint forward.")
def verify(move):
    """Check every ledger invariant and compare the ledger with its checkpoint; exits 1 on any violation."""
    problems = services.verify()
    for problem in problems:
        click.echo(problem, err=True)
    click.echo(f"points ledger: {len(problems)} problems")
    if move and not problems:
        db.session.rollback()  # read the ledger again as it is now (SQLite keeps a transaction's snapshot)
        try:
            mark = services.checkpoint_ledger()
        except checkpoint.Problem as exc:
            click.echo(f"points ledger: {exc}", err=True)
            sys.exit(1)
        if mark:
            click.echo(f"checkpoint: newest transaction {mark['head']['id']}; {mark['settled']['count']} "
                       f"transactions settled up to {mark['settled']['id']}")
    sys.exit(1 if problems else 0)


COMMANDS = [points]
