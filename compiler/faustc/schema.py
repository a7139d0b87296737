"""``faustc schema``: Avro schemas of the Records an app's topics carry, and a BACKWARD check.

:func:`export_schemas` writes (in memory) one ``<fullname>.avsc`` per Record used as a
topic's key or value, in canonical JSON (sorted keys, two-space indent), plus
``manifest.json`` mapping each topic to its key/value subjects (TopicNameStrategy:
``<topic>-key``, ``<topic>-value``). :func:`backward_breaks` compares a new schema with one
exported earlier and lists every change that stops the new schema from reading data
written with the old one (Avro schema resolution). Example::

    files = export_schemas(module)          # {"shop.Order.avsc": "{...}", "manifest.json": ...}
    backward_breaks(old, new)               # ["shop.Order.amount: type double -> string ..."]

The mapping is the runtime's own (``faust.serializers.avroschema``): the compiler describes
the Records it read from the source as the runtime describes its classes, and one function
maps both.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import libcst as cst

from faust.contract import FIELD_SPECIFIER_NAMES
from faust.models.typeinfo import TypeNode
from faust.serializers.avroschema import (
    NO_DEFAULT,
    AvroSchemaError,
    EnumSymbol,
    SchemaField,
    SchemaRecord,
    field_entry,
)
from faust.serializers.avroschema import record_schema as mapped_record_schema
from faustc.diagnostics import CompileError, Diagnostic
from faustc.front.ir import AppModule
from faustc.types import FieldInfo, RecordInfo, literal_value, record_types, topic_codec, walk


def canonical_json(schema: Any) -> str:
    return json.dumps(schema, sort_keys=True, indent=2) + "\n"


class _Declared:
    """The module's Records and Enums as the schema mapping takes them (from the source:
    the same mapping the runtime applies to the classes)."""

    def __init__(self, module: AppModule, records: dict[str, RecordInfo]) -> None:
        self.module = module
        self.records = records
        self.enums = {enum.name: enum for enum in module.enums}

    def record(self, node: TypeNode) -> SchemaRecord:
        return schema_record(self.records[node.name], self.module)

    def enum(self, node: TypeNode) -> tuple[str, tuple[str, ...]]:
        enum = self.enums[node.name]
        return f"{self.module.module}.{node.name}", tuple(member for member, _ in enum.members)


def schema_record(info: RecordInfo, module: AppModule) -> SchemaRecord:
    """A Record read from the source, as the schema mapping takes it."""
    descriptors = _descriptor_classes(module)
    fields = tuple(
        schema_field(info.name, field, descriptors) for field in info.fields if not field.exclude
    )
    return SchemaRecord(info.namespace, fields)


def _descriptor_classes(module: AppModule) -> frozenset[str]:
    """The module's own field descriptors: classes derived from a faust field specifier."""
    syntax = module.syntax
    if syntax is None:
        return frozenset()
    found = set()
    for statement in syntax.tree.body:
        if isinstance(statement, cst.ClassDef):
            for base in statement.bases:
                node = base.value.value if isinstance(base.value, cst.Subscript) else base.value
                names = {name.rsplit(".", 1)[-1] for name in syntax.qualified(node)}
                if names & FIELD_SPECIFIER_NAMES:
                    found.add(statement.name.value)
    return frozenset(found)


def schema_field(
    record: str, field: FieldInfo, descriptors: frozenset[str] = frozenset()
) -> SchemaField:
    max_digits = literal_value(field.args.get("max_digits"))
    decimal_places = literal_value(field.args.get("decimal_places"))
    precision = literal_value(field.args.get("precision"))
    return SchemaField(
        field.output_name,
        field.type,
        f"{record}.{field.name}",
        aliases=(field.input_name,) if field.input_name != field.output_name else (),
        default=_default(field, descriptors),
        max_digits=max_digits if isinstance(max_digits, int) else None,
        decimal_places=decimal_places if isinstance(decimal_places, int) else None,
        precision=precision if isinstance(precision, str) else "micros",
    )


