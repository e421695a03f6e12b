"""``flask --app mediation retention run [--dry-run]``."""
import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from ..i18n import fmt_date
from .services import local_date, run

retention_cli = AppGroup("retention", help="Retention of archived cases.")


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="List the cases that are due; change nothing.")
def run_command(dry_run):
    """Anonymise archived cases whose retention period has passed (not those on legal hold)."""
    result = run(dry_run=dry_run)
    for item in result.due:
        click.echo(_("%(number)s: archived %(archived)s, due %(due)s",
                     number=item.number, archived=fmt_date(local_date(item.archived_at)),
                     due=fmt_date(local_date(item.expires_at))))
    if dry_run:
        click.echo(_("Dry run: %(n)d cases are due; nothing was changed.", n=len(result.due)))
        return
    click.echo(_("%(n)d cases anonymised.", n=len(result.anonymised)))
    if result.skipped:
        click.echo(_("Skipped (changed meanwhile): %(numbers)s", numbers=", ".join(result.skipped)))
