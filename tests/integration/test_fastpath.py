"""The poll fast path (api/fastpath.py) answers exactly as the FastAPI route does: same status,
same body, same headers, for every outcome a poll can have."""

from __future__ import annotations

import json

import pytest
from docjobs.domain.jobs import Status
from docjobs.local.runtime import LambdaContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import make_principal
from tests.integration.test_chat_lifecycle import submit
from tests.integration.test_handlers import event, handlers  # noqa: F401 (a fixture)


@pytest.fixture
def api_module(handlers):  # noqa: F811 (the fixture imported above)
    import sys

    return sys.modules[handlers["ApiFunction"].__module__]


def both(module, ev):
    fast = module.handler(ev, LambdaContext("ApiFunction", 29))
    slow = module.mangum()(json.loads(json.dumps(ev)), LambdaContext("ApiFunction", 29))
    return fast, slow


def poll_event(job_id: str, key: str | None, **headers: str) -> dict:
    ev = event("api__get_job", job_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=job_id)
    ev["headers"] = {k: v for k, v in (ev.get("headers") or {}).items() if k.lower() != "authorization"}
    if key:
        ev["headers"]["Authorization"] = f"Bearer {key}"
    ev["headers"].update(headers)
    ev["multiValueHeaders"] = {k: [v] for k, v in ev["headers"].items()}
    return ev


def headers_of(response: dict) -> dict[str, str]:
    single = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    single.update({k.lower(): v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()})
    return single


def test_the_fast_path_answers_every_poll_outcome_as_the_route_does(api_module, container, worker, clock, monkeypatch):
    owner = make_principal(container, "org", "fast")
    stranger = make_principal(container, "org", "stranger")
    job = submit(container, owner)
    worker.drain()
    cases = {
        "ok": poll_event(job.job_id, owner.api_key, **{"X-Request-Id": "trace-1"}),
        "no key": poll_event(job.job_id, None),
        "bad key": poll_event(job.job_id, "sk_not_a_real_key_0000000000000"),
        "malformed header": {**poll_event(job.job_id, None), "headers": {"Authorization": "Basic abc"}},
        "someone else's job": poll_event(job.job_id, stranger.api_key),
        "unknown job": poll_event("job_" + "z" * 32, owner.api_key),
    }
    for name, ev in cases.items():
        fast, slow = both(api_module, ev)
        assert fast["statusCode"] == slow["statusCode"], name
        assert json.loads(fast["body"]) == json.loads(slow["body"]), name
        fast_headers, slow_headers = headers_of(fast), headers_of(slow)
        for header in ("content-type", "www-authenticate", "ratelimit-limit", "ratelimit-remaining", "retry-after"):
            assert (header in fast_headers) == (header in slow_headers), (name, header)
        assert fast_headers["x-request-id"] and (name != "ok" or fast_headers["x-request-id"] == "trace-1")
    assert json.loads(both(api_module, cases["ok"])[0]["body"])["status"] == "completed"
    # Expired: gone on both paths.
    clock.advance(2 * 3600)
    fast, slow = both(api_module, cases["ok"])
    assert fast["statusCode"] == slow["statusCode"] == 404 and json.loads(fast["body"]) == json.loads(slow["body"])


def test_the_fast_path_honours_the_rate_limit(api_module, container, monkeypatch):
    from dataclasses import replace

    from docjobs.domain.ratelimit import RateLimit

    owner = make_principal(container, "org", "limited", tier="tiny")
    monkeypatch.setattr(container, "settings", replace(container.settings, rate_limits={"tiny": RateLimit(2, 60)}))
    job = submit(container, owner)
    ev = poll_event(job.job_id, owner.api_key)
    statuses = [api_module.handler(ev, LambdaContext("ApiFunction", 29)) for _ in range(3)]
    assert [s["statusCode"] for s in statuses] == [200, 200, 429]
    limited = headers_of(statuses[-1])
    assert limited["retry-after"] and limited["ratelimit-remaining"] == "0"
    assert json.loads(statuses[-1]["body"])["error"]["code"] == "rate_limited"


