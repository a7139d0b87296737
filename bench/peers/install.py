"""Install the peers the bench measures, each in a virtualenv of its own.

faust-streaming installs as ``faust``, as our runtime does, and Quix Streams pins its own
confluent-kafka and rocksdict: neither can share the project's virtualenv, nor each other's.
Each goes under ``build/bench-peers/<name>`` (faust-streaming reuses the compat harness's
virtualenv, ``build/compat/faust-streaming-0.15``), made once and cached. Example::

    python bench/peers/install.py               # both; prints each interpreter and version
    python bench/peers/install.py quixstreams   # one

``peer_python(name)`` returns the interpreter, installing on first use.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "compat"))

from faust_streaming import faust_streaming_python  # noqa: E402
from faust_streaming import installed_version as faust_streaming_version  # noqa: E402

#: the Quix Streams release measured (the newest on PyPI when the peers were added)
QUIXSTREAMS = "quixstreams==3.28.1"
CACHE = REPO / "build" / "bench-peers"


class InstallError(RuntimeError):
    """A peer could not be installed (the message has pip's last words)."""


def quixstreams_python(cache: Path = CACHE / "quixstreams") -> Path:
    """The interpreter of a virtualenv holding Quix Streams; made when missing."""
    python = cache / "bin" / "python"
    marker = cache / "quixstreams-version"
    if marker.exists():
        return python
    cache.parent.mkdir(parents=True, exist_ok=True)
    with (cache.parent / f"{cache.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be installing it right now
        if marker.exists():
            return python
        shutil.rmtree(cache, ignore_errors=True)
        _run([sys.executable, "-m", "venv", str(cache)], "create the virtualenv")
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        _run([*pip, QUIXSTREAMS], f"pip install {QUIXSTREAMS}")
        version = _run(
            [str(python), "-c", "import quixstreams; print(quixstreams.__version__)"],
            "import quixstreams",
        ).strip()
        marker.write_text(version + "\n")
    return python


def peer_python(name: str) -> Path:
    """The interpreter that runs peer ``name`` (``faust-streaming`` or ``quixstreams``)."""
    if name == "faust-streaming":
        return faust_streaming_python()
    if name == "quixstreams":
        return quixstreams_python()
    raise ValueError(f"unknown peer {name!r}")


def peer_version(name: str) -> str:
    if name == "faust-streaming":
        return faust_streaming_version()
    return (CACHE / "quixstreams" / "quixstreams-version").read_text().strip()


def _run(argv: list[str], what: str) -> str:
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise InstallError(f"cannot {what}: " + " / ".join(tail))
    return result.stdout


PEERS = ("faust-streaming", "quixstreams")

if __name__ == "__main__":
    for peer in sys.argv[1:] or PEERS:
        print(peer, peer_python(peer), peer_version(peer))
