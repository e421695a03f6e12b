"""`flask backup create|restore|verify` (issue 13, point 8), on SQLite and PostgreSQL: the
archive is made while users keep writing, holds one consistent state of the database, the
keys and the uploads, and restores into an empty instance folder and an empty database with
every table's rows and every upload's hash as they were."""
import hashlib
import io
import json
import sqlite3
import tarfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from mediation.attachments.models import DocumentKind
from mediation.attachments.services import store
from mediation.backup.archive import encode, upload_folder
from mediation.cases.models import Party
from mediation.extensions import db
from mediation.related.services import related_cases

from .factories import make_case, user
from .instances import drop_everything, instance_app, migrate_and_load, run_flask, second_postgres_database


def migrations_head() -> str:
    """The newest revision in migrations/ (the schema a backup made now records)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).resolve().parent.parent / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()

GOOD_ID = "320482194203181227"
WRITERS = ("med-320413109201", "med-320413109202", "med-320413104200")


def photo(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40 + seed % 50, 30), (seed % 256, 80, 160)).save(buffer, "PNG")
    return buffer.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def source(db_url, tmp_path):
    """(app, folder): a migrated database with the demo cases, ID numbers and an attachment."""
    folder = tmp_path / "source"
    app = instance_app(db_url, folder)
    with app.app_context():
        migrate_and_load(app)
        from mediation.demo import load_demo

        load_demo(scenarios=True)
        case = make_case()
        case.parties[0].id_number = GOOD_ID
        store(case, by=user(WRITERS[0]), data=photo(0), filename="协议.png", kind=DocumentKind.AGREEMENT)
        db.session.commit()
        db.session.remove()
    yield app, folder
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    drop_everything(db_url)


class Writers:
    """Threads registering cases (with an ID number) and uploading a photo to each, each in
    its own app context and transaction, as users do, until stopped."""

    def __init__(self, app):
        self.app, self.stop, self.errors, self.done = app, threading.Event(), [], [0] * len(WRITERS)
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(len(WRITERS))]

    def run(self, i: int) -> None:
        with self.app.app_context():
            while not self.stop.is_set():
                try:
                    n = sum(self.done)
                    case = make_case(WRITERS[i], applicant=f"并发{i}号{n}", respondent="对方", commit=False)
                    case.parties[0].id_number = GOOD_ID
                    store(case, by=user(WRITERS[i]), data=photo(n + 1), filename=f"p{n}.png",
                          kind=DocumentKind.EVIDENCE)
                    db.session.commit()
                    self.done[i] += 1
                except Exception as exc:  # noqa: BLE001 - reported by the test
                    db.session.rollback()
                    self.errors.append(repr(exc))
                    time.sleep(0.05)
            db.session.remove()

    def wait_for(self, total: int, timeout: float = 120) -> None:
        end = time.monotonic() + timeout
        while sum(self.done) < total:
            assert time.monotonic() < end, f"the writers wrote {sum(self.done)} cases: {self.errors[:3]}"
            time.sleep(0.02)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(60)


def members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}


def snapshot_rows(files: dict[str, bytes], manifest: dict, tmp_path: Path) -> dict[str, list[list]]:
    """Every table's rows as the archive holds them (values encoded as in the PostgreSQL dump)."""
    if manifest["dialect"] == "postgresql":
        return {name: [json.loads(line) for line in files[f"database/{name}.jsonl"].decode().splitlines()]
                for name in manifest["tables"]}
    copy = tmp_path / "snapshot.sqlite"
    copy.write_bytes(files["database/mediation.sqlite"])
    return sqlite_rows(copy, manifest)


def sqlite_rows(path: Path, manifest: dict) -> dict[str, list[list]]:
    conn = sqlite3.connect(path)
    try:
        return {name: [list(r) for r in conn.execute(
            f'SELECT {", ".join(chr(34) + c + chr(34) for c in info["columns"])} FROM "{name}" ORDER BY rowid')]
            for name, info in manifest["tables"].items()}
    finally:
        conn.close()


