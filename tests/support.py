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
