"""Mappings drawn as text tables, for ``Table.as_ansitable()`` (Faust's
``faust.utils.terminal.tables``, without the terminaltables dependency).

Example::

    print(dict_as_ansitable({"quick": 2, "fox": 1}, title="tally", key="word", sort=True,
                            target=io.StringIO()))
    # +Tally---------+
    # | Word  | Value |
    # +-------+-------+
    # | fox   | 1     |
    # | quick | 2     |
    # +-------+-------+

The layout is terminaltables' ``AsciiTable`` (what Faust prints when ``target`` is not a
terminal) or its ``SingleTable`` box drawing (when it is): a header row, one line per item,
the title set into the top border when it fits. Headers and the title are title-cased, as
Faust's are (``mode.utils.text.title``).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import IO, Any

#: sort items by their key unless told otherwise (Faust's ``DEFAULT_SORT_KEY``)
DEFAULT_SORT_KEY: Callable[[Any], Any] = itemgetter(0)

#: (corner left, horizontal, joint, corner right, vertical) per border, ASCII and box
_ASCII = {"top": "+-++", "middle": "+-++", "bottom": "+-++", "vertical": "|"}
_BOX = {"top": "┌─┬┐", "middle": "├─┼┤", "bottom": "└─┴┘", "vertical": "│"}


def title_case(text: str) -> str:
    """``"word count"`` -> ``"Word Count"`` (``-`` and ``_`` separate words too)."""
    return " ".join(part.capitalize() for part in re.split(r"[\s_\-]+", text) if part)


def dict_as_ansitable(
    mapping: Mapping[Any, Any] | Any,
    *,
    key: str = "Key",
    value: str = "Value",
    sort: bool = False,
    sortkey: Callable[[Any], Any] = DEFAULT_SORT_KEY,
    target: IO[str] | None = None,
    title: str | None = None,
) -> str:
    """``mapping``'s items as a table of two columns headed ``key`` and ``value``."""
    items: Iterable[tuple[Any, Any]] = mapping.items()
    rows = sorted(items, key=sortkey) if sort else list(items)
    return draw_table(
        [[title_case(key), title_case(value)], *rows],
        title=title_case(title) if title else "",
        box=_is_terminal(target if target is not None else sys.stdout),
    )


def draw_table(rows: Sequence[Sequence[Any]], *, title: str = "", box: bool = False) -> str:
    """``rows`` (the first is the header) as a bordered text table."""
    chars = _BOX if box else _ASCII
    cells = [[str(cell) for cell in row] for row in rows]
    columns = max((len(row) for row in cells), default=0)
    for row in cells:
        row.extend([""] * (columns - len(row)))
    widths = [max(len(row[i]) for row in cells) for i in range(columns)]

    def border(kind: str, caption: str = "") -> str:
        left, line, joint, right = tuple(chars[kind])
        inner = joint.join(line * (width + 2) for width in widths)
        if caption and len(caption) <= len(inner):
            inner = caption + inner[len(caption) :]
        return left + inner + right

    def line(row: list[str]) -> str:
        bar = chars["vertical"]
        padded = (f" {cell.ljust(width)} " for cell, width in zip(row, widths, strict=True))
        return bar + bar.join(padded) + bar

    out = [border("top", title)]
    if cells:
        out.append(line(cells[0]))
        out.append(border("middle"))
        out.extend(line(row) for row in cells[1:])
    out.append(border("bottom"))
    return "\n".join(out)


def _is_terminal(target: IO[str]) -> bool:
    try:
        return bool(target.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed file
        return False