def _default(field: FieldInfo, descriptors: frozenset[str]) -> Any:
    """The field's default as a Python value (an Enum member by its name), or NO_DEFAULT;
    a descriptor of the module's own (``Shout(default="")``) gives its ``default=``."""
    if "default_factory" in field.args or not field.has_default:
        return NO_DEFAULT
    text = field.default
    call = field.definition.default_node
    if (
        field.specifier is None
        and isinstance(call, cst.Call)
        and isinstance(call.func, cst.Name)
        and call.func.value in descriptors
    ):
        given = [arg.value for arg in call.args if arg.keyword and arg.keyword.value == "default"]
        if not given:
            return NO_DEFAULT
        text = cst.Module(body=[]).code_for_node(given[0])
    if text is None or text.strip() == "None":
        return None
    value = literal_value(text)
    if value is not None:
        return value
    ref = field.type.args[0] if field.type.kind == "optional" else field.type
    if ref.kind == "enum" and text.startswith(f"{ref.name}."):
        return EnumSymbol(text.split(".", 1)[1])
    return NO_DEFAULT


def record_schema(module: AppModule, records: dict[str, RecordInfo], name: str) -> Any:
    """The Avro schema of the module's Record ``name`` (raises CompileError FC301)."""
    try:
        declared = _Declared(module, records)
        return mapped_record_schema(schema_record(records[name], module), declared)
    except AvroSchemaError:
        raise CompileError(_diagnose(module, records, records[name])) from None


def _diagnose(
    module: AppModule, records: dict[str, RecordInfo], info: RecordInfo
) -> list[Diagnostic]:
    """FC301 for every field of ``info`` (and of the Records it holds) Avro cannot carry."""
    found: list[Diagnostic] = []
    seen: set[str] = set()
    declared = _Declared(module, records)

    def visit(record: RecordInfo) -> None:
        if record.name in seen:
            return
        seen.add(record.name)
        for field in record.fields:
            if field.exclude:
                continue
            described = dataclasses.replace(
                schema_field(record.name, field, _descriptor_classes(module)), where=""
            )
            try:
                field_entry(described, declared)
            except AvroSchemaError as exc:
                reason = str(exc).removeprefix(": ")
                found.append(
                    Diagnostic(
                        "FC301",
                        f"field {record.name}.{field.name} cannot be exported as Avro: {reason}",
                        field.span,
                    )
                )
            for ref in walk(field.type):
                if ref.kind == "record" and ref.name in records:
                    visit(records[ref.name])

    visit(info)
    return found


def export_schemas(module: AppModule) -> dict[str, str]:
    """``{file name: text}``: one ``.avsc`` per Record a topic carries, and the manifest."""
    records = record_types(module)
    files: dict[str, str] = {}
    diagnostics: list[Diagnostic] = []
    manifest: dict[str, Any] = {}
    exported: dict[str, str] = {}
    for topic in module.topics:
        for name in topic.names:
            entry: dict[str, Any] = {}
            for is_key in (True, False):
                record, codec = topic_codec(topic, records, is_key=is_key)
                side = "key" if is_key else "value"
                item: dict[str, Any] = {"subject": f"{name}-{side}", "codec": codec}
                if record is not None:
                    info = records[record]
                    filename = f"{info.namespace}.avsc"
                    if record not in exported:
                        try:
                            files[filename] = canonical_json(record_schema(module, records, record))
                        except CompileError as exc:
                            diagnostics.extend(exc.diagnostics)
                        exported[record] = filename
                    item["schema"] = filename
                    item["record"] = info.namespace
                else:
                    type_text = topic.key_type if is_key else topic.value_type
                    item["type"] = type_text
                entry[side] = item
            manifest[name] = entry
    if diagnostics:
        unique = {(d.span.line, d.span.column, d.message): d for d in diagnostics}
        raise CompileError(list(unique.values()))
    files["manifest.json"] = json.dumps({"topics": manifest}, sort_keys=True, indent=2) + "\n"
    return files


# -- BACKWARD compatibility ------------------------------------------------------------------

_PROMOTIONS = {
    "int": {"long", "float", "double"},
    "long": {"float", "double"},
    "float": {"double"},
    "string": {"bytes"},
    "bytes": {"string"},
}


