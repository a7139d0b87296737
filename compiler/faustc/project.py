"""The user's project settings for faustc: ``[tool.faustc]`` in their ``pyproject.toml``.

The nearest ``pyproject.toml`` at or above the app's directory is read (as mypy and ruff
find theirs); only the ``[tool.faustc]`` table matters here. Example::

    # pyproject.toml
    [tool.faustc]
    strict = true        # mypy's findings stop `faustc build` (default: warnings)

    settings = project_settings(Path("src/shop/app.py"))
    settings.strict      # True

A setting faustc does not know, or a value of the wrong type, is a one-line error
(:class:`ProjectSettingsError`), never ignored.
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path


class ProjectSettingsError(Exception):
    """``[tool.faustc]`` holds something faustc cannot use (the message says what)."""


@dataclasses.dataclass(frozen=True, slots=True)
class ProjectSettings:
    #: mypy's findings are errors in `faustc build` (they are warnings otherwise)
    strict: bool = False
    #: the file the settings came from (None: defaults)
    path: Path | None = None


def project_settings(app_file: Path) -> ProjectSettings:
    """The ``[tool.faustc]`` settings of the project ``app_file`` belongs to."""
    for directory in (app_file.resolve().parent, *app_file.resolve().parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return _read(candidate)
    return ProjectSettings()


def _read(path: Path) -> ProjectSettings:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProjectSettingsError(f"{path}: cannot read it ({exc})") from None
    table = data.get("tool", {}).get("faustc", {})
    if not isinstance(table, dict):
        raise ProjectSettingsError(f"{path}: [tool.faustc] must be a table")
    unknown = sorted(set(table) - {"strict"})
    if unknown:
        raise ProjectSettingsError(
            f"{path}: unknown [tool.faustc] setting(s): {', '.join(unknown)} (known: strict)"
        )
    strict = table.get("strict", False)
    if not isinstance(strict, bool):
        raise ProjectSettingsError(f"{path}: [tool.faustc] strict must be true or false")
    return ProjectSettings(strict=strict, path=path)
