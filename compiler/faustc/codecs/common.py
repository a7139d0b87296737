"""What the generated JSON and Avro codecs share: names, literals, building a Record.

Example::

    snake_case("BigOrder")                 # 'big_order' (decode_big_order_json, ...)
    quote("ns")                       # '"ns"'
"""

from __future__ import annotations

import json

import libcst as cst

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


def make_record_lines(
    info: RecordInfo, cls: str, values: list[tuple[str, str]], validation: bool
) -> list[str]:
    """Lines building ``record`` from ``(field, expression)`` pairs: plain attribute stores
    (what ``Record.__init__`` does, the fastest form), or one ``__dict__`` when frozen."""
    lines = [f"    record = _new({cls})"]
    if plain_stores(info):
        lines += [f"    record.{name} = {expression}" for name, expression in values]
    else:
        lines.append('    _set_attribute(record, "__dict__", {')
        lines += [f"        {quote(name)}: {expression}," for name, expression in values]
        lines.append("    })")
    if validation:
        lines.append("    record.validate_or_raise()")
    return lines


def quote(text: str) -> str:
    """A string literal in double quotes (the generated file's style)."""
    return json.dumps(text)
