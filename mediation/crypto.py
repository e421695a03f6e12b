"""Encryption of identity numbers at rest, and the keyed hash used to match them.

Two keys, both outside the database:

* ``ID_ENCRYPTION_KEYS``: one or more Fernet keys (AES-128-CBC with HMAC-SHA256,
  from the ``cryptography`` package), separated by commas or white space. The
  first encrypts; every key decrypts, so a key can be rotated (put the new key
  first, run ``flask --app mediation keys rotate``, then drop the old one).
* ``ID_HASH_KEY``: the HMAC-SHA256 key of the matching hash (``Party.id_hash``),
  which lets the same person be found in other cases without decrypting anything.

Both come from ``instance/config.py`` or ``MEDIATION_ID_ENCRYPTION_KEYS`` /
``MEDIATION_ID_HASH_KEY``. In development each is generated once into
``instance/id_key`` and ``instance/id_hash_key``, but only while the database holds no
number encrypted or hashed with other keys (``mediation.keys`` decides at start-up, and
compares the keys with the check value stored in the database); with
``MEDIATION_ENV=production`` the app refuses to start without them. Lose the keys and
the numbers are gone: back them up apart from the database backups.

Numbers are stored and hashed in one form only, ``normalise_id`` (``parsing.id_number_typed``):
full-width digits folded to ASCII, spaces, hyphens and dashes dropped, upper case.

Migrations use ``cipher_for(current_app)``, the same lookup as the app.
"""
import hashlib
import hmac
import os
import re
import secrets
import time
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from .parsing import id_number_typed

ID_KEY_FILE = "id_key"
ID_HASH_KEY_FILE = "id_hash_key"
_EXTENSION = "mediation_id_cipher"


# Encrypted and hashed into the database's key check value (``mediation.keys``).
CHECK_LABEL = "mediation ID key check v1"


class IdKeyError(RuntimeError):
    """A key is missing, malformed, or does not open the stored data."""


class MissingKeyFile(IdKeyError):
    """A key file of the instance folder is absent (and was not to be made)."""

    def __init__(self, message: str, path: Path):
        super().__init__(message)
        self.path = path


def normalise_id(value: str | None) -> str:
    """The one form an ID number is stored and hashed in (``parsing.id_number_typed``):
    full-width digits folded to ASCII (３２０４ -> 3204), spaces, hyphens and dashes dropped
    (full-width ones too), upper case (a trailing x or ｘ is the check character X). Any
    other character stays as it is (² is not 2), so that the check refuses the number."""
    return id_number_typed(value)


class IdCipher:
    """Encrypts, decrypts and hashes identity numbers with the configured keys."""

    def __init__(self, encryption_keys: list[str], hash_key: str):
        if not encryption_keys:
            raise IdKeyError("no ID encryption key")
        try:
            self._fernet = MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in encryption_keys])
        except (ValueError, TypeError) as exc:
            raise IdKeyError(
                "ID_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64-encoded bytes; make one with "
                "python -c \"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())\")"
            ) from exc
        if len(hash_key or "") < 32:
            raise IdKeyError("ID_HASH_KEY must have at least 32 characters")
        self._hash_key = hash_key.encode()

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode() if value else ""

    def decrypt(self, token: str) -> str:
        if not token:
            return ""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise IdKeyError("an ID number cannot be decrypted with the configured ID_ENCRYPTION_KEYS "
                            "(wrong or missing key in instance/id_key?)") from None

    def rotate(self, token: str) -> str:
        """The token re-encrypted with the first key."""
        return self._fernet.rotate(token.encode()).decode() if token else ""

    def hash(self, value: str) -> str:
        """HMAC-SHA256 of the normalised number (hex); "" for no number."""
        value = normalise_id(value)
        if not value:
            return ""
        return hmac.new(self._hash_key, value.encode(), hashlib.sha256).hexdigest()

    def protect(self, value: str | None) -> tuple[str, str]:
        """(ciphertext, hash) to store for ``value`` (normalised first)."""
        value = normalise_id(value)
        return self.encrypt(value), self.hash(value)

    def opens(self, token: str) -> bool:
        """Whether one of the keys decrypts ``token`` (a check value or a stored number)."""
        try:
            self._fernet.decrypt(token.encode())
        except (InvalidToken, ValueError, TypeError):
            return False
        return True

    def check_token(self) -> str:
        """The check value of the encryption keys: ``CHECK_LABEL`` encrypted with the first key."""
        return self.encrypt(CHECK_LABEL)

    def opens_check(self, token: str) -> bool:
        try:
            return self._fernet.decrypt((token or "").encode()).decode() == CHECK_LABEL
        except (InvalidToken, ValueError, TypeError, UnicodeDecodeError):
            return False

    def hash_check(self) -> str:
        """The check value of the hash key: HMAC-SHA256 of ``CHECK_LABEL`` (hex)."""
        return hmac.new(self._hash_key, CHECK_LABEL.encode(), hashlib.sha256).hexdigest()


