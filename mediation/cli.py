"""Command-line tools: ``flask --app mediation network|users|demo|stats ...``."""
import sys
import time

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy import select

from . import audit, visibility
from .api.cli import api_cli
from .audit.cli import audit_cli
from .backup.cli import backup_cli
from .cases.services import name_supervisor, unsupervised_restricted
from .demo import is_empty, load_demo
from .errors import DomainError
from .extensions import db
from .generate import NETWORKS, generate
from .keys.cli import keys_cli
from .org.models import OrgUnit
from .org.services import NetworkImportError, import_network
from .retention.cli import retention_cli
from .stats import aggregates
from .users.models import Role, User
from .users.services import create_user, normalise_username

network_cli = AppGroup("network", help="The 1+9+X network.")
users_cli = AppGroup("users", help="Accounts.")
demo_cli = AppGroup("demo", help="Demo data (never in production).")
cases_cli = AppGroup("cases", help="Cases: derived tables, restricted cases nobody can lift.")
stats_cli = AppGroup("stats", help="The statistics' aggregates.")


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


@cases_cli.command("rebuild-visibility")
@click.option("--check", is_flag=True, help="Only compare the table with a recount; exit 1 when they differ.")
def cases_rebuild_visibility(check):
    """Recompute who sees which case (case_visibility) from the cases, transfers and units."""
    connection = db.session.connection()
    if check:
        stale, missing = visibility.differences(connection)
        db.session.rollback()
        if stale or missing:
            click.echo(_("case_visibility differs from a recount: %(stale)d rows too many, %(missing)d missing.",
                         stale=len(stale), missing=len(missing)), err=True)
            sys.exit(1)
        click.echo(_("case_visibility matches a recount."))
        return
    rows = visibility.rebuild(connection)
    db.session.commit()
    click.echo(_("case_visibility rebuilt: %(rows)d rows.", rows=rows))


@cases_cli.command("restricted-unsupervised")
@click.option("--name", "username", help="Name this coordinator or administrator on each such case over whose "
                                         "unit they are, so that they can lift or keep the restriction.")
def cases_restricted_unsupervised(username):
    """List restricted cases on which no active coordinator or administrator over their unit is
    named (nobody who sees them can lift the restriction); exit 1 while any remain."""
    user = None
    if username:
        # Usernames are kept in lower case (as login reads them).
        user = db.session.scalar(select(User).where(User.username == normalise_username(username)))
        if user is None:
            raise click.UsageError(_("Unknown account %(u)s.", u=username))  # exit 2: not "cases remain"
    left = unsupervised_restricted()
    if user is not None:
        refused = []
        for case in left:
            try:
                name_supervisor(case, user)
            except DomainError as exc:
                refused.append(case)
                click.echo(_("%(number)s (%(unit)s): %(why)s", number=case.number, unit=case.unit.code,
                             why=exc.message), err=True)
            else:
                click.echo(_("%(number)s (%(unit)s): %(name)s named.", number=case.number, unit=case.unit.code,
                             name=user.display_name))
        db.session.commit()
        left = refused
    for case in left:
        click.echo(_("%(number)s (%(unit)s): nobody named can lift the restriction.", number=case.number,
                     unit=case.unit.code), err=True)
    if left:
        sys.exit(1)
    click.echo(_("Every restricted case names someone who can lift the restriction."))


@stats_cli.command("rebuild")
@click.option("--check", is_flag=True, help="Only compare the aggregates with a recount (in memory); change nothing.")
def stats_rebuild(check):
    """Count the statistics' aggregates (stat_cell) again from the cases, in one transaction."""
    start = time.perf_counter()
    connection = db.session.connection()
    if check:
        problems = aggregates.mismatches(connection)
        db.session.rollback()
        for line in problems:
            click.echo(line, err=True)
        if problems:
            sys.exit(1)
        click.echo(_("The aggregates agree with a recount."))
        return
    n = aggregates.rebuild(connection)
    db.session.commit()
    click.echo(_("%(n)d aggregate rows written in %(s).1f s.", n=n, s=time.perf_counter() - start))


@demo_cli.command("generate")
@click.option("--cases", "n", type=click.IntRange(1, 10_000_000), required=True, help="How many cases to add.")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--network", type=click.Choice(NETWORKS), default="jintan", show_default=True,
              help="jintan: the Jintan district; jiangsu: the province (13 cities, 104 districts, 1,487 towns).")
@click.option("--batch", type=click.IntRange(100, 100_000), default=2000, show_default=True)
def demo_generate(n, seed, network, batch):
    """Add generated cases (for benchmarks and scale tests), then rebuild the derived tables."""
    if current_app.config.get("ENV") == "production":
        raise click.ClickException(_("The demo loader does not run with MEDIATION_ENV=production."))
    result = generate(n, seed=seed, network=network, batch=batch, log=click.echo)
    click.echo(_("%(n)d cases generated in %(s).0f s.", n=result.cases, s=result.seconds))
    for table, count in sorted(result.counts.items()):
        click.echo(f"  {table}: {count}")


def init_app(app) -> None:
    for group in (network_cli, users_cli, demo_cli, cases_cli, stats_cli, audit_cli, retention_cli, keys_cli,
                  backup_cli, api_cli):
        app.cli.add_command(group)