def test_anything_but_a_plain_poll_goes_to_fastapi(api_module):
    from docjobs.api.fastpath import serve_poll

    assert serve_poll({"httpMethod": "GET", "path": "/v1/jobs/status"}, None) is None  # type: ignore[arg-type]
    assert serve_poll({"httpMethod": "POST", "path": "/v1/jobs/job_" + "a" * 32}, None) is None  # type: ignore[arg-type]
    assert serve_poll({"httpMethod": "GET", "path": "/v1/jobs/job_" + "a" * 32 + "/result"}, None) is None  # type: ignore[arg-type]
    assert serve_poll({"httpMethod": "GET", "path": "/v1/jobs/job_" + "a" * 32, "queryStringParameters": {"x": "1"}}, None) is None  # type: ignore[arg-type]


def test_an_unexpected_failure_is_the_same_json_500_on_both_paths(api_module, container, monkeypatch):
    from botocore.exceptions import ClientError

    owner = make_principal(container, "org", "broken")
    job = submit(container, owner)

    def unavailable(*args, **kwargs):
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "down"}}, "GetItem")

    monkeypatch.setattr(container.jobs, "get", unavailable)
    fast, slow = both(api_module, poll_event(job.job_id, owner.api_key))
    assert fast["statusCode"] == slow["statusCode"] == 500
    assert json.loads(fast["body"]) == json.loads(slow["body"]) and "Traceback" not in fast["body"]


_JSON = st.recursive(st.none() | st.booleans() | st.integers(-10**9, 10**9) | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                     max_leaves=8)  # fmt: skip
_CHANGE = st.fixed_dictionaries({k: st.text(max_size=10) for k in ("change_id", "operation", "chunk_id", "old_html", "new_html", "ai_explanation")},
                                optional={"extra": _JSON})  # fmt: skip
_EXTRAS = st.dictionaries(st.sampled_from(["note", "score", "pages", "x"]), _JSON, max_size=2)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    status=st.sampled_from(list(Status)),
    result=st.none() | st.fixed_dictionaries({}, optional={
        "response": st.text(max_size=30), "session_id": st.text(max_size=8), "attachment_id": st.text(max_size=8),
        "result_key": st.text(max_size=8),
        "usage": st.fixed_dictionaries({"monthly_used": st.integers(0, 99), "monthly_limit": st.none() | st.integers(0, 99),
                                        "monthly_remaining": st.none() | st.integers(0, 99), "was_billable": st.booleans(),
                                        "subscription_tier": st.sampled_from(["free", "pro"])}, optional={"dropped": _JSON}),
        "document_changes": st.fixed_dictionaries({}, optional={
            "updated_html": st.text(max_size=20), "version_id": st.text(max_size=8), "requires_approval": st.booleans(),
            "pending_changes": st.lists(_CHANGE, max_size=2), "changes": st.lists(st.dictionaries(st.text(max_size=5), _JSON, max_size=2), max_size=2),
            "kept": _JSON}),
    }).flatmap(lambda r: _EXTRAS.map(lambda extras: {**extras, **r}) if r is not None else st.none()),
    metadata=st.fixed_dictionaries({}, optional={
        "filename": st.text(max_size=10), "file_size": st.integers(0, 10**6), "message": st.text(max_size=20),
        "document_html_provided": st.booleans(), "pending_changes": st.lists(_CHANGE, max_size=2),
        "intermediate_responses": st.lists(st.dictionaries(st.text(max_size=5), _JSON, max_size=2), max_size=2),
    }).flatmap(lambda m: _EXTRAS.map(lambda extras: {**extras, **m})),
    result_url=st.none() | st.just("https://example.com/r"),
    tags=st.lists(st.text(max_size=6), max_size=3),
    batch=st.none() | st.builds(lambda t, s: {"total": t + s, "succeeded": s, "failed": 0, "cancelled": 0, "pending": t},
                                st.integers(0, 5), st.integers(0, 5)),
)  # fmt: skip
def test_the_fast_paths_json_is_the_job_views_own(container, status, result, metadata, result_url, tags, batch):
    """The fast path writes a job's JSON without pydantic (api/views.py: job_view_json); for any
    job it must be, key for key and in the same order, what the JobView model gives."""
    from dataclasses import replace

    from docjobs.api.views import job_view, job_view_json

    principal = make_principal(container, "org", "shapes")
    job = replace(submit(container, principal), status=status, result=result, metadata=metadata, tags=tags, batch=batch)
    ours, theirs = json.loads(job_view_json(job, result_url)), json.loads(job_view(job, result_url).model_dump_json())
    assert json.dumps(ours) == json.dumps(theirs)  # equal, and in the same order
