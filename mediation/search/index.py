"""Keeping the search index: its DDL on each engine, the listeners that rewrite a
source's documents in the same transaction as the change, and the full rebuild.

SQLite: ``search_fts``, an FTS5 table (``unicode61``, diacritics kept) with
``search_doc`` as its external content, kept in step by three triggers on
``search_doc``. PostgreSQL: ``search_doc.tsv``, a stored generated column
``to_tsvector('simple', tokens)``, in the GIN index ``ix_search_doc_tsv``.
Neither is in the model: ``ensure_search_index`` creates them (called after
``create_all`` through a DDL event, and by the migration) and ``INDEX_OBJECTS``
names them for the migration comparison.

Only ORM changes are seen (mapper events): a bulk ``UPDATE`` through Core leaves the
index stale until ``flask --app mediation search reindex``.
"""
from collections.abc import Iterable, Iterator

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, object_session

from ..cases.models import Case, Party
from ..diary.models import Amendment, DiaryEntry
from .models import SearchDoc
from .text import chunks, spaced

FTS_TABLE = "search_fts"
TSV_COLUMN = "tsv"
TSV_INDEX = "ix_search_doc_tsv"

_SQLITE_CREATE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(tokens, content='search_doc', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER IF NOT EXISTS search_doc_ai AFTER INSERT ON search_doc BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, tokens) VALUES (new.id, new.tokens); END",
    "CREATE TRIGGER IF NOT EXISTS search_doc_ad AFTER DELETE ON search_doc BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, tokens) VALUES ('delete', old.id, old.tokens); END",
    "CREATE TRIGGER IF NOT EXISTS search_doc_au AFTER UPDATE ON search_doc BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, tokens) VALUES ('delete', old.id, old.tokens); "
    f"INSERT INTO {FTS_TABLE}(rowid, tokens) VALUES (new.id, new.tokens); END",
    # Index whatever search_doc already holds (nothing when the table is new).
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
)
_SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS search_doc_ai",
    "DROP TRIGGER IF EXISTS search_doc_ad",
    "DROP TRIGGER IF EXISTS search_doc_au",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
)
_PG_CREATE = (
    f"ALTER TABLE search_doc ADD COLUMN IF NOT EXISTS {TSV_COLUMN} tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, tokens)) STORED",
    f"CREATE INDEX IF NOT EXISTS {TSV_INDEX} ON search_doc USING gin ({TSV_COLUMN})",
)
_PG_DROP = (
    f"DROP INDEX IF EXISTS {TSV_INDEX}",
    f"ALTER TABLE search_doc DROP COLUMN IF EXISTS {TSV_COLUMN}",
)


def ensure_search_index(connection: sa.Connection) -> None:
    """Create the full-text index over ``search_doc.tokens`` if it is missing."""
    statements = {"sqlite": _SQLITE_CREATE, "postgresql": _PG_CREATE}.get(connection.dialect.name, ())
    for statement in statements:
        connection.exec_driver_sql(statement)


def drop_search_index(connection: sa.Connection) -> None:
    statements = {"sqlite": _SQLITE_DROP, "postgresql": _PG_DROP}.get(connection.dialect.name, ())
    for statement in statements:
        connection.exec_driver_sql(statement)


@event.listens_for(SearchDoc.__table__, "after_create")
def _index_after_create(_table, connection, **_kw) -> None:
    ensure_search_index(connection)  # db.create_all() (tests, the benchmark)


@event.listens_for(SearchDoc.__table__, "before_drop")
def _index_before_drop(_table, connection, **_kw) -> None:
    drop_search_index(connection)


def include_name(name, type_, _parent_names) -> bool:
    """For Alembic's comparison (migrations/env.py, tests/test_migrations.py): the
    FTS5 table and its shadow tables are not in the model."""
    return not (type_ == "table" and name is not None and name.startswith(FTS_TABLE))


def include_object(obj, name, type_, _reflected, _compare_to) -> bool:
    """For Alembic's comparison: the tsvector column and its GIN index are not in the model."""
    if type_ == "column" and name == TSV_COLUMN and obj.table.name == "search_doc":
        return False
    return not (type_ == "index" and name == TSV_INDEX)


# --- documents -----------------------------------------------------------------------
# Lightweight tables with only the columns read here, so that the migration can use
# the same code whatever the models look like later.

_doc = SearchDoc.__table__
_case = sa.table("case_record", sa.column("id", sa.Integer), sa.column("number", sa.String),
                 sa.column("summary", sa.Text), sa.column("claims", sa.Text))
_party = sa.table("party", sa.column("id", sa.Integer), sa.column("case_id", sa.Integer),
                  sa.column("name", sa.String))
ENTRY_TEXT = ("place", "others_present", "issues", "positions", "proposals", "result", "next_step",
              "remaining_risk")
_entry = sa.table("diary_entry", sa.column("id", sa.Integer), sa.column("case_id", sa.Integer),
                  sa.column("author_id", sa.Integer), sa.column("confidential", sa.Boolean),
                  *[sa.column(f, sa.JSON if f == "positions" else sa.Text) for f in ENTRY_TEXT])
_amendment = sa.table("diary_amendment", sa.column("id", sa.Integer), sa.column("entry_id", sa.Integer),
                      sa.column("text", sa.Text))
CASE_KINDS = ("number", "summary", "claims")
BATCH = 500


