"""The "API 令牌" page of one's account: name, create (shown once), list and revoke tokens."""
from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ..errors import DomainError
from ..extensions import db
from ..forms import AppForm
from ..submissions import Once
from . import tokens
from .models import ApiToken

bp = Blueprint("api_tokens", __name__, url_prefix="/account/tokens")


class TokenForm(AppForm):
    name = StringField(_l("Name (what the token is for)"),
                       validators=[DataRequired(_l("Give the token a name (what it is for).")),
                                   Length(max=tokens.NAME_MAX, message=_l("At most %(max)d characters.",
                                                                          max=tokens.NAME_MAX))],
                       render_kw={"placeholder": _l("e.g. provincial platform, court liaison")})


def _page(form: TokenForm, secret: str | None = None, status: int = 200):
    response = make_response(render_template("api/tokens.html", form=form, tokens=tokens.tokens_of(current_user),
                                             secret=secret), status)
    response.headers["Cache-Control"] = "no-store"  # a new token is on this page once
    return response


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    form = TokenForm()
    once = Once.posted(current_user)  # a re-sent form makes no second token (its secret is not shown again)
    if form.validate_on_submit():
        try:
            once.claim()
            _token, secret = tokens.create_token(current_user, form.name.data)
        except DomainError as exc:
            db.session.rollback()
            form.name.errors.append(exc.message)
        else:
            once.land(url_for("api_tokens.index"))
            db.session.commit()
            return _page(TokenForm(formdata=None), secret)
    return _page(form, status=422 if form.errors else 200)


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int):
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    tokens.revoke(token, by=current_user)
    db.session.commit()
    flash(_("Token “%(name)s” revoked: it no longer works.", name=token.name), "success")
    return redirect(url_for("api_tokens.index"))
