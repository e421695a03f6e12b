"""Every table comes from a migration: upgrade from empty, then compare with the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from mediation import ROOT
from mediation.extensions import db
from mediation.search.index import include_name, include_object

from .conftest import make_app


def test_upgrade_from_empty_matches_the_models(db_url):
    app = make_app(db_url)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        with db.engine.connect() as conn:
            # The search index (FTS5 table, tsvector column) is not in the models: see migrations/env.py.
            opts = {"compare_type": True, "include_name": include_name, "include_object": include_object}
            diff = compare_metadata(MigrationContext.configure(conn, opts=opts), db.metadata)
        assert diff == []
        downgrade(directory=str(ROOT / "migrations"), revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_the_papers_migration_takes_units_from_the_history(db_url):
    """a4c2e6f81d30 (issue 14.6): an agreement gets the unit that held the case when it was
    written, a delegated visit's entry the unit given the visit (it had the holder's)."""
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    from mediation.cases import workflow
    from mediation.demo import load_demo
    from mediation.diary.models import EntryKind, Performance
    from mediation.timeutil import local_today
    from mediation.transfers.models import EscalationReason, Urgency

    from .factories import advance, make_agreement, make_case, unit, user, write_entry

    app = make_app(db_url)
    with app.app_context():
        directory = str(ROOT / "migrations")
        upgrade(directory=directory)
        load_demo()
        db.session.commit()
        case = advance(make_case(), "accept", "assign", "start")
        workflow.transition(case, "escalate", by=user("med-320413109201"), to_unit=unit("320413109"),
                            reason_code=EscalationReason.UNSETTLED, reason_text="", urgency=Urgency.NORMAL, note="")
        db.session.commit()
        workflow.transition(case, "receive", by=user("coord-320413109"), lead_mediator=user("coord-320413109"),
                            co_mediators=[], note="")
        db.session.commit()
        agreement = make_agreement(case, by="coord-320413109")
        advance(case, "conclude", "follow_up", by="coord-320413109")
        workflow.transition(case, "delegate", by=user("coord-320413109"), to_unit=unit("320413109201"),
                            instruction="回访", due_date=local_today())
        db.session.commit()
        visit = write_entry(case, by="med-320413109201", kind=EntryKind.FOLLOW_UP, mode=None,
                            performance=Performance.PERFORMED)
        ids = {"agreement": agreement.id, "visit": visit.id, "village": unit("320413109201").id,
               "town": unit("320413109").id}
        db.session.remove()

        def terms():
            with db.engine.connect() as conn:
                return conn.execute(text("SELECT count(*) FROM agreement_term WHERE agreement_id = :agreement"),
                                    ids).scalar()

        assert terms() == 2
        before = ScriptDirectory(directory).get_revision("a4c2e6f81d30").down_revision
        # Down past the agreement's versioning, which rebuilds the table on SQLite too: no term is lost.
        downgrade(directory=directory, revision=ScriptDirectory(directory).get_revision(before).down_revision)
        assert terms() == 2
        upgrade(directory=directory, revision=before)
        assert terms() == 2
        with db.engine.begin() as conn:  # as written before: the entry had the holder's unit
            conn.execute(text("UPDATE diary_entry SET unit_id = :town WHERE id = :visit"), ids)
        upgrade(directory=directory, revision="a4c2e6f81d30")
        with db.engine.connect() as conn:
            def one(sql):
                return conn.execute(text(sql), ids).scalar()

            assert one("SELECT unit_id FROM agreement WHERE id = :agreement") == ids["town"]
            assert one("SELECT unit_id FROM diary_entry WHERE id = :visit") == ids["village"]
            assert one("SELECT term_performance FROM diary_entry WHERE id = :visit") in ("[]", [])
        assert terms() == 2
        downgrade(directory=directory, revision=before)  # and back, with its rows in place
        assert terms() == 2
        if db.engine.dialect.name != "sqlite":  # (a SQLite file is the test's own and goes with tmp_path)
            downgrade(directory=directory, revision="base")
        db.engine.dispose()
        db.engine.dispose()

