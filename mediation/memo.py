"""Reads that one request makes several times, made once (the case page asks for the same
transfers, entries or screenings from several features): ``per_request(key, load)``.

Forgotten after every flush, commit, rollback and bulk write, so that a request never reads
back, as it was, what it has just changed. Outside a request nothing is kept.

``per_worker(key, load, seconds)`` keeps a slow-changing fact across requests, in this
worker's app, for a while (the search's "is this query common?")."""
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app, g, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session

T = TypeVar("T")


def per_request(key: Hashable, load: Callable[[], T]) -> T:
    if not has_request_context():
        return load()
    store = g.setdefault("memo_per_request", {})
    if key not in store:
        store[key] = load()
    return store[key]


def prime(key: Hashable, value) -> None:
    """Keep ``value`` under ``key`` for this request, as if ``per_request`` had loaded it
    (a page that fetches several features' rows together hands them on)."""
    if has_request_context():
        g.setdefault("memo_per_request", {})[key] = value


def forget(*_args) -> None:
    if has_request_context():
        g.pop("memo_per_request", None)


for _name in ("after_flush", "after_commit", "after_soft_rollback"):
    event.listen(Session, _name, forget)


@event.listens_for(Session, "do_orm_execute")
def _bulk_write(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        forget()


PER_WORKER, PER_WORKER_SIZE = "mediation.memo.per_worker", 1000
_PER_WORKER_LOCK = threading.Lock()


def per_worker(key: Hashable, load: Callable[[], T], seconds: float) -> T:
    """``load()``, kept by this worker's app for ``seconds`` under ``key``; past
    PER_WORKER_SIZE keys the least recently asked go first."""
    store = current_app.extensions.setdefault(PER_WORKER, OrderedDict())
    now = time.monotonic()
    if (known := store.get(key)) is not None and known[0] > now:
        with _PER_WORKER_LOCK:
            if key in store:
                store.move_to_end(key)
        return known[1]
    value = load()
    with _PER_WORKER_LOCK:  # threaded workers share the store
        store[key] = (now + seconds, value)
        store.move_to_end(key)
        while len(store) > PER_WORKER_SIZE:
            store.popitem(last=False)
    return value
