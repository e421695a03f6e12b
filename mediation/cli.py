"""Command-line tools: ``flask --app mediation network|users|demo ...``."""
import sys

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy import select

from . import audit
from .api.cli import api_cli
from .audit.cli import audit_cli
from .backup.cli import backup_cli
from .demo import is_empty, load_demo
from .errors import DomainError
from .extensions import db
from .keys.cli import keys_cli
from .org.models import OrgUnit
from .org.services import NetworkImportError, import_network
from .retention.cli import retention_cli
from .users.models import Role
from .users.services import create_user

network_cli = AppGroup("network", help="The 1+9+X network.")
users_cli = AppGroup("users", help="Accounts.")
demo_cli = AppGroup("demo", help="Demo data (never in production).")


@network_cli.command("import")
@click.argument("csv_file", type=click.File("rb"))
def network_import(csv_file):
    """Load a network file (code,name,tier,parent_code): upsert by code, all or nothing."""
    try:
        result = import_network(csv_file.read())
    except NetworkImportError as exc:
        db.session.rollback()
        for line in exc.errors:
            click.echo(line, err=True)
        click.echo(_("Nothing was imported."), err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(_("%(created)d created, %(updated)d updated, %(unchanged)d unchanged.",
                 created=result.created, updated=result.updated, unchanged=result.unchanged))


@users_cli.command("create")
@click.option("--username", required=True)
@click.option("--unit", "unit_code", required=True, help="Code of the user's unit.")
@click.option("--role", "roles", required=True, multiple=True,
              type=click.Choice([r.value for r in Role]), help="Repeat for several roles.")
@click.option("--display-name", default="")
@click.option("--phone", default="")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              envvar="MEDIATION_NEW_PASSWORD", help="Prompted when not given.")
def users_create(username, unit_code, roles, display_name, phone, password):
    """Create an account (for scripts)."""
    unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == unit_code))
    if unit is None:
        raise click.ClickException(_("Unknown unit %(code)s.", code=unit_code))
    try:
        user = create_user(username=username, display_name=display_name, unit=unit,
                           roles=[Role(r) for r in roles], password=password, phone=phone)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None

    audit.record("admin.user_create", target=user, details={
        "username": user.username, "unit": unit.code, "roles": sorted(roles), "via": "command line"})
    db.session.commit()
    click.echo(_("Account %(u)s created at %(unit)s.", u=user.username, unit=unit.label))


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing when any account exists.")
def demo_load(if_empty):
    """Create the Jintan network, the demo accounts (password jintan-demo) and the demo cases."""
    if current_app.config.get("ENV") == "production":
        raise click.ClickException(_("The demo loader does not run with MEDIATION_ENV=production."))
    if if_empty and not is_empty():
        click.echo(_("The database is not empty: the demo was not loaded."))
        return
    counts = load_demo(scenarios=True)
    db.session.commit()
    click.echo(_("Demo loaded: %(units)d units and %(users)d accounts created.",
                 units=counts["units_created"], users=counts["users_created"]))
    if counts["cases_created"]:
        click.echo(_("%(n)d demo cases replayed through the workflow.", n=counts["cases_created"]))


def init_app(app) -> None:
    for group in (network_cli, users_cli, demo_cli, audit_cli, retention_cli, keys_cli, backup_cli, api_cli):
        app.cli.add_command(group)
