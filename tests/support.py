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


def cache_url_builders() -> None:
    """Each test builds a new app, and werkzeug compiles two URL-builder functions (Python
    source, ``compile()``) for each of its ~370 rules: 0.2 s per app. The functions depend
    only on the rule's text and parts (the rule itself is passed in when they run), so in
    the tests the compiled ones are kept and shared by equal rules of later apps."""
    from werkzeug.routing.rules import Rule

    if getattr(Rule, "_tests_cached_builder", False):
        return
    compile_builder = Rule._compile_builder
    cache: dict = {}

    def cached(self, append_unknown: bool = True):
        defaults = self.defaults or {}
        if any(dynamic and data in defaults for dynamic, data in self._trace):
            return compile_builder(self, append_unknown)  # a default folded in by its converter
        key = (self.rule, append_unknown, tuple(self._trace), tuple(map(str, defaults)))
        func = cache.get(key)
        if func is None:
            func = cache[key] = compile_builder(self, append_unknown)
        return func

    Rule._compile_builder = cached
    Rule._tests_cached_builder = True


def share_template_bytecode() -> None:
    """Each test's new app has a new Jinja environment, which would parse and compile every
    template it renders again (about 20 ms each). In the tests all environments share one
    in-memory bytecode cache: a template's compiled code is kept by its name and the checksum
    of its source (Jinja checks both), and every app is built by ``create_app`` with the same
    Jinja options, so the code is the same."""
    from flask import Flask
    from jinja2 import BytecodeCache

    if getattr(Flask, "_tests_shared_bytecode", False):
        return

    class MemoryBytecodeCache(BytecodeCache):
        def __init__(self):
            self.store: dict[str, bytes] = {}

        def load_bytecode(self, bucket) -> None:
            data = self.store.get(bucket.key)
            if data is not None:
                bucket.bytecode_from_string(data)

        def dump_bytecode(self, bucket) -> None:
            self.store[bucket.key] = bucket.bytecode_to_string()

    shared = MemoryBytecodeCache()
    create = Flask.create_jinja_environment

    def create_jinja_environment(self):
        env = create(self)
        env.bytecode_cache = shared
        return env

    Flask.create_jinja_environment = create_jinja_environment
    Flask._tests_shared_bytecode = True
