"""Lost or wrong ID keys (issue 13, point 10), on SQLite and PostgreSQL: the database keeps a
key check value; `keys check` and the start-up name a missing or wrong key instead of making
new ones; `keys rotate` re-encrypts and re-hashes (and the old key can then go)."""
import shutil
import sqlite3

import pytest
from cryptography.fernet import Fernet
from flask_migrate import upgrade
from sqlalchemy import func, select, text
from werkzeug.datastructures import MultiDict

from mediation.cases.models import Party
from mediation.crypto import cipher_for
from mediation.extensions import db
from mediation.keys import KeyProblem
from mediation.related.services import related_cases

from .factories import make_case, user
from .instances import MIGRATIONS, drop_everything, instance_app, migrate_and_load, run_flask

GOOD_ID = "320482194203181227"  # valid check digit, born 1942-03-18
WIDE_ID = "３２０４８２１９４２０３１８１２２７"  # the same number in full-width digits


def populated(db_url: str, folder):
    """An app whose instance folder (keys) is ``folder``, on a migrated database with the
    demo network and one case whose applicant has an ID number."""
    app = instance_app(db_url, folder)
    with app.app_context():
        migrate_and_load(app)
        case = make_case()
        case.parties[0].id_number = GOOD_ID
        db.session.commit()
        db.session.remove()
    return app


@pytest.fixture
def instance(db_url, tmp_path):
    """(app, folder): ``populated`` in tmp_path/instance, on SQLite and PostgreSQL."""
    folder = tmp_path / "instance"
    app = populated(db_url, folder)
    yield app, folder
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    drop_everything(db_url)


def case_list_ok(app) -> bool:
    from .conftest import DEMO_PASSWORD

    with app.app_context():
        client = app.test_client()
        client.post("/login", data={"username": "med-320413109201", "password": DEMO_PASSWORD})
        ok = client.get("/cases/").status_code == 200 and client.get("/search?q=汤").status_code == 200
        db.session.remove()
        db.engine.dispose()
    return ok


# --- point 10: lost or wrong keys ------------------------------------------------------------

def test_a_missing_or_wrong_key_file_is_named_and_the_app_refuses_to_start(instance, db_url, tmp_path):
    app, folder = instance
    ok = run_flask(["keys", "check"], folder=folder, db_url=db_url)
    assert ok.exit_code == 0 and "Keys OK: 1 ID number(s)" in ok.output, ok.output
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM key_check")).scalar() == 1

    # The encryption key file is lost: named, never made anew.
    kept = tmp_path / "id_key.saved"
    shutil.move(folder / "id_key", kept)
    check = run_flask(["keys", "check"], folder=folder, db_url=db_url)
    assert check.exit_code == 1
    assert f"{folder / 'id_key'} is missing, but the database holds ID numbers encrypted" in check.output
    with pytest.raises(KeyProblem, match="id_key is missing") as refused:
        instance_app(db_url, folder)
    assert isinstance(refused.value, RuntimeError) and str(refused.value) in check.output
    assert not (folder / "id_key").exists()  # no new key was made
    # The other commands refuse too, with the same message; the key, backup and db commands run.
    for args in (["audit", "verify"], ["search", "reindex"], ["routes"]):
        result = run_flask(args, folder=folder, db_url=db_url)
        assert result.exit_code == 1 and "id_key is missing" in result.output, (args, result.output)
    assert run_flask(["db", "current"], folder=folder, db_url=db_url).exit_code == 0
    assert not (folder / "id_key").exists()

    # A wrong key (another valid Fernet key) is refused the same way.
    (folder / "id_key").write_text(Fernet.generate_key().decode() + "\n")
    check = run_flask(["keys", "check"], folder=folder, db_url=db_url)
    assert check.exit_code == 1 and "does not open the database's key check value" in check.output
    with pytest.raises(KeyProblem, match="does not open the database's key check value"):
        instance_app(db_url, folder)

    # A wrong hash key: matching would find nothing.
    shutil.copy(kept, folder / "id_key")
    right_hash = (folder / "id_hash_key").read_text()
    (folder / "id_hash_key").write_text("f" * 64 + "\n")
    check = run_flask(["keys", "check"], folder=folder, db_url=db_url)
    assert check.exit_code == 1 and "is not the one the database's ID numbers were hashed with" in check.output
    with pytest.raises(KeyProblem, match="hashed with"):
        instance_app(db_url, folder)
    (folder / "id_hash_key").unlink()
    with pytest.raises(KeyProblem, match="id_hash_key is missing"):
        instance_app(db_url, folder)

    # The right files back: everything works again.
    (folder / "id_hash_key").write_text(right_hash)
    assert run_flask(["keys", "check"], folder=folder, db_url=db_url).exit_code == 0
    restarted = instance_app(db_url, folder)
    assert case_list_ok(restarted)
    with restarted.app_context():
        assert db.session.scalar(select(Party.id_number).where(Party.id_hash != "")) == GOOD_ID
        db.engine.dispose()


