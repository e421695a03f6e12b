"""The one search function: cases in the user's access whose number, parties,
summary, claims or diary text contain the query.

Two ways to find them, chosen per query by asking the index how many pieces of text match
(at most SEARCH_COMMON_PIECES + 1 are counted):

* a **rare** query (most of two characters or more) goes through the full-text index: the
  matching pieces, then their cases within the user's access; every match is found.
* a **common** query (a frequent character such as 王) would make the index hand over a
  large part of the whole database. Instead the user's area is walked newest case first
  (``case_visibility``'s index) and each case's own pieces are checked, stopping as soon as
  the page is full; at most the newest SEARCH_SCAN_CASES cases of the area are looked at.

A rare query's cases are counted up to ``paging.COUNT_BOUND`` ("more than 1,000"), never
all of them; a common query's are not counted at all: newest first, page by page.
"""
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import sqlalchemy as sa
from flask import current_app
from markupsafe import Markup
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from .. import access
from ..cases.models import Case, CaseVisibility
from ..cases.services import case_co_mediator
from ..extensions import db
from ..memo import per_worker
from ..org.models import OrgUnit
from ..paging import bounded_counts, count_bound
from .index import FTS_TABLE, TSV_COLUMN
from .models import KINDS, SearchDoc
from .text import clean_query, highlight, highlight_masked, spaced

SNIPPETS_PER_CASE = 3
CV = CaseVisibility


@dataclass
class Snippet:
    kind: str  # one of models.KINDS
    html: Markup  # escaped text with the matches in <mark>
    confidential: bool = False


@dataclass
class Hit:
    case: Case
    snippets: list[Snippet] = field(default_factory=list)
    more: int = 0  # matching documents not shown


def _doc_matches(tokens: str, dialect: str):
    """A condition on SearchDoc through the full-text index: its text contains the (spaced)
    query as a phrase."""
    if dialect == "postgresql":
        return sa.literal_column(f"search_doc.{TSV_COLUMN}").op("@@")(
            sa.func.phraseto_tsquery(sa.literal_column("'simple'::regconfig"), sa.bindparam("search_q", tokens)))
    # FTS5: a phrase in double quotes; the tokens hold no quote, so nothing in the
    # query can be read as FTS syntax.
    fts = sa.text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :search_q") \
        .bindparams(search_q=f'"{tokens}"').columns(rowid=sa.Integer).subquery("search_fts_match")
    return SearchDoc.id.in_(select(fts.c.rowid))


def _doc_contains(tokens: str, dialect: str):
    """The same condition read from the piece's own tokens (no index): one token per
    character separated by single spaces, so " 王 芳 " inside " …tokens… " is the phrase."""
    find = sa.func.strpos if dialect == "postgresql" else sa.func.instr
    return find(sa.literal(" ") + SearchDoc.tokens + sa.literal(" "), sa.literal(f" {tokens} ")) > 0


def _visible_docs(user):
    """Confidential diary entries match only for the case's mediators and their author
    (as diary.services.visible_entries shows them)."""
    mine = select(Case.id).where(Case.lead_mediator_id == user.id).union(
        select(case_co_mediator.c.case_id).where(case_co_mediator.c.user_id == user.id))
    return SearchDoc.confidential.is_(False) | (SearchDoc.author_id == user.id) | SearchDoc.case_id.in_(mine)


