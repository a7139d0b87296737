"""Run a Python script with every confluent-kafka client it creates recorded (tests only).

Usage: ``RECORD_CLIENTS=clients.jsonl python record_clients.py worker.py worker ...``

Each construction of a Consumer, Producer, AdminClient or SchemaRegistryClient appends one
JSON line: the class and the configuration's plain values (callbacks are named, not
written). tests/test_security_on_kafka.py reads the lines to check that every client the
worker created got its configuration from ``faust.transport.client_config``.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from typing import Any

import confluent_kafka
import confluent_kafka.admin
import confluent_kafka.schema_registry

LOG = os.environ["RECORD_CLIENTS"]


def _record(kind: str, config: dict[str, Any]) -> None:
    plain = {
        key: value if isinstance(value, str | int | float | bool) else f"<{type(value).__name__}>"
        for key, value in config.items()
    }
    with open(LOG, "a", encoding="utf-8") as log:
        log.write(json.dumps({"class": kind, "config": plain}) + "\n")


def _recording(base: Any, kind: str) -> Any:
    class Recorded(base):  # type: ignore[misc,valid-type]
        def __init__(self, config: dict[str, Any], *args: Any, **kwargs: Any) -> None:
            _record(kind, config)
            super().__init__(config, *args, **kwargs)

    Recorded.__name__ = base.__name__
    return Recorded


def _record_init(cls: Any, kind: str) -> None:
    """For Python classes whose methods name themselves (``super(AdminClient, self)``)."""
    original = cls.__init__

    def __init__(self: Any, config: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        _record(kind, config)
        original(self, config, *args, **kwargs)

    cls.__init__ = __init__


# the C types are subclassed; the Python classes get a recording __init__
confluent_kafka.Consumer = _recording(confluent_kafka.Consumer, "Consumer")
confluent_kafka.Producer = _recording(confluent_kafka.Producer, "Producer")
_record_init(confluent_kafka.admin.AdminClient, "AdminClient")
_record_init(confluent_kafka.schema_registry.SchemaRegistryClient, "SchemaRegistryClient")

if __name__ == "__main__":
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    runpy.run_path(script, run_name="__main__")