def _docs(kind: str, source_id: int, case_id: int, content: str | None, *, confidential: bool = False,
          author_id: int | None = None) -> list[dict]:
    return [{"case_id": case_id, "kind": kind, "source_id": source_id, "part": i, "confidential": confidential,
             "author_id": author_id, "content": piece, "tokens": spaced(piece)}
            for i, piece in enumerate(chunks((content or "").strip()))]


def _case_docs(row) -> list[dict]:
    return [d for kind in CASE_KINDS for d in _docs(kind, row.id, row.id, getattr(row, kind))]


def _entry_text(row, amendments: list[str]) -> str:
    parts = []
    for field in ENTRY_TEXT:
        value = getattr(row, field)
        if isinstance(value, dict):
            parts.extend(str(v) for v in value.values() if v)
        elif value:
            parts.append(str(value))
    return "\n".join(parts + amendments)


def _batches(ids: Iterable[int]) -> Iterator[list[int]]:
    ids = sorted(ids)
    for i in range(0, len(ids), BATCH):
        yield ids[i:i + BATCH]


def _entry_docs(connection, rows) -> list[dict]:
    rows = list(rows)
    amendments: dict[int, list[str]] = {}
    if rows:
        for entry_id, text in connection.execute(
                sa.select(_amendment.c.entry_id, _amendment.c.text)
                .where(_amendment.c.entry_id.in_([r.id for r in rows])).order_by(_amendment.c.id)):
            amendments.setdefault(entry_id, []).append(text or "")
    return [d for r in rows for d in _docs("diary", r.id, r.case_id, _entry_text(r, amendments.get(r.id, [])),
                                            confidential=bool(r.confidential), author_id=r.author_id)]


def refresh(connection, *, cases: Iterable[int] = (), parties: Iterable[int] = (), entries: Iterable[int] = (),
            cases_gone: Iterable[int] = ()) -> None:
    """Rewrite the documents of these sources from what the database holds now (a
    source that no longer exists loses its documents)."""
    new: list[dict] = []
    for ids in _batches(cases_gone):
        connection.execute(sa.delete(_doc).where(_doc.c.case_id.in_(ids)))
    for ids in _batches(cases):
        connection.execute(sa.delete(_doc).where(_doc.c.kind.in_(CASE_KINDS), _doc.c.source_id.in_(ids)))
        for row in connection.execute(sa.select(_case).where(_case.c.id.in_(ids))):
            new.extend(_case_docs(row))
    for ids in _batches(parties):
        connection.execute(sa.delete(_doc).where(_doc.c.kind == "party", _doc.c.source_id.in_(ids)))
        for row in connection.execute(sa.select(_party).where(_party.c.id.in_(ids))):
            new.extend(_docs("party", row.id, row.case_id, row.name))
    for ids in _batches(entries):
        connection.execute(sa.delete(_doc).where(_doc.c.kind == "diary", _doc.c.source_id.in_(ids)))
        new.extend(_entry_docs(connection, connection.execute(sa.select(_entry).where(_entry.c.id.in_(ids)))))
    if new:
        connection.execute(sa.insert(_doc), new)


def rebuild(connection) -> tuple[int, int]:
    """Empty the index and build it again from every case, party and diary entry.
    Returns (cases, documents)."""
    connection.execute(sa.delete(_doc))
    case_ids = list(connection.scalars(sa.select(_case.c.id).order_by(_case.c.id)))
    for ids in _batches(case_ids):
        new = [d for row in connection.execute(sa.select(_case).where(_case.c.id.in_(ids))) for d in _case_docs(row)]
        new += [d for row in connection.execute(sa.select(_party).where(_party.c.case_id.in_(ids)))
                for d in _docs("party", row.id, row.case_id, row.name)]
        new += _entry_docs(connection, connection.execute(sa.select(_entry).where(_entry.c.case_id.in_(ids))))
        if new:
            connection.execute(sa.insert(_doc), new)
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')")
    return len(case_ids), connection.scalar(sa.select(sa.func.count()).select_from(_doc))


# --- listeners: the documents change in the flush that changes their source ------------

_PENDING = "search_pending"


def _pending(target) -> dict[str, set[int]] | None:
    session = object_session(target)
    if session is None:
        return None
    return session.info.setdefault(_PENDING, {"cases": set(), "parties": set(), "entries": set(),
                                              "cases_gone": set()})


def _changed(target, fields: Iterable[str]) -> bool:
    state = sa.inspect(target)
    return any(state.attrs[f].history.has_changes() for f in fields)


def _note(key: str, fields: Iterable[str] | None = None):
    def listener(_mapper, _connection, target):
        if fields is not None and not _changed(target, fields):
            return
        pending = _pending(target)
        if pending is not None:
            pending[key].add(target.entry_id if isinstance(target, Amendment) else target.id)
    return listener


for _cls, _key, _fields in ((Case, "cases", CASE_KINDS), (Party, "parties", ("name", "case_id")),
                            (DiaryEntry, "entries", (*ENTRY_TEXT, "confidential", "author_id", "case_id"))):
    event.listen(_cls, "after_insert", _note(_key))
    event.listen(_cls, "after_update", _note(_key, _fields))
    event.listen(_cls, "after_delete", _note("cases_gone" if _cls is Case else _key))
event.listen(Amendment, "after_insert", _note("entries"))


@event.listens_for(Session, "after_flush")
def _after_flush(session, _flush_context) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending and any(pending.values()):
        refresh(session.connection(), **{k: v for k, v in pending.items()})


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session, _previous_transaction) -> None:
    session.info.pop(_PENDING, None)
