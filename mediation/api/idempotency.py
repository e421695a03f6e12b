"""``Idempotency-Key`` for the API's creating requests (a small store of its own; the pages'
one-time submission keys are a separate matter). A key is kept per token: the first request
with it creates, and its key row is written in the same transaction as what it created; its
response is added right after. The same key with the same request answers that response
again (nothing is created twice); with another request it is refused."""
from flask import g, has_request_context
from sqlalchemy import select

from ..extensions import db
from .models import ApiToken, IdempotencyKey

PENDING = "api_idempotency"  # flask.g: (key, request hash) of the request being handled
KEY_MAX = 200


def find(token: ApiToken, key: str) -> IdempotencyKey | None:
    return db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.token_id == token.id,
                                                          IdempotencyKey.key == key))


def begin(key: str, request_hash: str) -> None:
    g.setdefault(PENDING, (key, request_hash))


def pending_key() -> tuple[str, str] | None:
    return g.get(PENDING) if has_request_context() else None


def store(token: ApiToken, pending: tuple[str, str]) -> None:
    """The key row, in the transaction that creates (its response follows in ``finish``)."""
    key, request_hash = pending
    if find(token, key) is None:
        db.session.add(IdempotencyKey(token_id=token.id, key=key, request_hash=request_hash, status_code=0,
                                      response={}))


def finish(token: ApiToken, key: str, status: int, body, location: str) -> None:
    row = find(token, key)
    if row is not None and row.status_code == 0:
        row.status_code = status
        row.response = body if isinstance(body, dict) else {"body": body}
        row.location = (location or "")[:300]
        db.session.commit()
