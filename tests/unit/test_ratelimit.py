"""The rolling window of one key's requests."""

from __future__ import annotations

from docjobs.domain.ratelimit import RateLimit, SlidingWindowLog

FREE = RateLimit(200, 10)


def test_a_burst_up_to_the_limit_passes_and_the_next_request_is_refused():
    log = SlidingWindowLog()
    decisions = [log.decide(100.0, FREE) for _ in range(200)]
    assert all(d.allowed for d in decisions)
    assert [d.remaining for d in decisions[:3]] == [199, 198, 197] and decisions[-1].remaining == 0
    refused = log.decide(100.5, FREE)
    assert not refused.allowed and refused.remaining == 0
    assert refused.headers()["Retry-After"] == "10" and refused.headers()["RateLimit-Limit"] == "200"
    assert "Retry-After" not in decisions[0].headers()


def test_the_window_rolls_rather_than_resetting_all_at_once():
    log = SlidingWindowLog()
    for i in range(100):
        assert log.decide(100.0, FREE).allowed
    for i in range(100):
        assert log.decide(105.0, FREE).allowed
    assert not log.decide(109.9, FREE).allowed
    # At 110 the first hundred leave the window: a hundred more, and no more than that.
    assert sum(log.decide(110.0, FREE).allowed for _ in range(150)) == 100
    assert log.decide(110.0, FREE).reset_seconds == 5


def test_refused_requests_do_not_count_so_the_key_recovers_when_the_window_passes():
    log = SlidingWindowLog()
    for _ in range(200):
        log.decide(0.0, FREE)
    assert not any(log.decide(t / 100, FREE).allowed for t in range(999))  # hammering for 10 s
    assert sum(log.decide(10.0, FREE).allowed for _ in range(250)) == 200


def test_requests_made_elsewhere_count_against_the_same_limit():
    log = SlidingWindowLog()
    assert sum(log.decide(0.0, FREE, others=150).allowed for _ in range(100)) == 50
    refused = log.decide(0.0, FREE, others=200)
    assert not refused.allowed
    fresh = SlidingWindowLog().decide(0.0, FREE, others=200)
    assert not fresh.allowed and fresh.headers()["Retry-After"] == "10"  # only others: wait the window
