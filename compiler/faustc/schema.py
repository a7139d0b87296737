"""``faustc schema``: Avro schemas of the Records an app's topics carry, and a BACKWARD check.

:func:`export_schemas` writes (in memory) one ``<fullname>.avsc`` per Record used as a
topic's key or value, in canonical JSON (sorted keys, two-space indent), plus
``manifest.json`` mapping each topic to its key/value subjects (TopicNameStrategy:
``<topic>-key``, ``<topic>-value``). :func:`backward_breaks` compares a new schema with one
exported earlier and lists every change that stops the new schema from reading data
written with the old one (Avro schema resolution). Example::

    files = export_schemas(module)          # {"shop.Order.avsc": "{...}", "manifest.json": ...}
    backward_breaks(old, new)               # ["shop.Order.amount: type double -> string ..."]

The mapping is the runtime's (``faust.serializers.avro``); the tests check both agree.
"""

from __future__ import annotations

import json
from typing import Any

from faustc.diagnostics import CompileError, Diagnostic
from faustc.front.ir import AppModule
from faustc.types import FieldInfo, RecordInfo, TypeRef, literal_value, record_types, topic_codec

_PRIMITIVES = {
    "str": "string",
    "int": "long",
    "float": "double",
    "bool": "boolean",
    "bytes": "bytes",
}


class _Unrepresentable(Exception):
    pass


def canonical_json(schema: Any) -> str:
    return json.dumps(schema, sort_keys=True, indent=2) + "\n"


class _Builder:
    def __init__(self, module: AppModule, records: dict[str, RecordInfo]) -> None:
        self.module = module
        self.records = records
        self.enums = {enum.name: enum for enum in module.enums}
        self.defined: set[str] = set()

    def record(self, info: RecordInfo) -> Any:
        if info.namespace in self.defined:
            return info.namespace
        self.defined.add(info.namespace)
        namespace, _, name = info.namespace.rpartition(".")
        fields = []
        for field in info.fields:
            if field.exclude:
                continue
            schema = self.type(field.type, field)
            entry: dict[str, Any] = {"name": field.output_name, "type": schema}
            default = self.default(field)
            if default is not _NONE:
                if field.type.kind == "optional" and default is not None:
                    entry["type"] = [schema[1], "null"]
                entry["default"] = default
            if field.input_name != field.output_name:
                entry["aliases"] = [field.input_name]
            fields.append(entry)
        result: dict[str, Any] = {"type": "record", "name": name}
        if namespace:
            result["namespace"] = namespace
        result["fields"] = fields
        return result

    def default(self, field: FieldInfo) -> Any:
        if "default_factory" in field.args or not field.has_default:
            return _NONE
        text = field.default
        if text is None:
            return None if field.type.kind == "optional" else _NONE
        value = literal_value(text)
        ref = field.type.args[0] if field.type.kind == "optional" else field.type
        if value is None and text.strip() == "None":
            return None if field.type.kind == "optional" else _NONE
        if ref.kind in ("str", "bool") and isinstance(value, str | bool):
            return value
        if ref.kind == "int" and type(value) is int:
            return value
        if ref.kind == "float" and type(value) in (int, float):
            return float(value)  # type: ignore[arg-type]
        if ref.kind == "literal" and isinstance(value, str | int):
            return value
        if ref.kind == "enum" and text.startswith(f"{ref.name}."):
            return text.split(".", 1)[1]
        return _NONE

    def type(self, ref: TypeRef, field: FieldInfo) -> Any:
        kind = ref.kind
        if kind in _PRIMITIVES:
            return _PRIMITIVES[kind]
        if kind == "decimal":
            precision = literal_value(field.args.get("max_digits"))
            scale = literal_value(field.args.get("decimal_places"))
            if not isinstance(precision, int) or not isinstance(scale, int):
                raise _Unrepresentable(
                    "a Decimal needs DecimalField(max_digits=..., decimal_places=...) "
                    "(Avro precision and scale)"
                )
            return {
                "type": "bytes",
                "logicalType": "decimal",
                "precision": precision,
                "scale": scale,
            }
        if kind == "datetime":
            precision = literal_value(field.args.get("precision")) or "micros"
            return {"type": "long", "logicalType": f"timestamp-{precision}"}
        if kind == "date":
            return {"type": "int", "logicalType": "date"}
        if kind == "uuid":
            return {"type": "string", "logicalType": "uuid"}
        if kind == "enum":
            fullname = f"{self.module.module}.{ref.name}"
            if fullname in self.defined:
                return fullname
            self.defined.add(fullname)
            enum = self.enums[ref.name]
            namespace, _, name = fullname.rpartition(".")
            return {
                "type": "enum",
                "name": name,
                "namespace": namespace,
                "symbols": [member for member, _ in enum.members],
            }
        if kind == "literal":
            kinds = {type(literal_value(value)) for value in ref.values}
            if kinds == {str}:
                return "string"
            if kinds == {int}:
                return "long"
            raise _Unrepresentable("only Literal types of all str or all int are Avro")
        if kind == "optional":
            inner = self.type(ref.args[0], field)
            if isinstance(inner, list):
                raise _Unrepresentable("nested Optional types are not Avro")
            return ["null", inner]
        if kind in ("list", "set", "frozenset", "tuple"):
            return {"type": "array", "items": self.type(ref.args[0], field)}
        if kind == "dict":
            if ref.args[0].kind != "str":
                raise _Unrepresentable(f"Avro maps have string keys; {ref} has {ref.args[0]} keys")
            return {"type": "map", "values": self.type(ref.args[1], field)}
        if kind == "record":
            return self.record(self.records[ref.name])
        if kind == "unknown":
            raise _Unrepresentable(f"{ref.name} is not defined in this module")
        if kind == "fixed_tuple":
            raise _Unrepresentable(f"a fixed-length tuple ({ref}) is not Avro")
        if kind == "any":
            raise _Unrepresentable("a field typed Any has no Avro schema")
        raise _Unrepresentable(f"{ref} has no Avro schema")


class _NoDefault:
    pass


_NONE: Any = _NoDefault()


def record_schema(module: AppModule, records: dict[str, RecordInfo], name: str) -> Any:
    """The Avro schema of the module's Record ``name`` (raises CompileError FC301)."""
    builder = _Builder(module, records)
    try:
        return builder.record(records[name])
    except _Unrepresentable:
        pass
    # find the field that failed, for the diagnostic
    diagnostics = _diagnose(module, records, records[name])
    raise CompileError(diagnostics)


def _diagnose(
    module: AppModule, records: dict[str, RecordInfo], info: RecordInfo
) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    seen: set[str] = set()

    def visit(record: RecordInfo) -> None:
        if record.name in seen:
            return
        seen.add(record.name)
        for field in record.fields:
            if field.exclude:
                continue
            try:
                _Builder(module, records).type(field.type, field)
            except _Unrepresentable as exc:
                found.append(
                    Diagnostic(
                        "FC301",
                        f"field {record.name}.{field.name} cannot be exported as Avro: {exc}",
                        field.span,
                    )
                )
            for ref in _refs(field.type):
                if ref.kind == "record" and ref.name in records:
                    visit(records[ref.name])

    visit(info)
    return found


def _refs(ref: TypeRef) -> list[TypeRef]:
    found = [ref]
    for arg in ref.args:
        found.extend(_refs(arg))
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
                            files[filename] = canonical_json(_Builder(module, records).record(info))
                        except _Unrepresentable:
                            diagnostics.extend(_diagnose(module, records, info))
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
