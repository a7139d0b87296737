"""Render a worker plan into Python source with the jinja2 templates in ``templates/``.

Rendering is pure: ``render_worker(plan) -> str``; writing the file happens in
``faustc.build``. Example::

    text = render_worker(plan_worker(module, source, Path("build")))
    compile(text, "build/wordcount_worker.py", "exec")

User code is re-indented with :func:`indent_code`, which leaves the continuation lines of
multi-line strings untouched, so a docstring or query inside an agent keeps its text.
"""

from __future__ import annotations

import io
import tokenize
from functools import cache
from importlib import resources
from pathlib import Path

import jinja2

from faustc.codecs.common import snake_case
from faustc.plan import WorkerPlan


def templates_dir() -> Path:
    """``templates/`` of the source tree, or ``faustc/templates`` inside an installed wheel."""
    packaged = Path(str(resources.files("faustc"))) / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "templates"


def indent_code(text: str, width: int) -> str:
    """Indent every line of ``text`` by ``width`` spaces, except lines inside strings.

    The result has no trailing newline: templates decide where lines end.
    """
    prefix = " " * width
    inside_strings: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.STRING and token.end[0] > token.start[0]:
                inside_strings.update(range(token.start[0] + 1, token.end[0] + 1))
    except (tokenize.TokenError, SyntaxError):  # a fragment; indent every line
        inside_strings = set()
    lines = text.rstrip("\n").splitlines(keepends=True)
    return "".join(
        line if number in inside_strings or not line.strip() else prefix + line
        for number, line in enumerate(lines, start=1)
    )


def python_literal(value: object) -> str:
    """``repr(value)``, but strings in double quotes (the style of the rest of the file)."""
    if isinstance(value, str) and '"' not in value and "\\" not in value and value.isprintable():
        return f'"{value}"'
    return repr(value)


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    environment.filters["code"] = indent_code
    environment.filters["pyrepr"] = python_literal
    environment.filters["snake"] = snake_case
    return environment


def render_worker(plan: WorkerPlan) -> str:
    """The worker module's source text for ``plan``."""
    return tidy(_environment().get_template("worker.py.j2").render(plan=plan))


def tidy(text: str) -> str:
    """Drop the blank lines template conditionals leave inside indented blocks (never a
    line inside a multi-line string)."""
    inside_strings: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.STRING and token.end[0] > token.start[0]:
                inside_strings.update(range(token.start[0] + 1, token.end[0] + 1))
    except (tokenize.TokenError, SyntaxError):
        return text
    lines = text.splitlines(keepends=True)
    kept: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() and number not in inside_strings:
            following = next((later for later in lines[number:] if later.strip()), "")
            previous = kept[-1] if kept else ""
            if following[:1] == " " and previous[:1] == " ":
                continue
        kept.append(line)
    return "".join(kept)
