"""faust-streaming, the real Faust, in a virtualenv of its own: the reference the corpus is
compared with.

faust-streaming installs as ``faust``, as our runtime does, so it can never share a
virtualenv with faustc. This module makes one (once; it is cached under
``build/compat/``) and says where its interpreter is. Example::

    python = faust_streaming_python()          # installs on first use (~6 s from PyPI)
    outcome = run_app(app, faust_streaming(python), tmp)

Run ``python tests/compat/faust_streaming.py`` to install it and print its version.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
from pathlib import Path

#: the release line the differential runs are measured against
REQUIREMENT = "faust-streaming[rocksdict]>=0.15,<0.16"
REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / "build" / "compat" / "faust-streaming-0.15"


class InstallError(RuntimeError):
    """faust-streaming could not be installed (the message has pip's last words)."""


def faust_streaming_python(cache: Path = CACHE) -> Path:
    """The interpreter of a virtualenv holding faust-streaming 0.15.x; made when missing."""
    python = cache / "bin" / "python"
    marker = cache / "faust-streaming-version"
    if marker.exists():
        return python
    cache.parent.mkdir(parents=True, exist_ok=True)
    with (cache.parent / f"{cache.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be installing it right now
        if marker.exists():
            return python
        shutil.rmtree(cache, ignore_errors=True)
        _run([sys.executable, "-m", "venv", str(cache)], "create the virtualenv")
        _run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                REQUIREMENT,
            ],
            f"pip install {REQUIREMENT}",
        )
        version = _run(
            [str(python), "-c", "import faust; print(faust.__version__)"], "import faust"
        ).strip()
        if not version.startswith("0.15."):
            raise InstallError(f"expected faust-streaming 0.15.x, got {version}")
        marker.write_text(version + "\n")
    return python


def installed_version(cache: Path = CACHE) -> str:
    return (cache / "faust-streaming-version").read_text().strip()


def _run(argv: list[str], what: str) -> str:
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise InstallError(f"cannot {what}: " + " / ".join(tail))
    return result.stdout


if __name__ == "__main__":
    print(faust_streaming_python(), installed_version())
