"""Encryption of identity numbers at rest, and the keyed hash used to match them.

Two keys, both outside the database:

* ``ID_ENCRYPTION_KEYS``: one or more Fernet keys (AES-128-CBC with HMAC-SHA256,
  from the ``cryptography`` package), separated by commas or white space. The
  first encrypts; every key decrypts, so a key can be rotated (put the new key
  first, run ``flask --app mediation keys reencrypt-ids``, then drop the old one).
* ``ID_HASH_KEY``: the HMAC-SHA256 key of the matching hash (``Party.id_hash``),
  which lets the same person be found in other cases without decrypting anything.

Both come from ``instance/config.py`` or ``MEDIATION_ID_ENCRYPTION_KEYS`` /
``MEDIATION_ID_HASH_KEY``. In development each is generated once into
``instance/id_key`` and ``instance/id_hash_key``; with ``MEDIATION_ENV=production``
the app refuses to start without them. Lose the keys and the numbers are gone:
back them up apart from the database backups.

Migrations use ``cipher_for(current_app)``, the same lookup as the app.
"""
import hashlib
import hmac
import os
import re
import secrets
import time
import unicodedata
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

ID_KEY_FILE = "id_key"
ID_HASH_KEY_FILE = "id_hash_key"
_EXTENSION = "mediation_id_cipher"


class IdKeyError(RuntimeError):
    """A key is missing, malformed, or does not open the stored data."""


def normalise_id(value: str | None) -> str:
    """The one form an ID number is stored and hashed in: full-width digits and letters
    folded to ASCII (NFKC: ３２０４ -> 3204), white space dropped (full-width spaces too),
    upper case (a trailing x is the check character X)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value or "")).upper()


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
    for _ in range(50):  # the writer may not have finished its single write yet
        text = path.read_text().strip()
        if text:
            return text
        time.sleep(0.02)
    return ""


def _read_or_create(path: Path, make) -> str:
    key = read_or_create(path, make)
    if not key:
        raise IdKeyError(f"{path} is empty; restore it from the backup (deleting it loses every encrypted ID number)")
    return key


def configured_keys(app) -> tuple[list[str], str]:
    """(encryption keys, hash key) from the config; in development from ``instance/`` (made once)."""
    enc = app.config.get("ID_ENCRYPTION_KEYS") or ""
    hkey = str(app.config.get("ID_HASH_KEY") or "")  # an all-digit key arrives from the environment as a number
    if isinstance(enc, str):
        enc = [k for k in re.split(r"[\s,]+", enc) if k]
    enc = list(enc)
    if not enc or not hkey:
        instance = Path(app.instance_path)
        if app.config.get("ENV") == "production":
            raise IdKeyError(
                "MEDIATION_ENV=production needs ID_ENCRYPTION_KEYS and ID_HASH_KEY: set them in "
                "instance/config.py or as MEDIATION_ID_ENCRYPTION_KEYS and MEDIATION_ID_HASH_KEY "
                "(see README, Security and privacy)"
            )
        if not enc:
            enc = [k for k in re.split(r"[\s,]+", _read_or_create(
                instance / ID_KEY_FILE, lambda: Fernet.generate_key().decode())) if k]
        if not hkey:
            hkey = _read_or_create(instance / ID_HASH_KEY_FILE, lambda: secrets.token_hex(32))
    return enc, hkey


def init_app(app) -> None:
    enc, hkey = configured_keys(app)
    app.extensions[_EXTENSION] = IdCipher(enc, hkey)


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
