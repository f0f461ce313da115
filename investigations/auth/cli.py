"""`flask users …`: accounts from the terminal."""
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from ..extensions import db
from ..models.users import Role
from .accounts import AccountError, create_user, ensure_first_admin

users_cli = AppGroup("users", help="Manage accounts.")


@users_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="The name shown in the app.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.REPORTER.value, show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
def create_user_command(email, name, role, password_stdin):
    """Create an account. The password is prompted for, or read with --password-stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user, _ = create_user(email, name, role, password=password)
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}.")


@users_cli.command("ensure-admin")
def ensure_admin_command():
    """On an empty database, create the first admin and print a one-time password once."""
    result = ensure_first_admin(current_app.config["ADMIN_EMAIL"])
    if result is None:
        return
    user, password = result
    db.session.commit()
    line = "=" * 64
    click.secho(f"\n{line}\n First admin account created\n   e-mail:   {user.email}\n"
                f"   password: {password}\n This password is shown only now; you will be asked to change it\n"
                f" at first sign-in.\n{line}\n", fg="yellow", bold=True)
