"""The one search function: cases in the user's access whose number, parties,
summary, claims or diary text contain the query."""
from dataclasses import dataclass, field
from functools import cached_property

import sqlalchemy as sa
from markupsafe import Markup
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from .. import access
from ..cases.models import Case
from ..cases.services import case_co_mediator
from ..extensions import db
from ..org.models import OrgUnit
from .index import FTS_TABLE, TSV_COLUMN
from .models import KINDS, SearchDoc
from .text import clean_query, highlight, highlight_masked, spaced

SNIPPETS_PER_CASE = 3


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
    """A condition on SearchDoc: its text contains the (spaced) query as a phrase."""
    if dialect == "postgresql":
        return sa.literal_column(f"search_doc.{TSV_COLUMN}").op("@@")(
            sa.func.phraseto_tsquery(sa.literal_column("'simple'::regconfig"), sa.bindparam("search_q", tokens)))
    # FTS5: a phrase in double quotes; the tokens hold no quote, so nothing in the
    # query can be read as FTS syntax.
    fts = sa.text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :search_q") \
        .bindparams(search_q=f'"{tokens}"').columns(rowid=sa.Integer).subquery("search_fts_match")
    return SearchDoc.id.in_(select(fts.c.rowid))


def _visible_docs(user):
    """Confidential diary entries match only for the case's mediators and their author
    (as diary.services.visible_entries shows them)."""
    mine = select(Case.id).where(Case.lead_mediator_id == user.id).union(
        select(case_co_mediator.c.case_id).where(case_co_mediator.c.user_id == user.id))
    return SearchDoc.confidential.is_(False) | (SearchDoc.author_id == user.id) | SearchDoc.case_id.in_(mine)


class SearchResults:
    """What ``search_cases`` found: ``case_ids`` (a query, for use as a filter),
    ``total`` and ``hits`` (the page, with highlighted snippets) run when read."""

    def __init__(self, user, query: str | None, limit: int | None, offset: int):
        self.user, self.query, self.limit, self.offset = user, clean_query(query), limit, max(offset, 0)
        self._tokens = spaced(self.query)
        dialect = db.session.get_bind(mapper=SearchDoc.__mapper__).dialect.name
        self._match = _doc_matches(self._tokens, dialect) if self.query else sa.false()
        matching_cases = select(SearchDoc.case_id).where(self._match, _visible_docs(user))
        # Built on the one scope helper: nothing outside the user's access.
        # A restricted case not yet opened with a reason is not searched: a hit would tell
        # what it contains.
        self._cases: Select = access.cases_query(user).where(Case.id.in_(matching_cases),
                                                             access.content_shown_clause())
        self.case_ids: Select = self._cases.with_only_columns(Case.id)

    @cached_property
    def total(self) -> int:
        if not self.query:
            return 0
        return db.session.scalar(select(sa.func.count()).select_from(self.case_ids.order_by(None).subquery()))

    @cached_property
    def hits(self) -> list[Hit]:
        if not self.query:
            return []
        stmt = self._cases.options(
            joinedload(Case.unit).joinedload(OrgUnit.parent), joinedload(Case.category), selectinload(Case.parties),
        ).order_by(Case.intake_date.desc(), Case.id.desc()).offset(self.offset)
        if self.limit is not None:
            stmt = stmt.limit(self.limit)
        cases = list(db.session.scalars(stmt).unique())
        hits = {c.id: Hit(c) for c in cases}
        if not hits:
            return []
        docs = db.session.scalars(
            select(SearchDoc).where(SearchDoc.case_id.in_(hits), self._match, _visible_docs(self.user))
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
    def pages(self) -> int:
        if not self.limit:
            return 1
        return max(1, -(-self.total // self.limit))


def search_cases(user, query: str | None, limit: int | None = 20, offset: int = 0) -> SearchResults:
    """Cases the user may see whose case number, party names, summary, claims or diary
    text (confidential entries only for the case's mediators and the entry's author)
    contain ``query``, newest first, ``limit`` from ``offset``.

    Every one- or two-character query finds every match: the index has one token per
    character and the query is searched as a phrase (see ``text``). The query is only
    text: FTS syntax in it has no effect. An empty query finds nothing.
    """
    return SearchResults(user, query, limit, offset)
