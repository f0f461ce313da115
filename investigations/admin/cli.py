"""`flask audit verify`: walk the audit hash chain."""
import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from .. import audit
from ..extensions import db
from ..models import AuditEvent

audit_cli = AppGroup("audit", help="Check the audit trail.")


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
    broken = db.session.scalar(select(AuditEvent).where(AuditEvent.seq == report.broken_seq)) if report.broken_seq else None
    if broken is not None:  # what the altered (or first unlinked) event now says
        what = f"{broken.action} {broken.object_type or ''} {broken.object_id or ''}".strip()
        click.echo(f"Event #{broken.seq} as stored now: {broken.created_at:%Y-%m-%d %H:%M:%S} UTC, "
                   f"{broken.actor_label}, {what}.", err=True)
    sys.exit(1)
