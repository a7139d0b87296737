"""Shared fixtures: the embedded broker (one per session) and paths."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from faustc.broker import EmbeddedBroker

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """Tansu on a free loopback port, started once for the whole session."""
    log_file = tmp_path_factory.mktemp("broker") / "tansu.log"
    embedded = EmbeddedBroker(log_file=log_file).start()
    yield embedded
    embedded.stop()
