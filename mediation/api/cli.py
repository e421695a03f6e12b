"""``flask --app mediation api token create USERNAME --name NAME`` (a token for a service
account, printed once) and ``flask --app mediation api deliver`` (post the outbox's events to
the configured webhooks; run it from cron or a systemd timer, e.g. every minute)."""
import sys

import click
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy import select

from ..errors import DomainError
from ..extensions import db
from ..users.models import User
from ..users.services import normalise_username
from . import outbox, tokens
from .models import ApiToken

api_cli = AppGroup("api", help="The JSON API: tokens and webhook delivery.")
token_cli = AppGroup("token", help="API tokens.")
api_cli.add_command(token_cli)


@token_cli.command("create")
@click.argument("username")
@click.option("--name", required=True, help="What the token is for (shown in the audit log).")
def token_create(username, name):
    """Print a new API token for USERNAME (shown once; only its hash is kept)."""
    user = db.session.scalar(select(User).where(User.username == normalise_username(username)))
    if user is None:
        raise click.ClickException(_("Unknown user %(name)s.", name=username))
    try:
        _token, secret = tokens.create_token(user, name)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(secret)


@token_cli.command("list")
@click.argument("username")
def token_list(username):
    """The tokens of USERNAME: name, start, created, last used, revoked."""
    user = db.session.scalar(select(User).where(User.username == normalise_username(username)))
    if user is None:
        raise click.ClickException(_("Unknown user %(name)s.", name=username))
    for t in tokens.tokens_of(user):
        click.echo("\t".join([str(t.id), t.name, t.prefix + "…", t.created_at.isoformat(timespec="seconds"),
                              t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "-",
                              t.revoked_at.isoformat(timespec="seconds") if t.revoked_at else "-"]))


@token_cli.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id):
    """Revoke a token by its id (see ``api token list``)."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise click.ClickException(_("Unknown token %(id)d.", id=token_id))
    tokens.revoke(token, by=token.user)
    db.session.commit()
    click.echo(_("Token “%(name)s” revoked: it no longer works.", name=token.name))


@api_cli.command("deliver")
@click.option("--limit", default=500, show_default=True, help="Events per subscription in this run.")
def deliver(limit):
    """Post the outbox's events to the configured webhooks (API_WEBHOOKS); failures are retried
    at a later run, with a growing delay, and hold back the later events of their case."""
    report = outbox.deliver(limit=limit)
    for problem in report.problems:
        click.echo(problem, err=True)
    click.echo(_("%(delivered)d delivered, %(failed)d failed (retried later), %(waiting)d waiting, "
                 "%(skipped)d not for the subscriber.", delivered=report.delivered, failed=report.failed,
                 waiting=report.waiting, skipped=report.skipped))
    if report.problems:
        sys.exit(1)