def test_when_the_database_is_down_at_start_the_first_request_compares_the_keys(tmp_path):
    """(SQLite only: a file that appears later stands for a database server that comes up later.)"""
    folder, db_file = tmp_path / "instance", tmp_path / "mediation.sqlite"
    db_url = f"sqlite:///{db_file}"
    with populated(db_url, folder).app_context():
        db.engine.dispose()
    later = tmp_path / "not-yet" / "mediation.sqlite"
    (folder / "id_key").write_text(Fernet.generate_key().decode() + "\n")  # the wrong key
    started = instance_app(f"sqlite:///{later}", folder)  # the database cannot be opened: it starts
    with started.app_context():
        assert started.test_client().get("/healthz").status_code == 503  # the database is down
        later.parent.mkdir()
        source, copy = sqlite3.connect(db_file), sqlite3.connect(later)
        source.backup(copy)  # (a plain file copy would miss what is still in the WAL file)
        source.close()
        copy.close()
        resp = started.test_client().get("/login")
        assert resp.status_code == 503 and "身份证号码密钥与数据库不匹配" in resp.get_data(as_text=True)
        assert started.test_client().get("/healthz").status_code == 503
        db.engine.dispose()


def test_a_new_database_gets_keys_and_a_check_value_and_an_empty_one_is_not_held_to_old_keys(db_url, tmp_path):
    folder = tmp_path / "instance"
    app = instance_app(db_url, folder)  # nothing anywhere yet: keys are made
    assert (folder / "id_key").is_file() and (folder / "id_hash_key").is_file()
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        row = db.session.execute(text("SELECT encryption_check, hash_check FROM key_check")).one()
        assert cipher_for().opens_check(row.encryption_check) and row.hash_check == cipher_for().hash_check()
        db.session.remove()
        db.engine.dispose()
    try:
        # No number is encrypted yet: lost keys are simply made again (and the check value follows them).
        (folder / "id_key").unlink()
        again = instance_app(db_url, folder)
        assert (folder / "id_key").is_file()
        with again.app_context():
            token = db.session.execute(text("SELECT encryption_check FROM key_check")).scalar()
            assert token != row.encryption_check and cipher_for().opens_check(token)
            db.engine.dispose()
    finally:
        drop_everything(db_url)