def database_rows(app, manifest: dict) -> dict[str, list[list]]:
    """Every table's rows in the app's database, read and encoded as the snapshot was."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            path = db.engine.url.database
            db.engine.dispose()
            return sqlite_rows(Path(path), manifest)
        rows = {}
        with db.engine.connect() as conn:
            meta = sa.MetaData()
            meta.reflect(conn, only=list(manifest["tables"]))
            for name, info in manifest["tables"].items():
                table = meta.tables[name]
                columns = [table.c[c] for c in info["columns"]]
                order = list(table.primary_key.columns) or columns
                rows[name] = [[encode(v) for v in r] for r in conn.execute(sa.select(*columns).order_by(*order))]
        db.engine.dispose()
        return rows


def check_consistent(rows: dict[str, list[list]], manifest: dict, files: dict[str, bytes]) -> None:
    """One state of the database: what the snapshot holds fits together."""
    cols = {name: info["columns"] for name, info in manifest["tables"].items()}

    def table(name):
        return [dict(zip(cols[name], r, strict=True)) for r in rows[name]]

    assert {name: len(r) for name, r in rows.items()} == {n: i["rows"] for n, i in manifest["tables"].items()}
    cases = table("case_record")
    parties = table("party")
    roles = {}
    for p in parties:
        roles.setdefault(p["case_id"], set()).add(p["role"])
    assert all(roles.get(c["id"], set()) >= {"applicant", "respondent"} for c in cases)  # no case without its parties
    assert sum(c["last_seq"] for c in table("case_number_counter")) == len(cases)  # numbers given = cases
    head = table("audit_chain_head")[0]
    events = table("audit_event")
    assert head["last_id"] == max(e["id"] for e in events)  # the audit chain ends at its head
    attachments = table("attachment")
    assert attachments
    for a in attachments:  # every file the snapshot refers to is in the archive, unchanged
        data = files[f"uploads/{a['stored_name']}"]
        assert sha256(data) == a["sha256"] == manifest["files"][f"uploads/{a['stored_name']}"]["sha256"]
    assert len(manifest["files"]) == len([n for n in files if n != "manifest.json"])


def test_backup_under_writes_then_restore_elsewhere(source, db_url, tmp_path, request):
    app, folder = source
    archive = tmp_path / "backups" / "mediation-2026-12-06.tar.gz"
    archive.parent.mkdir()
    with app.app_context():
        before = db.session.execute(sa.text("SELECT count(*) FROM case_record")).scalar()
        db.session.remove()
    with Writers(app) as writers:
        writers.wait_for(6)
        result = app.test_cli_runner().invoke(args=["backup", "create", str(archive)])
        assert result.exit_code == 0, result.output
        at_backup = sum(writers.done)
        writers.wait_for(at_backup + 6)  # and they go on afterwards
    assert not writers.errors, writers.errors[:3]
    with app.app_context():
        after = db.session.execute(sa.text("SELECT count(*) FROM case_record")).scalar()
        db.session.remove()
    assert archive.stat().st_mode & 0o777 == 0o600

    files = members(archive)
    manifest = json.loads(files["manifest.json"])
    assert manifest["format"] == "mediation-backup" and manifest["dialect"] == db_url.split(":")[0].split("+")[0]
    assert manifest["alembic_revision"] == migrations_head() and manifest["created_at"].endswith("Z")
    assert {"instance/id_key", "instance/id_hash_key"} <= set(files)
    assert files["instance/id_key"] == (folder / "id_key").read_bytes()
    for name, info in manifest["files"].items():
        assert sha256(files[name]) == info["sha256"] and len(files[name]) == info["size"]
    snapshot = snapshot_rows(files, manifest, tmp_path)
    check_consistent(snapshot, manifest, files)
    assert before + 6 <= len(snapshot["case_record"]) < after  # taken while the writers wrote

    # Restore into a new instance folder and a new, empty database.
    target = tmp_path / "restored"
    with ExitStack() as stack:
        if manifest["dialect"] == "sqlite":
            restored_url = ""  # the default: instance/mediation.sqlite
        else:
            restored_url = stack.enter_context(second_postgres_database(request.getfixturevalue("pg_url")))
        restore_and_compare(archive, manifest, snapshot, folder, target, restored_url, tmp_path)


def restore_and_compare(archive, manifest, snapshot, folder, target, restored_url, tmp_path):
    """Restore ``archive`` into ``target`` and ``restored_url`` (empty), compare with the snapshot."""
    fresh = instance_app(restored_url, target)
    result = fresh.test_cli_runner().invoke(args=["backup", "restore", str(archive)])
    assert result.exit_code == 0, result.output
    assert "ID number(s) open with the keys" in result.output
    with fresh.app_context():
        db.engine.dispose()
    if not restored_url:
        restored_url = f"sqlite:///{target / 'mediation.sqlite'}"
    assert (target / "id_key").read_bytes() == (folder / "id_key").read_bytes()
    assert (target / "id_key").stat().st_mode & 0o777 == 0o600

    # Every table's rows, all columns, as in the snapshot.
    restarted = instance_app(restored_url, target)  # starts: the keys fit
    assert database_rows(restarted, manifest) == snapshot
    # Every upload, by its hash.
    with restarted.app_context():
        folder_now = upload_folder(restarted)
        restored_files = {p.name: sha256(p.read_bytes()) for p in folder_now.iterdir() if p.is_file()}
    assert restored_files == {n.removeprefix("uploads/"): i["sha256"] for n, i in manifest["files"].items()
                              if n.startswith("uploads/")}
    # The restored system works: numbers open and match, the audit chain verifies, new cases get numbers.
    with restarted.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Party.id)).where(Party.id_number == GOOD_ID)) >= 7
        found = related_cases(user(WRITERS[0]), [{"name": "汤桂珍", "id_number": GOOD_ID}])
        assert any(r.visible for r in found)
        numbers = {r[manifest["tables"]["case_record"]["columns"].index("number")] for r in snapshot["case_record"]}
        assert make_case().number not in numbers  # the counters came back with the cases
        db.session.remove()
        db.engine.dispose()
    assert restarted.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0
    assert run_flask(["keys", "check"], folder=target, db_url=restored_url).exit_code == 0

    # A second restore over it is refused, naming what is there; and into an empty folder
    # beside a database that is not empty.
    again = instance_app(restored_url, target).test_cli_runner().invoke(args=["backup", "restore", str(archive)])
    assert again.exit_code == 1 and "The database already holds" in again.output
    held = next(line for line in again.output.splitlines() if "The instance folder" in line)
    assert "id_key" in held and "id_hash_key" in held and "uploads" not in held  # (the uploads: their own line)
    assert "The uploads folder" in again.output
    # (The app itself would not start there: the database holds numbers and the folder no key.)
    refused = run_flask(["backup", "restore", str(archive)], folder=tmp_path / "other", db_url=restored_url)
    assert refused.exit_code == 1 and "The database already holds" in refused.output
    assert "instance folder" not in refused.output and not (tmp_path / "other" / "id_key").exists()
    for each in (fresh, restarted):
        with each.app_context():
            db.engine.dispose()


def test_an_archive_is_not_overwritten_and_a_damaged_one_is_refused(source, tmp_path):
    app, _folder = source
    archive = tmp_path / "one.tar.gz"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", "create", str(archive)]).exit_code == 0
    again = runner.invoke(args=["backup", "create", str(archive)])
    assert again.exit_code == 1 and "already exists" in again.output
    ok = runner.invoke(args=["backup", "verify", str(archive)])
    assert ok.exit_code == 0 and "is whole" in ok.output

    # One upload changed, the manifest kept: verify and restore both refuse it.
    files = members(archive)
    name = next(n for n in files if n.startswith("uploads/"))
    files[name] = files[name][:-1] + bytes([files[name][-1] ^ 1])
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(damaged, "w:gz") as tar:
        for member, data in files.items():
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    bad = runner.invoke(args=["backup", "verify", str(damaged)])
    assert bad.exit_code == 1 and f"{name} in {damaged} does not match its SHA-256" in bad.output
    target = tmp_path / "target"
    fresh = instance_app(f"sqlite:///{tmp_path / 'target.sqlite'}", target)
    refused = fresh.test_cli_runner().invoke(args=["backup", "restore", str(damaged)])
    assert refused.exit_code == 1 and "does not match its SHA-256" in refused.output
    with fresh.app_context():
        db.engine.dispose()
    assert not (target / "uploads").exists() or not any((target / "uploads").iterdir())
    # A gzip stream with a flipped byte: a clear refusal, not a traceback.
    raw = bytearray(archive.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    flipped = tmp_path / "flipped.tar.gz"
    flipped.write_bytes(bytes(raw))
    bad = runner.invoke(args=["backup", "verify", str(flipped)])
    assert bad.exit_code == 1 and bad.output.startswith("Error:") and bad.exception.__class__ is SystemExit
    # The refused restore left nothing behind: the same target takes the good archive.
    if json.loads(members(archive)["manifest.json"])["dialect"] == "sqlite":
        again_target = instance_app(f"sqlite:///{tmp_path / 'target.sqlite'}", target)
        done = again_target.test_cli_runner().invoke(args=["backup", "restore", str(archive)])
        assert done.exit_code == 0, done.output
