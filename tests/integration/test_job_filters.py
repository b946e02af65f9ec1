"""GET /v1/jobs filters over several hundred jobs: status (any API's words), type, time range,
tags, offset and cursor; and what a page reads."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from docjobs.domain.jobs import Job, JobType, Status, new_job_id

from tests.conftest import START, bearer, make_principal

STATUSES = [Status.COMPLETED, Status.FAILED, Status.PENDING, Status.IN_PROGRESS, Status.CANCELLED, Status.AWAITING_APPROVAL]


@pytest.fixture
def many_jobs(container, principal, clock):
    """300 jobs, one a minute, cycling through statuses and types, two tag sets."""
    from docjobs.domain import clock as clocks

    jobs = []
    for i in range(300):
        clock.t = START + i * 60
        at = clocks.iso(clock.t)
        job = Job(job_id=new_job_id(), job_type=[JobType.CHAT, "parse", "extract"][i % 3], owner=principal.owner,
                  status=Status.PENDING, created_at=at, updated_at=at, tags=["even"] if i % 2 == 0 else ["odd", "x"])  # fmt: skip
        container.jobs.create(job)
        target = STATUSES[i % len(STATUSES)]
        if target is not Status.PENDING:
            if target is not Status.CANCELLED:
                job = container.jobs.transition(job, Status.IN_PROGRESS, sources={Status.PENDING}, now=clock.t)
            if target is not Status.IN_PROGRESS:
                job = container.jobs.transition(job, target, sources={job.status}, now=clock.t)
        jobs.append(job)
    clock.t = START + 300 * 60
    other = make_principal(container, "org", "globex")
    container.jobs.create(Job(new_job_id(), "chat", other.owner, Status.PENDING, jobs[0].created_at, jobs[0].created_at))
    return jobs


def page_through(api, principal, **params):
    seen, cursor = [], None
    while True:
        response = api.get("/v1/jobs", params={**params, **({"cursor": cursor} if cursor else {})}, headers=bearer(principal))
        assert response.status_code == 200, response.text
        body = response.json()
        seen += body["jobs"]
        cursor = body["next_cursor"]
        if not cursor:
            return seen


def ids(jobs):
    return [j["job_id"] if isinstance(j, dict) else j.job_id for j in jobs]


def test_without_filters_every_job_newest_first(api, principal, many_jobs):
    assert ids(page_through(api, principal, limit=37)) == ids(reversed(many_jobs))


STATUS_CASES = [
    ("failed", {Status.FAILED}),
    ("COMPLETED", {Status.COMPLETED}),
    ("succeeded", {Status.COMPLETED}),
    ("processing,queued", {Status.IN_PROGRESS, Status.AWAITING_APPROVAL, Status.PENDING}),
    ("Cancelled,awaiting_approval", {Status.CANCELLED, Status.AWAITING_APPROVAL}),
]


def test_status_filters_in_any_apis_words(api, principal, many_jobs):
    for words, statuses in STATUS_CASES:  # one test: building 300 jobs is the slow part
        expected = [j for j in reversed(many_jobs) if j.status in statuses]
        assert ids(page_through(api, principal, status=words, limit=9)) == ids(expected), words


def test_type_time_range_and_tags(api, principal, many_jobs):
    after = datetime.fromtimestamp(START + 100 * 60, UTC).isoformat().replace("+00:00", "Z")
    before = datetime.fromtimestamp(START + 200 * 60, UTC).isoformat()
    expected = [j for j in reversed(many_jobs[101:200]) if j.job_type == "parse" and "odd" in j.tags]
    got = page_through(api, principal, operation="parse", created_after=after, created_before=before, tags="odd,x", limit=5)
    assert ids(got) == ids(expected) and expected
    both = page_through(api, principal, job_type="parse,extract", status="failed", limit=4)
    assert ids(both) == ids([j for j in reversed(many_jobs) if j.job_type in ("parse", "extract") and j.status is Status.FAILED])


def test_offset_as_the_seed_has_it(api, principal, many_jobs):
    newest = ids(reversed(many_jobs))
    page = api.get("/v1/jobs", params={"limit": 10, "offset": 25}, headers=bearer(principal)).json()
    assert ids(page["jobs"]) == newest[25:35]
    filtered = [j for j in reversed(many_jobs) if j.status is Status.FAILED]
    page = api.get("/v1/jobs", params={"limit": 5, "offset": 7, "status": "failed"}, headers=bearer(principal)).json()
    assert ids(page["jobs"]) == ids(filtered[7:12])
    assert api.get("/v1/jobs", params={"offset": 10_001}, headers=bearer(principal)).status_code == 422


def test_a_status_change_moves_the_job_between_status_listings(api, principal, many_jobs, container):
    job = next(j for j in many_jobs if j.status is Status.PENDING)
    container.jobs.transition(job, Status.CANCELLED, sources={Status.PENDING}, now=container.now())
    assert job.job_id not in ids(page_through(api, principal, status="pending", limit=100))
    assert job.job_id in ids(page_through(api, principal, status="cancelled", limit=100))


def test_a_page_reads_only_its_partitions_and_range(api, principal, many_jobs, container):
    client = container.jobs.client
    original, queries = client._make_api_call, []

    def counting(operation, params):
        if operation == "Query":
            queries.append((params["IndexName"], params["Limit"]))
        return original(operation, params)

    client._make_api_call = counting
    try:
        api.get("/v1/jobs", params={"status": "failed,cancelled", "limit": 10}, headers=bearer(principal))
    finally:
        client._make_api_call = original
    assert queries == [("ByOwnerStatus", 10), ("ByOwnerStatus", 10)]  # one bounded query per status


def test_bad_filters_are_422(api, principal):
    for params in ({"status": "bogus"}, {"created_after": "yesterday"}, {"limit": 101}, {"offset": -1}, {"cursor": "!!"}):
        response = api.get("/v1/jobs", params=params, headers=bearer(principal))
        assert response.status_code == 422, params
    first = api.get("/v1/jobs", params={"limit": 1}, headers=bearer(principal)).json()
    if first["next_cursor"]:  # a cursor only fits the listing it came from
        assert api.get("/v1/jobs", params={"cursor": first["next_cursor"], "status": "failed"}, headers=bearer(principal)).status_code == 422