# Key files this process made (a restore may replace them: no data depends on them yet).
CREATED: set[Path] = set()


def read_or_create(path: Path, make) -> str:
    """The key in ``path``; created (0600, O_EXCL: several workers may start at once) when
    absent. Also used for the session key. "" when the file stays empty."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as fh:
            fh.write(make() + "\n")
        CREATED.add(path.resolve())
    for _ in range(50):  # the writer may not have finished its single write yet
        text = path.read_text().strip()
        if text:
            return text
        time.sleep(0.02)
    return ""


def _read_or_create(path: Path, make, create: bool) -> str:
    if not create and not path.exists():
        what = "ID_ENCRYPTION_KEYS" if path.name == ID_KEY_FILE else "ID_HASH_KEY"
        raise MissingKeyFile(f"{path} is missing (and {what} is not set): restore it from the backup; "
                             "a new key would not open the ID numbers already stored (see README, Keys)", path)
    key = read_or_create(path, make)
    if not key:
        raise IdKeyError(f"{path} is empty; restore it from the backup (deleting it loses every encrypted ID number)")
    return key


def key_files(app) -> dict[str, Path | None]:
    """Where each key comes from: its file in the instance folder, or None when the
    config sets it (``encryption``: ID_ENCRYPTION_KEYS, ``hash``: ID_HASH_KEY)."""
    instance = Path(app.instance_path)
    return {"encryption": None if app.config.get("ID_ENCRYPTION_KEYS") else instance / ID_KEY_FILE,
            "hash": None if app.config.get("ID_HASH_KEY") else instance / ID_HASH_KEY_FILE}


def split_keys(text: str) -> list[str]:
    return [k for k in re.split(r"[\s,]+", text or "") if k]


def _instance_keys_needed(app) -> Path:
    if app.config.get("ENV") == "production":
        raise IdKeyError(
            "MEDIATION_ENV=production needs ID_ENCRYPTION_KEYS and ID_HASH_KEY: set them in "
            "instance/config.py or as MEDIATION_ID_ENCRYPTION_KEYS and MEDIATION_ID_HASH_KEY "
            "(see README, Security and privacy)"
        )
    return Path(app.instance_path)


def encryption_keys(app, *, create: bool = False) -> list[str]:
    """ID_ENCRYPTION_KEYS, or the keys of ``instance/id_key`` (one a line, the first encrypts)."""
    enc = app.config.get("ID_ENCRYPTION_KEYS") or ""
    enc = split_keys(enc) if isinstance(enc, str) else list(enc)
    if not enc:
        path = _instance_keys_needed(app) / ID_KEY_FILE
        enc = split_keys(_read_or_create(path, lambda: Fernet.generate_key().decode(), create))
    return enc


def hash_key(app, *, create: bool = False) -> str:
    """ID_HASH_KEY, or the key in ``instance/id_hash_key``."""
    hkey = str(app.config.get("ID_HASH_KEY") or "")  # an all-digit key arrives from the environment as a number
    if not hkey:
        hkey = _read_or_create(_instance_keys_needed(app) / ID_HASH_KEY_FILE, lambda: secrets.token_hex(32), create)
    return hkey


def configured_keys(app, *, create: bool = False) -> tuple[list[str], str]:
    """(encryption keys, hash key) from the config; in development from ``instance/``.
    A missing key file is made only with ``create`` (``mediation.keys`` decides: only when
    the database holds nothing the keys would have to open); else ``MissingKeyFile``."""
    if not (app.config.get("ID_ENCRYPTION_KEYS") and app.config.get("ID_HASH_KEY")):
        _instance_keys_needed(app)  # production names both settings at once
    return encryption_keys(app, create=create), hash_key(app, create=create)


def write_key_file(path: Path, text: str) -> None:
    """Replace ``path`` by ``text`` at once (0600): a crash leaves the old file or the new one."""
    write_private(path, (text.strip() + "\n").encode())


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` at once, readable by the app's user alone (0600): written
    beside it, then renamed, so a crash or two writers at once leave one whole file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def init_app(app, *, create: bool = False) -> None:
    enc, hkey = configured_keys(app, create=create)
    app.extensions[_EXTENSION] = IdCipher(enc, hkey)


def install(app, cipher: IdCipher) -> None:
    """Make ``cipher`` the app's (``mediation.keys`` checked its keys against the database)."""
    app.extensions[_EXTENSION] = cipher


