"""Operator commands: ``flask seed``, ``flask create-admin``, ``flask outbox send``."""

import os

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from portal.extensions import db
from portal.services import DomainError, accounts, institutes, outbox

outbox_cli = AppGroup("outbox", help="Mail waiting to be delivered.")


@click.command("seed")
@with_appcontext
def seed_command() -> None:
    """Load the 18 institutes of the network; running it again changes nothing."""
    counts = institutes.seed(institutes.seed_records())
    db.session.commit()
    click.echo("Institutes: {created} created, {updated} updated, {unchanged} unchanged.".format(**counts))


@click.command("create-admin")
@with_appcontext
@click.argument("email")
@click.option("--name", default="Network administrator", help="Full name for a new account.")
def create_admin_command(email: str, name: str) -> None:
    """Make EMAIL a network administrator (password from ADMIN_PASSWORD or a prompt)."""
    existing = accounts.find_by_email(email)
    password = ""
    if existing is None:
        password = os.environ.get("ADMIN_PASSWORD") or click.prompt(
            "Password", hide_input=True, confirmation_prompt=True
        )
    try:
        user = accounts.create_network_admin(email, password, full_name=name)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"{user.email} is a network administrator.")


@outbox_cli.command("send")
def outbox_send_command() -> None:
    """Deliver every message that has not been sent yet."""
    sent, failed = outbox.deliver()
    click.echo(f"Sent {sent}, failed {failed}.")
    if failed:
        raise SystemExit(1)


def init_app(app: Flask) -> None:
    app.cli.add_command(seed_command)
    app.cli.add_command(create_admin_command)
    app.cli.add_command(outbox_cli)
