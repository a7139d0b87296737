"""The ``avro-confluent`` codec: Confluent's wire format through the Schema Registry.

A message is magic byte 0, the 4-byte id the registry gave the schema under the subject
``<topic>-value`` (or ``-key``), then the datum. Reading also takes the newer form where
the schema's GUID travels in the ``__value_schema_id`` (``__key_schema_id``) header, and
resolves the writer's schema against the Record's own (Avro schema evolution). The
registry URL is the App setting ``schema_registry_url`` (``mock://...`` gives
confluent-kafka's in-process registry, for tests); its client configuration comes from
``faust.transport.client_config``. Example::

    app = faust.App("shop", schema_registry_url="http://registry:8081")
    orders = app.topic("orders", value_type=Order, value_serializer="avro-confluent")
"""

from __future__ import annotations

import json
import struct
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from faust.models.record import Record
from faust.serializers.avro.codec import avro_type
from faust.serializers.avro.fastavro_io import datum_reader
from faust.serializers.codecs import BoundCodec, Codec, CodecContext, DecodeFailed, Headers

KEY_SCHEMA_ID_HEADER = "__key_schema_id"
VALUE_SCHEMA_ID_HEADER = "__value_schema_id"
_clients: dict[str, Any] = {}


def registry_client(url: str, config: dict[str, Any] | None = None) -> Any:
    """The (cached, one per URL) ``confluent_kafka.schema_registry`` client for ``url``;
    ``config`` comes from ``faust.transport.client_config.schema_registry_config``."""
    client = _clients.get(url)
    if client is None:
        from confluent_kafka.schema_registry import SchemaRegistryClient

        client = SchemaRegistryClient.new_client({**(config or {}), "url": url})
        _clients[url] = client
    return client


class ConfluentAvroCodec(Codec):
    """Confluent's wire format (magic byte, schema id, datum) via the Schema Registry."""

    name = "avro-confluent"

    def __init__(self, url: str | None = None) -> None:
        self.url = url

    def _dumps(self, obj: Any) -> bytes:
        raise TypeError("the avro-confluent codec is bound to a topic's key or value type")

    _loads = _dumps  # type: ignore[assignment]

    def dumps_record(self, record: Record) -> bytes:
        raise TypeError(
            "avro-confluent needs a topic to name the subject: send the record to a topic"
        )

    def bind(self, typ: Any, context: CodecContext) -> BoundCodec:
        url = self.url or (context.settings.schema_registry_url if context.settings else None)
        if not url:
            raise TypeError(
                "the avro-confluent codec needs the schema registry: set the App setting "
                "schema_registry_url (e.g. faust.App(..., schema_registry_url='http://...'))"
            )
        if context.topic is None:
            raise TypeError("the avro-confluent codec needs the topic name (subject)")
        from faust.transport.client_config import schema_registry_config

        config = schema_registry_config(context.settings, url) if context.settings else None
        return _ConfluentBinding(typ, context, registry_client(url, config)).bound()


class _ConfluentBinding:
    def __init__(self, typ: Any, context: CodecContext, client: Any) -> None:
        self.avro = avro_type(typ)
        installed = context.generated(typ)
        self.to_datum, self.from_datum = self.avro.converters(installed)
        self.write = self.avro.writer(installed)
        self.client = client
        self.subject = f"{context.topic}-{'key' if context.is_key else 'value'}"
        self.header = KEY_SCHEMA_ID_HEADER if context.is_key else VALUE_SCHEMA_ID_HEADER
        self.prefix: bytes | None = None
        #: schema id (int) or GUID (UUID) -> the datum reader for data written with it
        self.readers: dict[Any, Callable[..., Any]] = {}

    def _prefix(self) -> bytes:
        if self.prefix is None:
            from confluent_kafka.schema_registry import Schema

            schema_id = self.client.register_schema(
                self.subject, Schema(self.avro.schema_text, "AVRO")
            )
            self.prefix = struct.pack(">bI", 0, schema_id)
            self.readers[schema_id] = self.avro.read  # our own schema: no resolution
        return self.prefix

    def _reader(self, key: Any) -> Callable[..., Any]:
        """The datum reader for a writer schema id (int) or GUID (UUID), resolving the
        writer's schema against the Record's own when they differ."""
        found = self.readers.get(key)
        if found is not None:
            return found
        if isinstance(key, uuid.UUID):
            schema = self.client.get_schema_by_guid(str(key))
        else:
            schema = self.client.get_schema(key)
        writer_schema = json.loads(schema.schema_str)
        text = json.dumps(writer_schema, sort_keys=True, separators=(",", ":"))
        if text == self.avro.schema_text:
            reader = self.avro.read
        else:
            reader = datum_reader(writer_schema, self.avro.schema)
        self.readers[key] = reader
        return reader

    def dumps(self, value: Any) -> bytes:
        return self._prefix() + self.write(value)

    def loads(self, data: bytes, headers: Headers = None) -> Any:
        key: Any = None
        body = 0
        if headers:
            for name, header_value in headers:
                if name == self.header and header_value:
                    key = _schema_key(header_value)
                    break
        if key is None:
            if len(data) < 5:
                raise ValueError(f"{len(data)} bytes: too short for the Confluent wire format")
            magic = data[0]
            if magic == 0:
                key, body = struct.unpack_from(">I", data, 1)[0], 5
            elif magic == 1 and len(data) >= 17:
                key, body = uuid.UUID(bytes=data[1:17]), 17
            else:
                raise ValueError(
                    f"magic byte {magic} is not the Confluent wire format (0, or 1 with a GUID)"
                )
        return self.from_datum(self._reader(key)(data, body))

    def loads_batch(
        self,
        datas: Sequence[bytes],
        headers: Sequence[Headers] | None,
        fail: Callable[[Exception], Exception],
    ) -> list[Any]:
        values: list[Any] = []
        append = values.append
        loads = self.loads
        for index, data in enumerate(datas):
            try:
                append(loads(data, headers[index] if headers is not None else None))
            except Exception as exc:
                append(DecodeFailed(fail(exc)))
        return values

    def bound(self) -> BoundCodec:
        return BoundCodec(
            loads=self.loads, dumps=self.dumps, wants_headers=True, loads_batch=self.loads_batch
        )


def _schema_key(header_value: bytes) -> Any:
    if header_value[0] == 1 and len(header_value) >= 17:
        return uuid.UUID(bytes=header_value[1:17])
    if header_value[0] == 0 and len(header_value) >= 5:
        return struct.unpack_from(">I", header_value, 1)[0]
    raise ValueError(f"schema id header {header_value!r} is neither an id nor a GUID")