def reset(app) -> None:
    """Forget the app's cipher (the keys changed): the next use reads them again."""
    app.extensions.pop(_EXTENSION, None)


def cipher_for(app=None) -> IdCipher:
    """The app's cipher (built at start-up; built on demand for an app made otherwise)."""
    if app is None:
        from flask import current_app

        app = current_app._get_current_object()
    cipher = app.extensions.get(_EXTENSION)
    if cipher is None:
        init_app(app)
        cipher = app.extensions[_EXTENSION]
    return cipher


# --- the ORM side ---------------------------------------------------------------

from sqlalchemy import Text  # noqa: E402
from sqlalchemy.sql import operators  # noqa: E402
from sqlalchemy.types import TypeDecorator  # noqa: E402


class _HashedComparator(TypeDecorator.Comparator):
    """``Party.id_number == "3204…"`` (``!=``, ``.in_([...])``, ``.not_in([...])``) in a
    query compares the keyed hashes in the sibling column: ciphertexts never match
    (each encryption is salted) and the number itself never reaches SQL. Other
    operators are refused rather than silently wrong."""

    def operate(self, op, *other, **kwargs):
        hashed = self.expr.table.c[self.expr.type.hash_column]
        digest = cipher_for().hash
        if op in (operators.eq, operators.ne):
            return op(hashed, digest(other[0] or ""))
        if op is operators.in_op:
            return hashed.in_([digest(v or "") for v in other[0]])
        if op is operators.not_in_op:
            return hashed.not_in([digest(v or "") for v in other[0]])
        raise NotImplementedError("ID numbers are encrypted: queries may only use ==, !=, in_() and not_in()")

    def reverse_operate(self, op, other, **kwargs):
        return self.operate(op, other, **kwargs)


class EncryptedId(TypeDecorator):
    """Text encrypted with the app's ID cipher on the way in, decrypted on the way out.
    ``hash_column`` names the column holding the keyed hash (kept by the model)."""

    impl = Text
    cache_ok = True
    comparator_factory = _HashedComparator

    def __init__(self, hash_column: str):
        super().__init__()
        self.hash_column = hash_column

    def process_bind_param(self, value, dialect):
        return cipher_for().encrypt(value or "")

    def process_result_value(self, value, dialect):
        return cipher_for().decrypt(value or "")
