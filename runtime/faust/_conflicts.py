"""Refusing to share an environment with faust-streaming (or Robinhood's faust).

Both install the same ``faust`` import package as faustc: installed together, their files
merge into one directory (``import faust`` then gets a mix of the two) and uninstalling one
deletes files of the other. ``import faust`` calls :func:`refuse_other_faust` first, and the
``faustc`` command does too. Example::

    >>> refuse_other_faust()     # nothing installed beside faustc: returns
    ImportError: faustc cannot share an environment with faust-streaming 0.11.3 ...

The check reads the installed distributions' metadata directories on ``sys.path``
(``faust_streaming-0.11.3.dist-info``) with one directory listing each, not
``importlib.metadata``, which would add tens of milliseconds to every worker's start.
"""

from __future__ import annotations

import os
import re
import sys

#: distributions that install a ``faust`` package: faust-streaming, and Robinhood's faust
_OTHERS = re.compile(
    r"^(faust_streaming|faust)-(\d[^-]*?)(-py[\d.]+)?\.(dist-info|egg-info)$", re.IGNORECASE
)


def other_faust() -> list[tuple[str, str, str]]:
    """``(name, version, where)`` of every other distribution installing ``faust``."""
    found = []
    seen: set[str] = set()
    for entry in sys.path:
        directory = entry or "."
        if directory in seen or not os.path.isdir(directory):
            continue
        seen.add(directory)
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            match = _OTHERS.match(name)
            if match:
                project = "faust-streaming" if match[1].lower() == "faust_streaming" else "faust"
                found.append((project, match[2], directory))
    return found


def refuse_other_faust() -> None:
    """Raise ImportError naming the other distribution when one is installed."""
    others = other_faust()
    if not others:
        return
    name, version, where = others[0]
    raise ImportError(
        f"faustc cannot share an environment with {name} {version} (installed in {where}): "
        "both install the `faust` package, so `import faust` would get a mix of the two. "
        f"Use separate virtual environments, or `pip uninstall {name}` and then "
        "`pip install --force-reinstall faustc` (uninstalling removed files faustc installed)."
    )
