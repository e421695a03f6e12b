"""MEDIATION_INSTANCE_PATH (issue 13, point 9): an installed package keeps its config, keys,
uploads and default SQLite database where the operator says, not beside the code."""
import io
from pathlib import Path

from PIL import Image

from mediation import ROOT, create_app
from mediation.attachments.models import DocumentKind
from mediation.attachments.services import store
from mediation.extensions import db

from .factories import make_case, user
from .instances import instance_env, migrate_and_load


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def test_the_instance_folder_holds_config_keys_uploads_and_the_database(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "srv" / "mediation"
    with instance_env(Path("srv/mediation")):  # relative: from the working directory; made when missing
        first = create_app()  # as deployed: no test config
    assert Path(first.instance_path) == folder and folder.is_dir()
    assert first.instance_path != str(ROOT / "instance")
    assert {p.name for p in folder.iterdir()} >= {"secret_key", "id_key", "id_hash_key"}
    assert first.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{folder / 'mediation.sqlite'}"
    assert (folder / "mediation.sqlite").stat().st_mode & 0o777 == 0o600  # made for the app's user alone
    assert first.config["SECRET_KEY"] == (folder / "secret_key").read_text().strip()

    # Its config.py is the one read.
    (folder / "config.py").write_text('PASSWORD_HASH_METHOD = "scrypt:1024:8:1"\nCASE_NUMBER_PREFIX = "测试调字"\n')
    with instance_env(folder):
        app = create_app()
    assert app.config["CASE_NUMBER_PREFIX"] == "测试调字"
    with app.app_context():
        migrate_and_load(app)
        case = make_case()
        attachment = store(case, by=user("med-320413109201"), data=png(), filename="IMG_1.PNG",
                           kind=DocumentKind.EVIDENCE)
        db.session.commit()
        assert (folder / "uploads" / attachment.stored_name).is_file()
        assert (folder / "uploads" / f"{attachment.stored_name}.thumb.jpg").is_file()
        assert "测试调字" in case.number
        db.session.remove()
        db.engine.dispose()
    assert (folder / "mediation.sqlite").stat().st_size > 0
    assert (folder / "mediation.sqlite").stat().st_mode & 0o777 == 0o600
