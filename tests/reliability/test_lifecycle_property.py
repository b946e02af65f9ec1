"""A property-based (Hypothesis stateful) test of the job lifecycle against the real store on the
emulator: random interleavings of submit, deliver (and redeliver), cancel, approve, fail and the
clock moving past retention. The model says what each action may do; the store must agree every
time: an action the model forbids is refused and changes nothing, and no read serves an expired job."""

from __future__ import annotations

from dataclasses import dataclass

from docjobs.domain.errors import JobConflictError, JobNotFoundError
from docjobs.domain.jobs import HOUR, Status
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, precondition, rule

from tests.integration.test_chat_lifecycle import submit

ACTIVE = {Status.PENDING, Status.IN_PROGRESS}


@dataclass
class Expected:
    status: Status
    approval: bool
    expires_at: float | None = None


def lifecycle_machine(container, principal, clock):
    from docjobs.services.chat import approve_changes
    from docjobs.services.jobs import cancel_job, fail_job, get_owned_job
    from docjobs.services.worker import run_job

    class Lifecycle(RuleBasedStateMachine):
        jobs = Bundle("jobs")

        @initialize()
        def fresh(self):
            self.model: dict[str, Expected] = {}
            self.refused = 0

        def expired(self, job_id: str) -> bool:
            at = self.model[job_id].expires_at
            return at is not None and at <= clock()

        def finish(self, job_id: str, status: Status) -> None:
            self.model[job_id].status = status
            if status not in ACTIVE:
                self.model[job_id].expires_at = int(clock()) + HOUR

        @precondition(lambda self: len(self.model) < 4)  # few jobs, many actions on each
        @rule(target=jobs, approval=st.booleans())
        def submit_job(self, approval):
            job = submit(container, principal, session_id=f"s{len(self.model)}", require_approval=approval)
            self.model[job.job_id] = Expected(Status.PENDING, approval)
            return job.job_id

        @rule(job_id=jobs)
        def deliver(self, job_id):
            """A work message arrives (first delivery or a redelivery)."""
            before = self.model[job_id]
            run_job(container, job_id)
            if before.status in ACTIVE and not self.expired(job_id):
                self.finish(job_id, Status.AWAITING_APPROVAL if before.approval else Status.COMPLETED)

        @rule(job_id=jobs)
        def cancel(self, job_id):
            allowed = self.model[job_id].status in ACTIVE and not self.expired(job_id)
            try:
                cancel_job(container, principal, job_id)
            except (JobConflictError, JobNotFoundError):
                assert not allowed, f"cancel of a {self.model[job_id].status} job refused"
                self.refused += 1
                return
            assert allowed, f"cancel of a {self.model[job_id].status} job accepted"
            self.finish(job_id, Status.CANCELLED)

        @rule(job_id=jobs)
        def approve(self, job_id):
            allowed = self.model[job_id].status is Status.AWAITING_APPROVAL and not self.expired(job_id)
            try:
                job = get_owned_job(container, principal, job_id)
                approve_changes(container, principal, job_id, [c["change_id"] for c in job.metadata.get("pending_changes", [])])
            except (JobConflictError, JobNotFoundError):
                assert not allowed, "approval of a job awaiting approval refused"
                self.refused += 1
                return
            assert allowed, f"approval of a {self.model[job_id].status} job accepted"
            self.finish(job_id, Status.COMPLETED)

        @rule(job_id=jobs)
        def fail(self, job_id):
            job = container.jobs.get(job_id, consistent=True)
            allowed = self.model[job_id].status in ACTIVE and not self.expired(job_id)
            failed = fail_job(container, job, "injected failure")
            assert (failed is not None) == allowed, f"fail of a {self.model[job_id].status} job: {failed}"
            if allowed:
                self.finish(job_id, Status.FAILED)
            else:
                self.refused += 1

        @rule(seconds=st.sampled_from([60, 1800, 2 * HOUR]))
        def time_passes(self, seconds):
            clock.advance(seconds + 0.5)

        @invariant()
        def the_store_agrees_with_the_model(self):
            for job_id, expected in getattr(self, "model", {}).items():
                if self.expired(job_id):
                    try:
                        get_owned_job(container, principal, job_id)
                    except JobNotFoundError:
                        continue
                    raise AssertionError(f"expired job {job_id} was served")
                assert get_owned_job(container, principal, job_id).status is expected.status

    return Lifecycle


def test_no_illegal_transition_is_ever_accepted(container, principal, clock, stack):
    machine = lifecycle_machine(container, principal, clock)
    machine.TestCase.settings = settings(max_examples=30, stateful_step_count=30, deadline=None, database=None,
                                         suppress_health_check=list(HealthCheck))  # fmt: skip
    runs = []
    original_teardown = machine.teardown

    def teardown(self):
        runs.append((len(self.model), self.refused))
        original_teardown(self)

    machine.teardown = teardown
    machine.TestCase().runTest()
    print(f"\nlifecycle property: {len(runs)} random runs, {sum(j for j, _ in runs)} jobs, "
          f"{sum(r for _, r in runs)} forbidden actions refused, 0 illegal transitions accepted")  # fmt: skip


def test_every_action_from_every_status_does_exactly_what_the_lifecycle_allows(container, principal, clock, stack):
    """The deterministic complement: each reachable status (expired included) against each action."""
    from docjobs.services.chat import approve_changes
    from docjobs.services.jobs import cancel_job, fail_job, get_owned_job
    from docjobs.services.worker import run_job

    def reach(status: str) -> str:
        job = submit(container, principal, session_id=f"table-{status}-{clock()}", require_approval=status == "awaiting_approval")
        if status == "in_progress":
            container.jobs.transition(job, Status.IN_PROGRESS, sources={Status.PENDING}, now=clock())
        elif status in ("completed", "awaiting_approval", "expired"):
            run_job(container, job.job_id)
        elif status in ("failed", "cancelled"):
            (fail_job(container, job, "x") if status == "failed" else cancel_job(container, principal, job.job_id))
        if status == "expired":
            clock.advance(HOUR + 1)
        return job.job_id

    def approve(job_id):
        job = container.jobs.get(job_id, consistent=True)
        approve_changes(container, principal, job_id, [c["change_id"] for c in job.metadata.get("pending_changes", [])])

    actions = {"cancel": lambda j: cancel_job(container, principal, j), "approve": approve,
               "fail": lambda j: fail_job(container, container.jobs.get(j, consistent=True), "x") or (_ for _ in ()).throw(JobConflictError("refused"))}  # fmt: skip
    allowed = {("pending", "cancel"), ("in_progress", "cancel"), ("awaiting_approval", "approve"), ("pending", "fail"),
               ("in_progress", "fail")}  # fmt: skip
    outcomes = {}
    for status in ("pending", "in_progress", "awaiting_approval", "completed", "failed", "cancelled", "expired"):
        for name, act in actions.items():
            job_id = reach(status)
            before = container.jobs.get(job_id, consistent=True)
            try:
                act(job_id)
                outcomes[status, name] = True
            except (JobConflictError, JobNotFoundError):
                outcomes[status, name] = False
                after = container.jobs.get(job_id, consistent=True)
                assert (after.status, after.event_seq) == (before.status, before.event_seq), "a refused action changed the job"
            if status == "expired":
                try:
                    get_owned_job(container, principal, job_id)
                    raise AssertionError("an expired job was served")
                except JobNotFoundError:
                    pass
    assert {k for k, ok in outcomes.items() if ok} == allowed
