"""Shared by the fixtures: the demo password and the CI rule for skips."""
import os

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"
DEMO_PASSWORD = "jintan-demo"


def skip_or_fail(reason: str):
    """Skip on a laptop without the service; under CI=true a skip is a failure."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this test must run)", pytrace=False)
    pytest.skip(reason)


def count_queries(action) -> int:
    """How many SQL statements ``action()`` sends to the app's database."""
    from sqlalchemy import event

    from mediation.extensions import db

    seen = []

    def listener(*args):
        seen.append(args[2])

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(seen)


def assert_ok(response) -> None:
    assert response.status_code == 200, response.status_code