def backward_breaks(old: Any, new: Any) -> list[str]:
    """Every reason ``new`` (the reader) cannot read data written with ``old``."""
    breaks: list[str] = []
    _compare(old, new, _fullname(new) or "schema", breaks, {}, {})
    return breaks


def _fullname(schema: Any) -> str | None:
    if isinstance(schema, dict) and "name" in schema:
        namespace = schema.get("namespace")
        return f"{namespace}.{schema['name']}" if namespace else str(schema["name"])
    return None


def _type_name(schema: Any) -> str:
    if isinstance(schema, str):
        return schema
    if isinstance(schema, list):
        return "[" + ", ".join(_type_name(s) for s in schema) + "]"
    if schema.get("logicalType"):
        return f"{schema['type']}/{schema['logicalType']}"
    return str(_fullname(schema) or schema["type"])


def _resolve(schema: Any, names: dict[str, Any]) -> Any:
    if isinstance(schema, str) and schema in names:
        return names[schema]
    if isinstance(schema, dict) and schema.get("type") in ("record", "enum", "fixed"):
        fullname = _fullname(schema)
        if fullname:
            names[fullname] = schema
    return schema


def _compare(
    old: Any,
    new: Any,
    where: str,
    breaks: list[str],
    old_names: dict[str, Any],
    new_names: dict[str, Any],
) -> None:
    old = _resolve(old, old_names)
    new = _resolve(new, new_names)
    if isinstance(old, list):
        for branch in old:
            if not _can_read(branch, new, old_names, new_names):
                breaks.append(
                    f"{where}: the new type {_type_name(new)} cannot read "
                    f"{_type_name(branch)} written by the old schema"
                )
        return
    if isinstance(new, list):
        for branch in new:
            if _can_read(old, branch, old_names, new_names):
                _compare(old, branch, where, breaks, old_names, new_names)
                return
        breaks.append(f"{where}: type {_type_name(old)} is not in the new union {_type_name(new)}")
        return
    old_type = old if isinstance(old, str) else old["type"]
    new_type = new if isinstance(new, str) else new["type"]
    if old_type != new_type and new_type not in _PROMOTIONS.get(old_type, set()):
        breaks.append(f"{where}: type changed from {_type_name(old)} to {_type_name(new)}")
        return
    if (
        isinstance(old, dict)
        and isinstance(new, dict)
        and (
            old.get("logicalType") != new.get("logicalType")
            or (
                old.get("logicalType") == "decimal"
                and (old.get("precision"), old.get("scale"))
                != (new.get("precision"), new.get("scale"))
            )
        )
    ):
        breaks.append(f"{where}: type changed from {_type_name(old)} to {_type_name(new)}")
        return
    if new_type == "record":
        old_name, new_name = _fullname(old), _fullname(new)
        if old_name != new_name and old_name not in new.get("aliases", []):
            breaks.append(f"{where}: record name changed from {old_name} to {new_name}")
        old_fields = {field["name"]: field for field in old["fields"]}
        for field in new["fields"]:
            names = [field["name"], *field.get("aliases", [])]
            match = next((old_fields[n] for n in names if n in old_fields), None)
            path = f"{where}.{field['name']}"
            if match is None:
                if "default" not in field:
                    breaks.append(f"{path}: new field without a default (old data has none)")
                continue
            _compare(match["type"], field["type"], path, breaks, old_names, new_names)
    elif new_type == "enum":
        missing = [s for s in old["symbols"] if s not in new["symbols"]]
        if missing and "default" not in new:
            breaks.append(f"{where}: enum symbols removed: {', '.join(missing)}")
    elif new_type == "array":
        _compare(old["items"], new["items"], f"{where}[]", breaks, old_names, new_names)
    elif new_type == "map":
        _compare(old["values"], new["values"], f"{where}{{}}", breaks, old_names, new_names)


def _can_read(old: Any, new: Any, old_names: dict[str, Any], new_names: dict[str, Any]) -> bool:
    probe: list[str] = []
    _compare(old, new, "", probe, dict(old_names), dict(new_names))
    return not probe
