"""Property-based conformance of the whole API with schemathesis, in-process (WSGI).

Every operation of ``/openapi.json`` gets generated requests, as an admin (so the admin and
user endpoints run past authentication) in positive mode (valid per the schema) and negative
mode (invalid). Checks: no 5xx, status codes and content types documented, bodies conform to
their schemas, invalid data rejected. At least 1,000 requests in total. Operations that end the
test's own session (logout, password change, erasure) are covered in test_auth/test_security.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.service.conftest import login, make_admin, register

MIN_REQUESTS = 1000
EXAMPLES = {GenerationMode.POSITIVE: 50, GenerationMode.NEGATIVE: 20}
SKIP = {
    ("DELETE", "/api/v1/users/me"),
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/auth/password"),
}
POSITIVE_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_api_conforms_to_its_openapi_document(make_app: Any) -> None:
    app = make_app(rate_limits_enabled=False)
    client = app.test_client()
    register(client, "fuzz-admin@example.com")
    make_admin(app, "fuzz-admin@example.com")
    token = login(client, "fuzz-admin@example.com")["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    sent: dict[str, int] = {}
    statuses: dict[int, int] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    for operation in operations:
        if (operation.method.upper(), operation.path) in SKIP:
            continue
        inputs = len(operation.query) + len(operation.path_parameters) + len(operation.body)
        for mode, examples in EXAMPLES.items():
            if mode is GenerationMode.NEGATIVE and not inputs:
                continue  # nothing to make invalid
            _fuzz(operation, mode, examples, headers, sent, statuses)
    total = sum(sent.values())
    print(f"schemathesis: {total} requests over {len(sent)} operations; statuses {statuses}")
    assert total >= MIN_REQUESTS, sent
    assert not any(code >= 500 for code in statuses)
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200  # session intact


def _fuzz(
    operation: Any,
    mode: GenerationMode,
    examples: int,
    headers: dict[str, str],
    sent: dict[str, int],
    statuses: dict[int, int],
) -> None:
    checks = (
        [*POSITIVE_CHECKS, negative_data_rejection]
        if mode is GenerationMode.NEGATIVE
        else POSITIVE_CHECKS
    )

    @given(case=operation.as_strategy(generation_mode=mode, headers=headers))
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call()
        sent[operation.label] = sent.get(operation.label, 0) + 1
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        case.validate_response(response, checks=checks)

    try:
        run()
    except Unsatisfiable:
        if mode is not GenerationMode.NEGATIVE:
            raise
        # nothing in this operation can be made invalid (e.g. only a uuid path parameter,
        # whose format schemathesis does not negate)
