"""schemathesis against /openapi.json: generated requests to every operation, with a valid key,
never get a 5xx, and every response matches the schema the API publishes for it. (Driven through
Hypothesis directly: schemathesis' pytest plugin does not run under pytest 9.)"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import make_principal

EXAMPLES = 6  # per operation
# Schema-level checks. (positive_data_acceptance is left out: a schema cannot say that a new chat
# session needs its document_html, and such a request gets a clear 422 by design.)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_no_operation_fails_and_every_response_matches_its_schema(container):
    from docjobs.api import deps
    from docjobs.api.app import create_app
    from docjobs.services.auth import key_resolver

    key_resolver._cache.clear()
    app = create_app()
    app.dependency_overrides[deps.container] = lambda: container
    caller = make_principal(container, "org", "schema", tier="enterprise")
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures, calls, statuses = [], 0, {}
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
        def exercise(case):
            nonlocal calls
            # Generated credentials would only ever be refused: the caller's real ones replace them.
            for name in [k for k in case.headers or {} if k.lower() in ("authorization", "x-api-key", "x-selected-account-id")]:
                case.headers.pop(name)
            headers = {"Authorization": f"Bearer {caller.api_key}"}
            response = case.call(headers=headers)
            calls += 1
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as error:  # noqa: BLE001 (a FailureGroup names each failed check)
                failures.append((operation.label, response.status_code, str(error)[:400]))

        exercise()
    print(f"\nschemathesis: {len(operations)} operations, {calls} generated requests, statuses {dict(sorted(statuses.items()))}, "
          f"{len(failures)} failures")  # fmt: skip
    assert failures == [], failures[:5]


def test_hostile_input_gets_a_clear_4xx_never_a_5xx(api, container):
    """Huge bodies, deep JSON, odd unicode, markup in documents, expression-like filters."""
    caller = make_principal(container, "org", "hostile", tier="enterprise")
    headers = {"Authorization": f"Bearer {caller.api_key}", "Content-Type": "application/json"}
    deep = "[" * 100_000 + "]" * 100_000
    requests = {
        "huge body": api.post("/v1/chat/async", headers=headers, content=b'{"message": "' + b"a" * (7 * 1024 * 1024) + b'"}'),
        "deep json": api.post("/v1/chat/async", headers=headers, content=f'{{"message": {deep}}}'.encode()),
        "not json": api.post("/v1/chat/async", headers=headers, content=b"\x00\xff{not json"),
        "json array": api.post("/v1/chat/async", headers=headers, content=b"[1, 2, 3]"),
        "odd unicode": api.post("/v1/chat/async", headers=headers, json={"message": "\u202e\ufeff\U0001f4a9 \ud7ff", "session_id": "s\u0000x"}),
        "lone surrogate": api.post("/v1/chat/async", headers=headers, content=b'{"message": "\\ud800", "document_html": "<p>x</p>"}'),
        "script in document": api.post("/v1/chat/async", headers=headers, json={"message": "summarize the document",
                                       "document_html": "<script>alert(1)</script><img src=x onerror=alert(2)><p>Text.</p>"}),  # fmt: skip
        "sql-like filter": api.get("/v1/jobs?status=pending') OR ('1'='1", headers=headers),
        "template filter": api.get("/v1/jobs?status={{7*7}}&job_type=${jndi:ldap://x}", headers=headers),
        "proto filter": api.get("/v1/jobs?status=__proto__&limit=-1", headers=headers),
        "huge limit": api.get("/v1/jobs?limit=99999999999999999999", headers=headers),
        "bad cursor": api.get("/v1/jobs?cursor=%00%ff' OR 1=1", headers=headers),
        "path traversal": api.get("/v1/projects/..%2f..%2fetc/jobs", headers=headers),
        "long project": api.get("/v1/projects/" + "p" * 5000 + "/jobs", headers=headers),
    }
    codes = {name: r.status_code for name, r in requests.items()}
    print(f"\nhostile input: {codes}")
    assert all(code < 500 for code in codes.values()), codes
    for name, r in requests.items():
        if r.status_code >= 400:
            assert r.json()["error"]["code"] and r.json()["error"]["message"], name
    assert codes["huge body"] == 413 and codes["not json"] == 400 and codes["json array"] == 400
    assert codes["script in document"] == 202  # markup is a document's content: accepted, never executed
