"""``flask --app mediation audit verify``."""
import sys

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from .services import verify

audit_cli = AppGroup("audit", help="The audit log.")


@audit_cli.command("verify")
def verify_command():
    """Check the hash chain; exit 1 naming the first bad event."""
    result = verify()
    if result.ok:
        click.echo(_("The audit log is intact: %(n)d events.", n=result.count))
        click.echo(_("Last hash: %(hash)s", hash=result.head_hash))
        return
    click.echo(_("The audit log has been tampered with. %(problem)s", problem=result.problem), err=True)
    click.echo(_("%(n)d events before it are intact.", n=result.count), err=True)
    sys.exit(1)
