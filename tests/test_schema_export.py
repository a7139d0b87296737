"""`faustc schema`: golden .avsc files, agreement with the runtime's Avro schemas, the
BACKWARD --check (breaking and compatible changes), and FC301 for unexportable fields.

Update the golden files with ``faustc schema examples/avro_orders.py -o
tests/golden_schemas/avro_orders`` when the export changes on purpose."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES, REPO
from faustc.diagnostics import CompileError
from faustc.front.reader import read_module
from faustc.schema import backward_breaks, export_schemas
from faustc.source import SourceFile

GOLDEN = Path(__file__).parent / "golden_schemas" / "avro_orders"


def faustc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faustc", *args], capture_output=True, text=True, cwd=REPO
    )


def test_export_matches_golden_files() -> None:
    files = export_schemas(read_module(SourceFile.load(EXAMPLES / "avro_orders.py")))
    assert sorted(files) == sorted(path.name for path in GOLDEN.iterdir())
    for name, text in files.items():
        assert text == (GOLDEN / name).read_text(), name
    manifest = json.loads(files["manifest.json"])["topics"]
    assert manifest["avro-orders"]["value"] == {
        "codec": "avro",
        "record": "shop.Order",
        "schema": "shop.Order.avsc",
        "subject": "avro-orders-value",
    }
    assert manifest["avro-orders"]["key"]["subject"] == "avro-orders-key"


def test_compiler_and_runtime_schemas_agree() -> None:
    sys.path.insert(0, str(EXAMPLES))
    try:
        import avro_orders
    finally:
        sys.path.remove(str(EXAMPLES))
    from faust.serializers.avro import avro_schema

    for record in (avro_orders.Order, avro_orders.BigOrder):
        golden = json.loads((GOLDEN / f"{record._options.namespace}.avsc").read_text())
        assert avro_schema(record) == golden


def _order() -> dict[str, object]:
    return json.loads((GOLDEN / "shop.Order.avsc").read_text())


def test_check_finds_breaking_changes() -> None:
    old = _order()
    new = json.loads(json.dumps(old))
    fields = new["fields"]
    fields.append({"name": "channel", "type": "string"})  # no default: old data lacks it
    next(f for f in fields if f["name"] == "account_id")["type"] = "long"
    status = next(f for f in fields if f["name"] == "status")["type"]
    status["symbols"] = ["NEW", "PAID"]  # SHIPPED removed
    breaks = backward_breaks(old, new)
    assert any("channel: new field without a default" in b for b in breaks)
    assert any("account_id: type changed from string to long" in b for b in breaks)
    assert any("enum symbols removed: SHIPPED" in b for b in breaks)
    assert len(breaks) == 3


def test_check_accepts_compatible_changes() -> None:
    old = _order()
    new = json.loads(json.dumps(old))
    new["fields"].append({"name": "channel", "type": ["null", "string"], "default": None})
    new["fields"] = [f for f in new["fields"] if f["name"] != "note"]  # removing is fine
    assert backward_breaks(old, new) == []
    promoted = {"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]}
    wider = {"type": "record", "name": "R", "fields": [{"name": "a", "type": "double"}]}
    assert backward_breaks(promoted, wider) == []
    assert backward_breaks(wider, promoted) != []


def test_cli_check_exits_1_on_a_break(tmp_path: Path) -> None:
    result = faustc("schema", "examples/avro_orders.py", "--check", str(GOLDEN))
    assert result.returncode == 0, result.stderr
    old = tmp_path / "old"
    old.mkdir()
    for path in GOLDEN.iterdir():
        (old / path.name).write_text(path.read_text())
    order = json.loads((old / "shop.Order.avsc").read_text())
    order["fields"] = [f for f in order["fields"] if f["name"] != "tags"]
    order["fields"][1]["type"] = "long"  # account_id was long: a string cannot be read
    (old / "shop.Order.avsc").write_text(json.dumps(order))
    result = faustc("schema", "examples/avro_orders.py", "--check", str(old))
    assert result.returncode == 1
    assert "shop.Order.avsc" in result.stderr and "account_id" in result.stderr
    assert "tags: new field without a default" in result.stderr


def test_unexportable_field_is_a_diagnostic(tmp_path: Path) -> None:
    app = tmp_path / "bad_schema.py"
    app.write_text(
        "import decimal\nimport faust\n\napp = faust.App('x')\n\n\n"
        "class Price(faust.Record):\n    amount: decimal.Decimal\n\n\n"
        "prices = app.topic('prices', value_type=Price)\n"
    )
    with pytest.raises(CompileError) as caught:
        export_schemas(read_module(SourceFile.load(app)))
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "FC301" and diagnostic.span.line == 8
    result = faustc("schema", str(app), "-o", str(tmp_path / "out"))
    assert result.returncode == 1 and f"{app}:8:13: error:" in result.stderr
