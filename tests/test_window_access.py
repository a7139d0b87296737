"""Windowed tables updated directly by the fused loop (issue 16) against the wrapper.

``tests/apps/window_access.py`` updates a tumbling window that expires and two hopping
windows (one expiring) in place. Its built worker computes the windows and their keys
itself and writes a window only while it is certainly live (``faust.compiled.
window_access``, ``window_limit``); everything else goes through the wrapper. It must
leave exactly what the uncompiled app leaves: the tables, which late writes were dropped
(``late_writes``) and which windows closed, on ``memory://`` and ``rocksdb://``, with the
clock anywhere around the windows' expiry, including just at a window's limit.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import test_differential
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_differential import append_moves, sorted_tables

from faust.compiled import window_access, window_limit
from faust.testing import AppDriver

APPS = Path(__file__).parent / "apps"

#: (account, amount, partition, timestamp ms)
Moves = list[tuple[str, int, int, int]]


class Built(test_differential.Built):
    def __init__(self, out_dir: Path) -> None:
        super().__init__(APPS / "window_access.py", out_dir)
        self.module = sys.modules[self.worker.app_module.__name__]

    def run(
        self,
        rounds: list[tuple[float, Moves]],
        *,
        compiled: bool,
        start: float,
        store: str = "memory://",
    ) -> dict[str, Any]:
        """Tables, late writes and closed windows after ``rounds``: each moves the clock
        ahead by its seconds (expiring what is due), then processes its moves."""
        closed: list[Any] = self.module.closed
        closed.clear()
        for table in self.app.tables.values():
            table.late_writes = 0  # type: ignore[attr-defined]
        agents = self.worker.COMPILED_AGENTS if compiled else None
        with AppDriver(self.app, compiled_agents=agents, store=store, start_time=start) as driver:
            for ahead, moves in rounds:
                if ahead:
                    driver.advance_time(ahead)
                append_moves(driver, (("moves", *move) for move in moves))
                driver.run()
            driver.advance_time(0.0)
            result: dict[str, Any] = {"closed": list(closed), **sorted_tables(self.app)}
            for table in self.app.tables.values():
                result[f"{table.name} late"] = getattr(table, "late_writes", None)
        return result


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return Built(tmp_path_factory.mktemp("build"))


moves = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "ü"]),
        st.integers(min_value=-3, max_value=5),
        st.integers(min_value=0, max_value=3),
        st.integers(min_value=990_000, max_value=1_040_000),
    ),
    max_size=25,
)
#: clock steps: whole seconds, and steps that land near a window's expiry limit
aheads = st.one_of(
    st.sampled_from([0.0, 5.0, 10.0, 19.9, 20.0]),
    st.floats(min_value=0.0, max_value=30.0, allow_nan=False),
)
rounds = st.lists(st.tuples(aheads, moves), min_size=1, max_size=3)
#: start times around the windows' expiry (tumbling: a window ending at e expires when
#: the clock passes e + 20; the moves' windows end between 999.9 and 1049.9)
starts = st.one_of(
    st.sampled_from([1000.0, 1019.9, 1020.0, 1029.9, 1030.0, 1030.0 - 1e-7, 1029.9 + 1e-7]),
    st.floats(min_value=990.0, max_value=1080.0, allow_nan=False),
)
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def test_the_worker_updates_its_windows_directly(built: Built) -> None:
    """Each windowed table is bound per batch by ``window_access``; its windows' keys
    are computed in the loop, which calls the wrapper only for what it leaves to it."""
    text = Path(built.worker.__file__).read_text()
    flat = "".join(text.split())
    for table in ("expiring_table", "hops_table", "hops_expiring_table"):
        assert f"=_window_access({table})" in flat
    assert "expiring_wkey = (move.account, expiring_range)" in text
    assert "for hops_hop in hops_ranges:" in text


def test_window_access_binds_expiring_and_hopping_windows(built: Built) -> None:
    module = built.module
    expiring = module.expiring_table.table
    hops = module.hops_table.table
    with AppDriver(built.app, start_time=1000.0):
        stores, size, target, expires, clock, step = window_access(module.expiring_table)
        assert (stores, size, target, expires, step) == (
            expiring._stores,
            10.0,
            expiring,
            20.0,
            None,
        )
        assert clock() == 1000.0  # the table's clock (the driver's)
        stores, size, target, expires, clock, ranges = window_access(module.hops_table)
        assert (stores, size, target, expires) == (hops._stores, 10.0, hops, None)
        assert ranges is not None and ranges(12.0) == [(5.0, 14.9), (10.0, 19.9)]
        # relative to another time: the wrapper's rules
        assert window_access(module.expiring_table.relative_to_now())[:3] == ({}, 0.0, None)


def test_window_limit_is_just_under_the_expiry() -> None:
    """The loop writes a window directly only while the clock is under its limit: the
    window is then live by ``Window.stale`` (and nothing is lost above it but speed)."""
    window = sys.modules["faust.windows"].TumblingWindow(10.0, expires=20.0)
    end = 1009.9
    limit = window_limit(end, 10.0, 20.0)
    assert end + 20.0 - 1e-5 < limit < end + 20.0
    assert not window.stale(end, limit)
    assert window_limit(end, 10.0, None) == float("inf")


@SETTINGS
@given(rounds=rounds, start=starts)
def test_compiled_as_uncompiled_on_memory(
    built: Built, rounds: list[tuple[float, Moves]], start: float
) -> None:
    reference = built.run(rounds, compiled=False, start=start)
    assert built.run(rounds, compiled=True, start=start) == reference


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rounds=rounds, start=starts)
def test_compiled_as_uncompiled_on_rocksdb(
    built: Built, rounds: list[tuple[float, Moves]], start: float
) -> None:
    reference = built.run(rounds, compiled=False, start=start, store="rocksdb://")
    assert built.run(rounds, compiled=True, start=start, store="rocksdb://") == reference


def test_late_writes_are_dropped_as_the_wrapper_drops_them(
    built: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A move into a window already past its expiry is dropped and counted, compiled as
    uncompiled; one into a live window is written, by the loop itself (the wrapper's
    ``in_place`` runs only for the late one)."""
    late = [("a", 1, 0, 995_000)]  # window (990.0, 999.9): expired at 1019.9
    live = [("a", 2, 0, 1_035_000)]  # window (1030.0, 1039.9)
    rounds: list[tuple[float, Moves]] = [(0.0, late + live)]
    reference = built.run(rounds, compiled=False, start=1025.0)
    wrapper = type(built.module.expiring_table)
    in_place = wrapper.in_place
    calls: list[str] = []

    def counted(self: Any, key: Any, op: Any, value: Any) -> None:
        calls.append(self.table.name)
        in_place(self, key, op, value)

    monkeypatch.setattr(wrapper, "in_place", counted)
    compiled = built.run(rounds, compiled=True, start=1025.0)
    assert compiled == reference
    assert compiled["expiring late"] == 1
    assert compiled["expiring"] == [(("a", (1030.0, 1039.9)), 1)]
    # the late move: the tumbling window and hopping windows (990, 999.9), (994, 1003.9)
    assert sorted(calls) == ["expiring", "hops-expiring"]
