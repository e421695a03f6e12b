"""schemathesis against the live OpenAPI document (issue 15.7), on SQLite and PostgreSQL: requests
made from the document's schemas, valid and not, with the token of a town coordinator and a world
with a case in mediation. Never a server error; every response fits the schema the document gives
for it (status, content type and body). A few examples per operation keep it near a minute a
database."""
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from mediation.api import tokens
from mediation.extensions import db

from .conftest import make_app
from .factories import advance, make_agreement, make_case, user, write_entry

EXAMPLES = 6


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fuzzed_app(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('schemathesis') / 'api.sqlite'}"
    else:
        url = request.getfixturevalue("pg_url")
    app = make_app(url, UPLOAD_FOLDER=str(tmp_path_factory.mktemp("uploads")))
    with app.app_context():
        if request.param != "sqlite":
            db.drop_all()
        db.create_all()
        from mediation.demo import load_demo

        load_demo()
        db.session.commit()
        case = advance(make_case(), "accept", "assign", "start")
        write_entry(case)
        make_agreement(case)
        _t, secret = tokens.create_token(user("coord-320413109"), "schemathesis")
        db.session.commit()
        app.config["SCHEMATHESIS_TOKEN"] = secret
    yield app
    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name != "sqlite":
            db.drop_all()
        db.engine.dispose()


def test_no_server_error_and_responses_fit_the_document(fuzzed_app):
    """Each operation, with valid and with invalid data (schemathesis' strategies, driven by
    hypothesis here: its pytest plugin does not run under this pytest)."""
    api_schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzzed_app)
    headers = {"Authorization": f"Bearer {fuzzed_app.config['SCHEMATHESIS_TOKEN']}"}
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    failures, operations = [], 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck), phases=[Phase.generate])
            def run(case):
                case.call_and_validate(headers=headers, checks=checks)

            try:
                run()
            except Exception as exc:  # noqa: BLE001  (collect every operation's failure, then report)
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert operations >= 30
    assert not failures, "\n\n".join(failures)
