"""Terminal commands: `flask users …`, `flask audit …`."""
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from . import audit
from .auth.accounts import AccountError, create_user, ensure_first_admin
from .extensions import db
from .models import AuditEvent
from .models.users import Role

users_cli = AppGroup("users", help="Manage accounts.")
audit_cli = AppGroup("audit", help="Check the audit trail.")


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


@audit_cli.command("verify")
def verify_audit_command():
    """Walk the audit hash chain and report the first broken link; exit 1 if there is one."""
    total = db.session.query(AuditEvent).count()
    with click.progressbar(length=total, label="Checking audit events", file=sys.stderr) as bar:
        last = [0]

        def advance(checked):
            bar.update(checked - last[0])
            last[0] = checked

        report = audit.verify_chain(progress=advance)
    if report.ok:
        click.echo(f"OK: {report.checked} audit events, chain intact.")
        return
    where = f" at event #{report.broken_seq}" if report.broken_seq else ""
    click.echo(f"BROKEN{where}: {report.problem}. {report.checked} events before it are intact.", err=True)
    sys.exit(1)


def init_app(app):
    app.cli.add_command(users_cli)
    app.cli.add_command(audit_cli)