class SearchResults:
    """What ``search_cases`` found: ``case_ids`` (a query, for use as a filter), ``total``
    (counted up to COUNT_BOUND + 1), ``hits`` (the page, with highlighted snippets), run
    when read. ``common``: the query was looked for case by case (see the module), and
    ``since``: the intake date before which cases were not looked at (None: all were)."""

    def __init__(self, user, query: str | None, limit: int | None, offset: int):
        self.user, self.query, self.limit, self.offset = user, clean_query(query), limit, max(offset, 0)
        self._tokens = spaced(self.query)
        self._dialect = db.session.get_bind(mapper=SearchDoc.__mapper__).dialect.name
        self._match = _doc_matches(self._tokens, self._dialect) if self.query else sa.false()
        self._contains = _doc_contains(self._tokens, self._dialect) if self.query else sa.false()

    @cached_property
    def common(self) -> bool:
        if not self.query:
            return False
        limit = current_app.config["SEARCH_COMMON_PIECES"]
        # A fact about the whole index, the same for every user and slow to change. Counting
        # the pieces is a search's dearest query for a frequent pair (up to 67 ms at a million
        # cases on PostgreSQL), and frequent queries (赡养, 彩礼) are asked again and again.
        return per_worker(("search.common", limit, self._tokens), lambda: self._count_common(limit),
                          current_app.config["SEARCH_MEMO_SECONDS"])

    def _count_common(self, limit: int) -> bool:
        if self._dialect == "postgresql":
            pieces = select(SearchDoc.id).where(self._match)
        else:  # straight from FTS5, which stops after limit + 1 (an IN over it would read them all)
            pieces = sa.text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :search_q").bindparams(
                search_q=f'"{self._tokens}"').columns(rowid=sa.Integer)
            pieces = select(pieces.subquery("search_fts_probe").c.rowid)
        return bounded_counts([pieces], limit)[0] > limit

    @cached_property
    def since(self) -> date | None:
        """A common query looks at the newest SEARCH_SCAN_CASES cases of the area: the
        intake date of the oldest of them, when the area has more."""
        if not self.common:
            return None
        scan = current_app.config["SEARCH_SCAN_CASES"]
        # Walking 20,000 index entries (10 ms at a million cases) for a date that moves a day
        # at a time: remembered per user, as whether a query is common is (each page of a
        # common query's results asks it again).
        return per_worker(("search.since", self.user.id, scan), lambda: db.session.scalar(
            access.case_rows(self.user).with_only_columns(CV.intake_date)
            .order_by(CV.intake_date.desc(), CV.case_id.desc()).offset(scan - 1).limit(1)),
            current_app.config["SEARCH_MEMO_SECONDS"])

    def _found(self, rows: Select) -> Select:
        """``rows`` (a query over CaseVisibility) narrowed to the matching cases whose
        content may be shown (a restricted case not opened with a reason is not searched:
        a hit would tell what it contains)."""
        rows = rows.where(access.content_shown_rows())
        if not self.query:
            return rows.where(sa.false())
        if not self.common:
            return rows.where(CV.case_id.in_(select(SearchDoc.case_id).where(self._match, _visible_docs(self.user))))
        rows = rows.where(self._has_piece())
        return rows.where(CV.intake_date >= self.since) if self.since is not None else rows

    def _has_piece(self):
        """The case of the ``case_visibility`` row at hand has a visible piece containing the
        query: probed row by row through the pieces' case index. A scalar subquery with LIMIT,
        not EXISTS, which PostgreSQL would turn into a join over every piece of the database."""
        return select(SearchDoc.id).where(SearchDoc.case_id == CV.case_id, self._contains,
                                          _visible_docs(self.user)).limit(1).scalar_subquery().is_not(None)

    @property
    def case_ids(self) -> Select:
        """The ids of the cases found (every one for a rare query; within the newest
        SEARCH_SCAN_CASES of the area for a common one)."""
        return self._found(access.case_rows(self.user))

    def condition(self):
        """For a list of cases over ``case_visibility`` (``cases.listing.filtered_cases``):
        only those found. A common query's condition is checked row by row as the list walks
        its index (the list stops when its page is full), not gathered into a set first."""
        if not self.query:
            return sa.false()
        if not self.common:
            return CV.case_id.in_(self.case_ids)
        found = access.content_shown_rows() & self._has_piece()
        return found & (CV.intake_date >= self.since) if self.since is not None else found

    @cached_property
    def total(self) -> int | None:
        """How many cases were found, counted up to COUNT_BOUND + 1; None for a common
        query, which is not counted (counting would look through every case it is checked
        against, the cost the common way avoids): its page says "newest first" and offers
        the next page when there is one (``has_next``)."""
        if not self.query:
            return 0
        if self.common:
            # Counted after all when the first page holds every match.
            hits = self.hits  # reads the page, and whether a case follows it
            return len(hits) if self.offset == 0 and self.limit and not self._beyond else None
        return bounded_counts([self.case_ids])[0]

    @property
    def more(self) -> bool:
        """More cases than COUNT_BOUND were found ("more than 1,000")."""
        return self.total is not None and self.total > count_bound()

    @property
    def at_bound(self) -> bool:
        """An uncounted query's pages reached COUNT_BOUND cases: older ones are not paged to."""
        return self.total is None and self.limit is not None and self.offset + self.limit >= count_bound()

    @property
    def has_next(self) -> bool:
        """Another page follows this one (one case more than the page was read)."""
        self.hits  # noqa: B018  (reads the page, and with it whether one more case exists)
        return self._has_next

    @cached_property
    def hits(self) -> list[Hit]:
        self._has_next = self._beyond = False
        if not self.query:
            return []
        stmt = self._found(access.cases_query(self.user)).options(
            joinedload(Case.unit).joinedload(OrgUnit.parent), joinedload(Case.category), selectinload(Case.parties),
        ).order_by(CV.intake_date.desc(), CV.case_id.desc()).offset(self.offset)
        if self.limit is not None:
            stmt = stmt.limit(self.limit + 1)  # one more: is there a next page (nothing counted)
        cases = list(db.session.scalars(stmt).unique())
        # A common query pages on as far as counted ones do (COUNT_BOUND cases), no further.
        self._beyond = self.limit is not None and len(cases) > self.limit  # a case after this page
        self._has_next = self._beyond and self.offset + self.limit < count_bound()
        cases = cases[:self.limit] if self.limit is not None else cases
        hits = {c.id: Hit(c) for c in cases}
        if not hits:
            return []
        docs = db.session.scalars(
            select(SearchDoc).where(SearchDoc.case_id.in_(hits), self._contains, _visible_docs(self.user))
            .order_by(SearchDoc.case_id, SearchDoc.source_id, SearchDoc.part)).all()
        seen: set[tuple] = set()
        for doc in sorted(docs, key=lambda d: (KINDS.index(d.kind), d.source_id, d.part)):
            if (doc.kind, doc.source_id) in seen:
                continue  # one snippet per source (chunks overlap)
            hit = hits[doc.case_id]
            names = [p.name for p in hit.case.parties]
            html = (highlight_masked(doc.content, self.query) if doc.kind == "party"
                    else highlight(doc.content, self.query, names=names))
            if html is None:
                continue
            seen.add((doc.kind, doc.source_id))
            if len(hit.snippets) < SNIPPETS_PER_CASE:
                hit.snippets.append(Snippet(doc.kind, html, doc.confidential))
            else:
                hit.more += 1
        return [hits[c.id] for c in cases]

    @property
    def pages(self) -> int | None:
        """Pages of the cases counted (no page past COUNT_BOUND); None when not counted."""
        if not self.limit:
            return 1
        if self.total is None:
            return None
        return max(1, -(-min(self.total, count_bound()) // self.limit))


def search_cases(user, query: str | None, limit: int | None = 20, offset: int = 0) -> SearchResults:
    """Cases the user may see whose case number, party names, summary, claims or diary
    text (confidential entries only for the case's mediators and the entry's author)
    contain ``query``, newest first, ``limit`` from ``offset``.

    Every one- or two-character query finds every match: the index has one token per
    character and the query is searched as a phrase (see ``text``); a common one within the
    newest SEARCH_SCAN_CASES cases of the area (see the module). The query is only text:
    FTS syntax in it has no effect. An empty query finds nothing.
    """
    return SearchResults(user, query, limit, offset)
