"""The token bucket never lets more than `rate` requests through in any one-second window,
the first second included (it used to start full: 110 % of the rate)."""

from __future__ import annotations

import bisect

import pytest

from sender.channels.base import TokenBucket


def simulate(bucket: TokenBucket, clock: list[float], count: int) -> list[float]:
    """Times at which `count` back-to-back requests are let through (a fake clock that
    jumps by each wait instead of sleeping)."""
    times = []
    while len(times) < count:
        wait = bucket._take(clock[0])
        if wait <= 0:
            times.append(clock[0])
        else:
            clock[0] += wait
    return times


def most_in_one_second(times: list[float]) -> int:
    return max(bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times))


@pytest.mark.parametrize("rate", [80.0, 10.0, 500.0, 1.5])
def test_no_one_second_window_exceeds_the_rate(rate: float):
    clock = [1000.0]
    bucket = TokenBucket(rate, clock=lambda: clock[0])
    times = simulate(bucket, clock, int(rate * 5) + 3)
    assert most_in_one_second(times) <= max(1, int(rate))
    # and the rate is still reached over time (the window costs at most 2 %; a fractional
    # rate above 1 can only be honoured in whole requests per second)
    assert (len(times) - 1) / (times[-1] - times[0]) >= max(1, int(rate)) * 0.97


def test_after_an_idle_pause_the_burst_does_not_exceed_the_rate():
    clock = [0.0]
    bucket = TokenBucket(80, clock=lambda: clock[0])
    first = simulate(bucket, clock, 60)
    clock[0] += 0.5  # idle: the bucket refills up to its burst
    second = simulate(bucket, clock, 100)
    assert most_in_one_second(first + second) <= 80
