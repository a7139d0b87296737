"""Window arithmetic, checked against Faust's formulas worked by hand."""

from __future__ import annotations

import datetime
import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from faust.windows import HoppingWindow, SlidingWindow, TumblingWindow


def test_tumbling_ranges_end_a_tenth_before_the_next_window() -> None:
    window = TumblingWindow(10)
    assert window.ranges(25.0) == [(20.0, 29.9)]
    assert window.ranges(20.0) == [(20.0, 29.9)]
    assert window.ranges(29.99) == [(20.0, 29.9)]
    assert window.current(25.0) == window.earliest(25.0) == (20.0, 29.9)
    assert window.delta(25.0, 10) == (10.0, 19.9)
    assert window.delta(25.0, datetime.timedelta(seconds=20)) == (0.0, 9.9)


def test_hopping_ranges_overlap() -> None:
    window = HoppingWindow(size=10, step=5)
    assert window.ranges(12.0) == [(5.0, 14.9), (10.0, 19.9)]
    assert window.ranges(15.0) == [(10.0, 19.9), (15.0, 24.9)]
    assert window.earliest(12.0) == (5.0, 14.9)
    assert window.current(12.0) == (10.0, 19.9)


def test_sliding_window_is_the_event_plus_minus() -> None:
    window = SlidingWindow(before=2, after=3, expires=60)
    assert window.ranges(100.0) == [(98.0, 103.0)]
    assert window.stale(103.0, now=163.0) and not window.stale(103.0, now=162.9)


def test_expiry_follows_faust() -> None:
    window = TumblingWindow(10, expires=60)
    # stale when the window ends at or before the start of the window of (now - expires)
    assert window.stale_before(1000.0) == 940.0
    assert window.stale(939.9, now=1000.0)
    assert not window.stale(949.9, now=1000.0)
    assert window.stale(949.9, now=1010.0)
    assert not TumblingWindow(10).stale(0.0, now=1e12)  # no expires: kept for ever
    assert TumblingWindow(10).stale_before(5.0) == -math.inf


def test_durations_may_be_timedeltas() -> None:
    window = HoppingWindow(datetime.timedelta(minutes=1), datetime.timedelta(seconds=30), 600)
    assert (window.size, window.step, window.expires) == (60.0, 30.0, 600.0)
    with pytest.raises(ValueError):
        TumblingWindow(0)


@given(
    size=st.integers(1, 100),
    step_divisor=st.integers(1, 5),
    timestamp=st.floats(0, 1e9, allow_nan=False),
)
def test_hopping_ranges_contain_the_timestamp(
    size: int, step_divisor: int, timestamp: float
) -> None:
    step = max(1, size // step_divisor)
    window = HoppingWindow(size, step)
    ranges = window.ranges(timestamp)
    assert ranges, "every timestamp falls into a window"
    for start, end in ranges:
        assert start <= timestamp < start + size
        assert end == start + size - 0.1
    assert ranges[0] == window.earliest(timestamp)
    assert ranges[-1] == window.current(timestamp)
    starts = [start for start, _ in ranges]
    assert all(b - a == pytest.approx(step) for a, b in itertools.pairwise(starts))
