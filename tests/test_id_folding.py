"""ID numbers stored folded (issue 13, point 11), on SQLite and PostgreSQL: a number typed
with full-width digits (a Chinese keyboard's full-width mode) is checked, stored, hashed and
matched as the ASCII number, and the migration folds the numbers stored before."""
import hashlib
import hmac

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text

from mediation.cases.models import Case, Party
from mediation.crypto import cipher_for
from mediation.extensions import db
from mediation.related.services import related_cases

from .factories import make_case, user
from .instances import MIGRATIONS, drop_everything, instance_app

GOOD_ID = "320482194203181227"  # valid check digit, born 1942-03-18
WIDE_ID = "３２０４８２１９４２０３１８１２２７"  # the same number in full-width digits
ONE_WIDE = GOOD_ID[:5] + "２" + GOOD_ID[6:]  # one full-width digit, as an IME may slip in


def test_an_id_number_typed_with_a_full_width_digit_is_stored_hashed_and_matched_as_ascii(app, demo, login):
    from .test_cases import intake

    first = make_case(applicant="汤桂珍", respondent="周国华")
    first.parties[0].id_number = GOOD_ID
    db.session.commit()
    med = login("med-320413109201")
    resp = med.post("/cases/new", data=intake(**{"parties-0-id_number": ONE_WIDE}))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    typed = db.session.scalar(select(Case).where(Case.id != first.id))
    raw = db.session.execute(text("SELECT id_number_enc, id_hash FROM party WHERE id = :id"),
                             {"id": typed.parties[0].id}).one()
    assert cipher_for().decrypt(raw.id_number_enc) == GOOD_ID and raw.id_hash == cipher_for().hash(GOOD_ID)
    # Related cases: the same person in both cases, whichever way the number is asked for.
    for asked in (GOOD_ID, ONE_WIDE, WIDE_ID, " ".join(GOOD_ID[i:i + 6] for i in (0, 6, 12))):
        found = related_cases(user("med-320413109201"), [{"name": "汤桂珍", "id_number": asked}],
                              exclude_case_id=typed.id)
        assert [r.case_id for r in found] == [first.id], asked
    found = related_cases(user("med-320413109201"), typed.parties, exclude_case_id=typed.id)
    assert [r.case_id for r in found] == [first.id]
    # Set in code, too: the model folds what it is given.
    first.parties[1].id_number = "１１０１０５１９４９１２３１００２ｘ"
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Party, first.parties[1].id).id_number == "11010519491231002X"


def test_the_migration_folds_stored_numbers(db_url, tmp_path):
    folder = tmp_path / "instance"
    app = instance_app(db_url, folder)
    with app.app_context():
        try:
            upgrade(directory=MIGRATIONS, revision="d17a0c3e5b21")  # the revision before
            cipher = cipher_for()
            # As stored before: encrypted as typed, hashed without folding the full-width digits.
            old_hash = hmac.new(cipher._hash_key, ONE_WIDE.encode(), hashlib.sha256).hexdigest()
            with db.engine.begin() as conn:
                if conn.dialect.name == "sqlite":
                    conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                else:
                    conn.exec_driver_sql("SET session_replication_role = replica")  # skip the foreign keys
                conn.execute(text(
                    "INSERT INTO party (id, case_id, position, role, name, ethnicity, occupation, id_number_enc, "
                    "id_hash, phone, address, relationship, is_minor) VALUES "
                    "(1, 1, 0, 'applicant', '汤桂珍', '', '', :enc, :hash, '', '', '', :f), "
                    "(2, 1, 1, 'respondent', '周国民', '', '', :ascii, :ascii_hash, '', '', '', :f), "
                    "(3, 1, 2, 'respondent', '周国华', '', '', '', '', '', '', '', :f)"),
                    {"enc": cipher.encrypt(ONE_WIDE), "hash": old_hash, "f": False,
                     "ascii": cipher.encrypt(GOOD_ID), "ascii_hash": cipher.hash(GOOD_ID)})
            assert old_hash != cipher.hash(GOOD_ID)  # so the two never matched
            upgrade(directory=MIGRATIONS, revision="e13b4c5d6e7f")
            with db.engine.connect() as conn:
                rows = conn.execute(text("SELECT id, id_number_enc, id_hash FROM party ORDER BY id")).all()
                assert [cipher.decrypt(r.id_number_enc) for r in rows] == [GOOD_ID, GOOD_ID, ""]
                assert [r.id_hash for r in rows] == [cipher.hash(GOOD_ID)] * 2 + [""]
                check = conn.execute(text("SELECT encryption_check, hash_check FROM key_check")).one()
                assert cipher.opens_check(check.encryption_check) and check.hash_check == cipher.hash_check()
            downgrade(directory=MIGRATIONS, revision="d17a0c3e5b21")
            with db.engine.connect() as conn:
                assert "key_check" not in inspect(conn).get_table_names()
            downgrade(directory=MIGRATIONS, revision="base")
        finally:
            db.session.remove()
            db.engine.dispose()
            drop_everything(db_url)


def test_the_migration_takes_up_a_run_that_stopped_halfway(db_url, tmp_path):
    """On SQLite, DDL is not undone: a run that stopped after making key_check (a key that did
    not fit) must not block the next one."""
    folder = tmp_path / "instance"
    app = instance_app(db_url, folder)
    with app.app_context():
        try:
            upgrade(directory=MIGRATIONS, revision="d17a0c3e5b21")
            with db.engine.begin() as conn:
                conn.execute(text("CREATE TABLE key_check (id INTEGER NOT NULL PRIMARY KEY, encryption_check TEXT "
                                  "NOT NULL, hash_check VARCHAR(64) NOT NULL, updated_at TIMESTAMP NOT NULL)"))
            upgrade(directory=MIGRATIONS, revision="e13b4c5d6e7f")
            with db.engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM key_check")).scalar() == 1
        finally:
            db.session.remove()
            db.engine.dispose()
            drop_everything(db_url)