def test_keys_rotate_with_configured_keys_then_the_old_key_is_dropped(instance, db_url):
    """The documented rotation: the new key first, `keys rotate`, the old key removed."""
    app, _folder = instance
    old_key = (_folder / "id_key").read_text().strip()
    old_hash = (_folder / "id_hash_key").read_text().strip()
    with app.app_context():
        other = make_case(applicant="汤桂珍", respondent="周国华")
        other.parties[0].id_number = WIDE_ID  # the same person, typed in full-width digits
        from mediation.cases.services import save_draft

        draft = save_draft(user("med-320413109201"), MultiDict(
            {"parties-0-name": "汤桂珍", "parties-0-id_number": GOOD_ID, "parties-0-phone": "13800000101"}), None)
        db.session.commit()
        draft_id = draft.id
        db.session.remove()
    new_key, new_hash = Fernet.generate_key().decode(), "n" * 64
    both = {"MEDIATION_ID_ENCRYPTION_KEYS": f"{new_key},{old_key}", "MEDIATION_ID_HASH_KEY": new_hash}
    # A new hash key does not fit the check value: the app refuses; `keys rotate` runs.
    with pytest.raises(KeyProblem, match="hashed with"):
        instance_app(db_url, _folder, ID_ENCRYPTION_KEYS=f"{new_key},{old_key}", ID_HASH_KEY=new_hash)
    result = run_flask(["keys", "rotate"], folder=_folder, db_url=db_url, **both)
    assert result.exit_code == 0, result.output
    assert "2 ID numbers re-encrypted" in result.output and "1 drafts re-encrypted" in result.output

    # The old key is gone: everything still opens, matches and finds the same person.
    only_new = {"ID_ENCRYPTION_KEYS": new_key, "ID_HASH_KEY": new_hash}
    rotated = instance_app(db_url, _folder, **only_new)
    with rotated.app_context():
        numbers = db.session.scalars(select(Party.id_number).where(Party.id_hash != "")).all()
        assert numbers == [GOOD_ID, GOOD_ID]
        assert db.session.scalar(select(func.count(Party.id)).where(Party.id_number == GOOD_ID)) == 2
        for token in db.session.execute(text("SELECT id_number_enc FROM party WHERE id_hash <> ''")).scalars():
            Fernet(new_key.encode()).decrypt(token.encode())  # encrypted with the new key alone
        found = related_cases(user("med-320413109201"), [{"name": "汤桂珍", "id_number": GOOD_ID}])
        assert len([r for r in found if r.visible]) == 2
        from mediation.cases.models import CaseDraft
        from mediation.cases.services import unseal_draft

        assert unseal_draft(db.session.get(CaseDraft, draft_id).data)["parties-0-id_number"] == [GOOD_ID]
        db.session.remove()
        db.engine.dispose()
    assert run_flask(["keys", "check"], folder=_folder, db_url=db_url, MEDIATION_ID_ENCRYPTION_KEYS=new_key,
                     MEDIATION_ID_HASH_KEY=new_hash).exit_code == 0
    # The old keys no longer fit.
    with pytest.raises(KeyProblem):
        instance_app(db_url, _folder, ID_ENCRYPTION_KEYS=old_key, ID_HASH_KEY=old_hash)


def test_keys_rotate_new_key_files(instance, db_url):
    """With the keys in the instance folder, `keys rotate --new-key --new-hash-key` makes both
    anew and removes the old encryption key from the file once every number is re-encrypted."""
    app, folder = instance
    old_key, old_hash = (folder / "id_key").read_text().strip(), (folder / "id_hash_key").read_text().strip()
    with app.app_context():
        old_token = db.session.execute(text("SELECT id_number_enc FROM party WHERE id_hash <> ''")).scalar()
        db.session.remove()
    result = run_flask(["keys", "rotate", "--new-key", "--new-hash-key"], folder=folder, db_url=db_url)
    assert result.exit_code == 0, result.output
    new_key, new_hash = (folder / "id_key").read_text().strip(), (folder / "id_hash_key").read_text().strip()
    assert new_key != old_key and "\n" not in new_key and new_hash != old_hash
    assert (folder / "id_key").stat().st_mode & 0o777 == 0o600
    rotated = instance_app(db_url, folder)
    with rotated.app_context():
        token = db.session.execute(text("SELECT id_number_enc FROM party WHERE id_hash <> ''")).scalar()
        assert token != old_token and Fernet(new_key.encode()).decrypt(token.encode()).decode() == GOOD_ID
        with pytest.raises(Exception):  # noqa: B017 - the old key opens nothing any more
            Fernet(old_key.encode()).decrypt(token.encode())
        again = make_case(applicant="汤桂珍", respondent="某人")
        again.parties[0].id_number = GOOD_ID
        db.session.commit()
        found = related_cases(user("med-320413109201"), again.parties, exclude_case_id=again.id)
        assert [r.visible for r in found] == [True]
        db.session.remove()
        db.engine.dispose()
    assert case_list_ok(rotated)
