"""The search documents: the searchable text of cases, parties and diary entries.

One row per piece of text (long texts in overlapping chunks), kept up to date by the
listeners in ``index.py``. The full-text index on ``tokens`` is not part of the model
(``index.ensure_search_index``): an FTS5 table on SQLite, a generated ``tsvector``
column with a GIN index on PostgreSQL.
"""
from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

# What a document is, in the order results show their snippets.
KINDS = ("number", "party", "summary", "claims", "diary")


class SearchDoc(db.Model):
    __tablename__ = "search_doc"
    __table_args__ = (Index("ix_search_doc_source", "kind", "source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # No foreign key: the index is derived data, rebuilt by ``flask search reindex``,
    # and must never stand in the way of (or be cascaded by) changes to the cases.
    case_id: Mapped[int] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(16))  # one of KINDS
    source_id: Mapped[int]  # the case, party or diary entry
    part: Mapped[int] = mapped_column(default=0)  # chunk number within the source
    # Diary entries: confidential ones match only for the case's mediators and the author.
    confidential: Mapped[bool] = mapped_column(default=False)
    author_id: Mapped[int | None]
    content: Mapped[str] = mapped_column(Text)  # the text, for snippets
    tokens: Mapped[str] = mapped_column(Text)  # text.spaced(content): what is indexed

    def __repr__(self) -> str:
        return f"<SearchDoc {self.kind} {self.source_id}.{self.part}>"
