"""Packing a built worker into one self-contained file: a zipapp (``faustc build --pyz``).

Example::

    result = build_worker(Path("examples/wordcount.py"), Path("build"))
    write_zipapp(result)        # build/wordcount_worker.pyz, then on any machine with the
                                # runtime installed: ./wordcount_worker.pyz worker --broker ...

The archive holds the generated worker, the app's own modules and a ``__main__.py`` that
runs the worker. The app's own modules are the app module, the packages it lives in, and
every module under the same import root that it imports, transitively (found with ``ast``:
``import x``, ``from x import y``, relative imports). Installed packages are not packed:
the runtime (``pip install faustc``) and the app's third-party dependencies must be
installed where it runs. Data files are not packed either. The archive is deterministic
(fixed timestamps, sorted entries) and starts with ``#!/usr/bin/env python3``.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

from faustc import __version__
from faustc.build import BuildResult
from faustc.local_modules import app_modules

INTERPRETER = "/usr/bin/env python3"
#: zip's earliest timestamp: the same bytes for the same inputs
_EPOCH = (1980, 1, 1, 0, 0, 0)


def zipapp_path_for(result: BuildResult) -> Path:
    return result.worker_path.with_suffix(".pyz")


def write_zipapp(result: BuildResult) -> Path:
    """Write ``<out>/<stem>_worker.pyz`` next to the built worker; return its path."""
    source = result.source
    worker_module = result.worker_path.stem
    members = {f"{worker_module}.py": result.text.encode("utf-8")}
    for relative, path in sorted(app_modules(source.path, source.module, source.import_root)):
        members[relative] = path.read_bytes()
    members["__main__.py"] = (
        f'"""Runs {worker_module} from this archive (packed by faustc {__version__})."""\n\n'
        "import runpy\n\n"
        f'runpy.run_module("{worker_module}", run_name="__main__", alter_sys=True)\n'
    ).encode()
    target = zipapp_path_for(result)
    temporary = target.with_name(target.name + ".tmp")
    with temporary.open("wb") as file:
        file.write(f"#!{INTERPRETER}\n".encode())
        with zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(members):
                info = zipfile.ZipInfo(name, date_time=_EPOCH)
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, members[name])
    mode = temporary.stat().st_mode
    temporary.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    os.replace(temporary, target)
    return target
