"""Language and time-zone choice, and the date and money filters templates use."""
from datetime import date, datetime
from decimal import Decimal

from flask import current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_login import current_user

from .errors import is_api_request


def select_locale() -> str:
    """The user's saved choice, else the session's, else the default (Chinese)."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI commands speak the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if is_api_request() and request.headers.get("Accept-Language"):
        # An API client says which language it reads (zh, zh-CN, en...), before the account's choice.
        choice = request.accept_languages.best_match([*languages, "zh", "zh-CN", "zh-Hans"])
        if choice is not None:
            return choice if choice in languages else "zh_Hans_CN"
    if current_user and getattr(current_user, "is_authenticated", False):
        if current_user.locale in languages:
            return current_user.locale
    lang = session.get("lang")
    if lang in languages:
        return lang
    # An explicit ?lang= on the login page is honoured without an account.
    lang = request.args.get("lang")
    if lang in languages:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def is_chinese() -> bool:
    return str(get_locale()).startswith("zh")


def fmt_date(value: date | datetime | None) -> str:
    """2026年11月29日 in Chinese, 29 November 2026 in English."""
    if value is None:
        return ""
    # Day first in English, as times are ("d MMM yyyy HH:mm"): the locale's "long" is US-style
    # ("November 29, 2026"), which read oddly beside "1 Sep 2026 09:30" on one page (QA).
    return format_date(value, "long" if is_chinese() else "d MMMM yyyy")


def fmt_datetime(value: datetime | None) -> str:
    """A stored (UTC) time in the configured zone."""
    if value is None:
        return ""
    pattern = "yyyy年M月d日 HH:mm" if is_chinese() else "d MMM yyyy HH:mm"
    return format_datetime(value, pattern)


def clip(text: str, n: int) -> str:
    """``text`` in at most ``n`` characters, ending in "…" when cut (a line of a list or an
    item's summary; the whole text is kept where it belongs)."""
    return text if len(text) <= n else text[:n - 1] + "…"


def fmt_money(value: Decimal | int | None) -> str:
    """An amount in yuan as people read it: 120,000.00 (— when there is none)."""
    if value is None:
        return "—"
    return format_decimal(Decimal(value), format="#,##0.00")


class _Colon:
    """The colon after a label, in the reader's language: "持有单位：" but "Held by: " (a
    full-width colon in English text reads as a stray character)."""

    def __str__(self) -> str:
        return "：" if is_chinese() else ": "

    __html__ = __str__


def init_app(app) -> None:
    app.jinja_env.filters["money"] = fmt_money
    app.jinja_env.filters["date"] = fmt_date
    app.jinja_env.filters["datetime"] = fmt_datetime

    # A global, not a context variable: macros imported without context (the chips) use it too.
    app.jinja_env.globals["colon"] = _Colon()

    @app.context_processor
    def _inject():
        chinese = is_chinese()
        return {"current_locale": str(get_locale()), "list_sep": "、" if chinese else ", "}
