"""`flask users ...`: staff accounts from the command line."""
import click
from flask.cli import AppGroup

from core.accounts import services
from core.errors import APIError
from core.extensions import db

users = AppGroup("users", help="Staff accounts.")


@users.command("create-admin")
@click.argument("username")
@click.option("--password", help="Prompted (hidden, twice) when left out.")
def create_admin(username, password):
    """Create an admin who can log in to the console and the admin API."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = services.create_staff(username, password, {"admin"})
        db.session.commit()
    except APIError as exc:
        db.session.rollback()
        fields = "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.details.get("fields", {}).items())
        raise click.ClickException(f"{exc.message}{' (' + fields + ')' if fields else ''}")
    click.echo(f"admin {user.username} created (user id {user.id})")


COMMANDS = [users]
