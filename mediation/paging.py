"""Lists that cost the same on the first page and the thousandth, whatever the data.

Keyset (cursor) pagination: a page is the rows that come after the last one shown (or
before the first), in an order that an index walks; there is no OFFSET to skip and no
count of the whole list. The cursor is the key of that row, written into the link
(``?after=2026-11-02~123``); a cursor that does not parse starts from the first page.

Counts are bounded: ``bounded_count`` stops at ``count_bound()`` + 1 rows (COUNT_BOUND, or
the app's COUNT_BOUND setting), and the ``bounded`` template filter shows more as "1,000+".
"""
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy import Select

from .extensions import db
from .parsing import ascii_int

COUNT_BOUND = 1000


def count_bound() -> int:
    """Where counts stop: the app's COUNT_BOUND setting, by default COUNT_BOUND."""
    return int(current_app.config.get("COUNT_BOUND", COUNT_BOUND)) if has_app_context() else COUNT_BOUND

_MAX_INT = 2**63 - 1
# Text keys are codes and usernames: never the cursor's "~", so a cursor splits back as written.
_STR_KEY = re.compile(r"[0-9A-Za-z_.-]{1,64}")


@dataclass(frozen=True)
class Key:
    """An order of rows by ``columns`` (together unique), all ascending or all descending,
    with ``kinds`` ("int", "date", "datetime" or "str": a code or username, letters, digits,
    ``_ . -``) to read a cursor back."""

    columns: tuple
    kinds: tuple[str, ...]
    descending: bool

    def order_by(self, backwards: bool = False) -> list:
        desc = self.descending != backwards
        return [c.desc() if desc else c.asc() for c in self.columns]

    def beyond(self, values: tuple, backwards: bool = False):
        """Rows after ``values`` in this order (before them when ``backwards``)."""
        left = sa.tuple_(*self.columns)
        right = sa.tuple_(*[sa.literal(v, type_=c.type) for c, v in zip(self.columns, values, strict=True)])
        return left < right if self.descending != backwards else left > right

    def before_all(self) -> tuple:
        """A key that every row comes after in this order (a cursor meaning "from the top")."""
        # Stored times are naive UTC, so the bounds are naive too.
        top = {"int": _MAX_INT, "date": date.max, "datetime": datetime.max, "str": "~"}  # noqa: DTZ901
        bottom = {"int": 0, "date": date.min, "datetime": datetime.min, "str": ""}  # noqa: DTZ901
        return tuple((top if self.descending else bottom)[k] for k in self.kinds)

    def encode(self, values: tuple) -> str:
        return "~".join(v.isoformat() if isinstance(v, date) else str(v) for v in values)

    def decode(self, text: str | None) -> tuple | None:
        """The key written by ``encode``, or None for anything else."""
        parts = (text or "").split("~")
        if not text or len(parts) != len(self.kinds) or len(text) > 100 or not text.isascii():
            return None
        out: list[Any] = []
        for kind, part in zip(self.kinds, parts, strict=True):
            if kind == "str":
                value = part if _STR_KEY.fullmatch(part) else None
            else:
                value = ascii_int(part, 0, _MAX_INT) if kind == "int" else _when(kind, part)
            if value is None:
                return None
            out.append(value)
        return tuple(out)


def _when(kind: str, text: str) -> date | datetime | None:
    try:
        if kind == "date":
            return date.fromisoformat(text) if len(text) == 10 else None
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is None else None


@dataclass
class Page:
    """One page of a keyset list: its rows and the cursors of its neighbours (None when
    there is none)."""

    items: list
    after: str | None  # link to the next page: ?after=...
    before: str | None  # link to the previous page: ?before=...
    first: bool  # no page before this one (a link back to the start is not needed)


def keyset_page(stmt: Select, key: Key, key_of: Callable[[Any], tuple], *, per_page: int,
                after: str | None = None, before: str | None = None, scalars: bool = True,
                keyable: Callable[[Any], bool] | None = None) -> Page:
    """The page of ``stmt`` (not yet ordered) after the cursor ``after`` (or before
    ``before``), ``per_page`` rows; ``key_of(row)`` gives a row's key values. ``keyable``:
    whether a row's key may go into the first page's link to the next (a cursor shows it)."""
    run = db.session.scalars if scalars else db.session.execute
    back = key.decode(before)
    start = key.decode(after) if back is None else None
    if back is not None:
        rows = list(run(stmt.where(key.beyond(back, backwards=True))
                        .order_by(*key.order_by(backwards=True)).limit(per_page + 1)).unique())
        more_before = len(rows) > per_page
        items = list(reversed(rows[:per_page]))
        # Nothing before a cursor (one from before the start, or typed): not the first page, so
        # its link back to the first is shown.
        return Page(items, key.encode(key_of(items[-1])) if items else None,
                    key.encode(key_of(items[0])) if items and more_before else None, bool(items) and not more_before)
    if start is not None:
        stmt = stmt.where(key.beyond(start))
    rows = list(run(stmt.order_by(*key.order_by()).limit(per_page + 1)).unique())
    items = rows[:per_page]
    # Rows whose key may not show: the next page (which leaves them out) starts after the last row
    # that may, or from the top when none may.
    last = next((key_of(r) for r in reversed(items) if keyable is None or keyable(r)), key.before_all())
    return Page(items, key.encode(last) if len(rows) > per_page else None,
                key.encode(key_of(items[0])) if items and start is not None else None, start is None)


def bounded_count(stmt: Select, bound: int | None = None):
    """A scalar subquery: how many rows ``stmt`` gives, counting at most ``bound`` + 1."""
    bound = count_bound() if bound is None else bound
    limited = stmt.with_only_columns(sa.literal(1).label("one"), maintain_column_froms=True).order_by(None) \
        .limit(bound + 1).subquery()
    return sa.select(sa.func.count()).select_from(limited).scalar_subquery()


def bounded_counts(stmts: Sequence[Select], bound: int | None = None) -> list[int]:
    """Several bounded counts in one query."""
    if not stmts:
        return []
    row = db.session.execute(sa.select(*[bounded_count(s, bound).label(f"n{i}") for i, s in enumerate(stmts)])).one()
    return [int(n or 0) for n in row]


def bounded(n: int | None, bound: int | None = None) -> str:
    """For templates: 1,000+ past the bound."""
    n, bound = n or 0, count_bound() if bound is None else bound
    return f"{bound:,}+" if n > bound else f"{n:,}"
