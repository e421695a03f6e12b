"""The audit log: an append-only, hash-chained record of who did what.

Every feature calls one function::

    from mediation import audit
    audit.record("reveal", target=party, details={"reason": reason})

The event is chained and written when the session commits, in the same
transaction as what it records: a rolled-back action leaves no event, and a
committed one always has its event. ``flask --app mediation audit verify`` checks
the chain; station administrators read the log at ``/audit/``.
"""
from .services import ACTIONS, record, verify  # noqa: F401
