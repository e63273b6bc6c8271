"""`flask points …`: ledger checks from the command line."""
import sys

import click
from flask.cli import AppGroup

from points import services

points = AppGroup("points", help="The points ledger.")


@points.command("verify")
def verify():
    """Check every ledger invariant; exits 1 on any violation."""
    problems = services.verify()
    for problem in problems:
        click.echo(problem, err=True)
    click.echo(f"points ledger: {len(problems)} problems")
    sys.exit(1 if problems else 0)


COMMANDS = [points]
