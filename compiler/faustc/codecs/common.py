"""What the generated JSON and Avro codecs share: names, literals, building a Record.

Example::

    snake_case("BigOrder")                 # 'big_order' (decode_big_order_json, ...)
    quote("ns")                       # '"ns"'
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import libcst as cst

from faustc.emit.emitter import Emitter, Ternary
from faustc.types import FieldInfo, RecordInfo, literal_value


def snake_case(name: str) -> str:
    out = []
    for index, char in enumerate(name):
        if char.isupper() and index and not name[index - 1].isupper():
            out.append("_")
        out.append(char.lower())
    return "".join(out)


def unknown_call(field: FieldInfo) -> bool:
    """Is the field's default a call the compiler does not recognise (which may make a
    descriptor of the user's own, with its own ``prepare_value``)?"""
    if field.specifier is not None or field.default is None:
        return False
    return isinstance(field.definition.default_node, cst.Call)


def plain_stores(info: RecordInfo) -> bool:
    """Can the generated code store fields as plain attributes? Not on a frozen Record
    (or one whose ``frozen`` option is not a literal the compiler can read)."""
    frozen = info.options.get("frozen")
    return frozen is None or literal_value(frozen) is False


def write_record(
    out: Emitter,
    info: RecordInfo,
    cls: str,
    values: Sequence[tuple[str, str | Ternary]],
    validation: bool,
) -> None:
    """Build ``record`` from ``(field, expression)`` pairs: plain attribute stores (what
    ``Record.__init__`` does, the fastest form), or one ``__dict__`` when frozen."""
    out.line(f"record = {out.use('new_record')}({cls})")
    if plain_stores(info):
        for name, expression in values:
            out.assign(f"record.{name}", expression)
    else:
        with out.block(f"{out.use('set_attribute')}("):
            out.line("record,")
            out.line('"__dict__",')
            with out.block("{"):
                for name, expression in values:
                    out.line(f"{quote(name)}: {expression},")
            out.line("},")
        out.line(")")
    if validation:
        out.line("record.validate_or_raise()")


def quote(text: str) -> str:
    """A string literal in double quotes (the generated file's style)."""
    return json.dumps(text)
