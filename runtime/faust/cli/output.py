"""What commands print: tables of rows (or their JSON with ``--json``), one format.

Faust prints ``faust agents`` and friends as boxed tables with the title in the top
border, and as a JSON list of objects (one per row, keyed by the headers) with ``--json``.
Example::

    >>> print(table([["@count_words", "words", "<N/A>"]], ["name", "topic", "help"], "Agents"))
    +Agents--------+-------+-------+
    | name         | topic | help  |
    +--------------+-------+-------+
    | @count_words | words | <N/A> |
    +--------------+-------+-------+
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

Rows = Sequence[Sequence[Any]]


def table(rows: Rows, headers: Sequence[str] | None = None, title: str = "") -> str:
    """``rows`` (and ``headers``) as an ASCII table, ``title`` in its top border."""
    lines = [[str(cell) for cell in row] for row in ([headers] if headers else []) + list(rows)]
    if not lines:
        lines = [[""]]
    columns = max(len(line) for line in lines)
    lines = [line + [""] * (columns - len(line)) for line in lines]
    widths = [max(len(line[i]) for line in lines) for i in range(columns)]
    rule = "+" + "+".join("-" * (width + 2) for width in widths) + "+"
    top = rule if not title else "+" + title + rule[1 + len(title) :]
    if len(title) + 2 > len(rule):
        top = "+" + title + "+"
    out = [top]
    for index, line in enumerate(lines):
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |")
        if index == 0 and headers:
            out.append(rule)
    out.append(rule)
    return "\n".join(out)


def table_json(rows: Rows, headers: Sequence[str] | None = None) -> str:
    """The rows as JSON: objects keyed by ``headers``, else lists."""
    if headers:
        data: Any = [dict(zip(headers, row, strict=False)) for row in rows]
    else:
        data = [list(row) for row in rows]
    return dumps(data)


def dumps(obj: Any) -> str:
    """JSON text (what ``--json`` output and ``send``'s receipts are written in)."""
    return orjson.dumps(obj, default=str).decode()
