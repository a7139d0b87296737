"""Topics: named Kafka topics with key/value types, and sending to them.

Example::

    orders = app.topic("orders", key_type=str, value_type=Order, partitions=4)
    await orders.send(key="a1", value=Order("a1", 12.5))
    orders.send_soon(value=Order("a2", 3.0))     # same, callable from sync code

A send encodes with the topic's schema and hands the bytes to the App's producer; it does
not wait for the broker. The worker flushes the producer before it commits offsets, so a
consumed message is never committed before what it caused is durable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from faust.delivery import FutureMessage, PendingMessage
from faust.serializers.codecs import Codec
from faust.serializers.schemas import (
    BatchLoader,
    Dumper,
    Failed,
    KeysCheck,
    Loader,
    Loader1,
    MessageDecode,
    MessageFailed,
    Schema,
)

if TYPE_CHECKING:
    from faust.app import App
    from faust.streams import Stream

KT = TypeVar("KT")
VT = TypeVar("VT")


class Topic(Generic[KT, VT]):
    """A Kafka topic declared by the app (``app.topic(...)``)."""

    def __init__(
        self,
        app: App,
        *,
        topics: tuple[str, ...],
        key_type: type[KT] | None = None,
        value_type: type[VT] | None = None,
        key_serializer: str | Codec | None = None,
        value_serializer: str | Codec | None = None,
        partitions: int | None = None,
        replicas: int | None = None,
        internal: bool = False,
        config: dict[str, str] | None = None,
    ) -> None:
        if not topics:
            raise TypeError("app.topic() needs a topic name")
        self.app = app
        self.topics = topics
        self.key_type = key_type
        self.value_type = value_type
        self.partitions = partitions
        self.replicas = replicas
        self.internal = internal
        self.config = dict(config or {})
        self.schema = Schema(
            key_type=key_type,
            value_type=value_type,
            key_serializer=key_serializer,
            value_serializer=value_serializer,
        ).resolved(
            app.conf.key_serializer,
            app.conf.value_serializer,
            topic=topics[0] if len(topics) == 1 else None,
            settings=app.conf,
            registry=app.codecs,
        )
        self._dump_key: Dumper = self.schema.key_dumper()
        self._key_text = self.schema.key_dumper_is_text()
        self._dump_value: Dumper = self.schema.value_dumper()

    def refresh_codecs(self) -> None:
        """Rebuild the dumpers (after a compiled worker installed its generated codecs)."""
        self._dump_key = self.schema.key_dumper()
        self._key_text = self.schema.key_dumper_is_text()
        self._dump_value = self.schema.value_dumper()

    def get_topic_name(self) -> str:
        if len(self.topics) != 1:
            raise ValueError(f"cannot send to a topic declared with several names: {self.topics}")
        return self.topics[0]

    @property
    def key_serializer(self) -> str | Codec | None:
        return self.schema.key_serializer

    @property
    def value_serializer(self) -> str | Codec | None:
        return self.schema.value_serializer

    def key_dumper(self) -> Dumper:
        """``key -> bytes`` for this topic, as :meth:`send` encodes keys (a compiled agent
        binds it once and calls it per record)."""
        return self._dump_key

    def key_dumper_is_text(self) -> bool:
        """Does :meth:`key_dumper` write a key of type ``str`` (exactly, not a subclass) as
        its UTF-8, ``key.encode()``? True on the raw codec (the usual for ``key_type=str``):
        a compiled loop asks once and encodes such keys itself, and hands every other key
        (bytes, None, a str subclass, ...) to the dumper."""
        return self._key_text

    def value_dumper(self) -> Dumper:
        """``value -> bytes`` for this topic, as :meth:`send` encodes values."""
        return self._dump_value

    def key_loader(self) -> Loader:
        """``bytes -> key`` for this topic (chosen once; see ``faust.serializers.schemas``)."""
        return self.schema.key_loader()

    def value_loader(self, *, fields_only: bool = False) -> Loader:
        """``bytes -> value`` for this topic. ``fields_only``: the caller only reads a
        Record value's fields, so it may get an object with those attributes instead of
        the Record (see ``faust.serializers.schemas.make_loader``)."""
        return self.schema.value_loader(fields_only=fields_only)

    def value_decoder(self, *, fields_only: bool = False) -> tuple[Loader1, Failed]:
        """``(decode, failed)``: :meth:`value_loader` in two halves for a loop with its own
        ``try`` (see ``faust.serializers.schemas.make_decoder``): a compiled agent calls the
        generated decoder straight and turns what it raises into the loader's error."""
        return self.schema.value_decoder(fields_only=fields_only)

    def field_decoder(self, name: str) -> tuple[MessageDecode, MessageFailed]:
        """``(decode, failed)`` of messages for code that reads only the value's field
        ``name``, the field a ``group_by`` keyed them by: the field from the key when the
        keys are its text, else from the value (``faust.serializers.schemas.Schema.
        field_decoder``)."""
        return self.schema.field_decoder(name)

    def keys_check(self) -> KeysCheck:
        """``check(batch) -> bool``: every key of the batch decodes (see
        ``faust.serializers.schemas.make_keys_check``), for code that never reads keys."""
        return self.schema.keys_check()

    def key_batch_loader(self) -> BatchLoader:
        """``messages -> [key or DecodeFailed, ...]`` for a whole consumer batch."""
        return self.schema.key_batch_loader()

    def value_batch_loader(self) -> BatchLoader:
        """``messages -> [value or DecodeFailed, ...]`` for a whole consumer batch (see
        ``faust.serializers.schemas.make_batch_loader``)."""
        return self.schema.value_batch_loader()

    async def send(
        self,
        *,
        key: Any = None,
        value: Any = None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: list[tuple[str, bytes]] | None = None,
        callback: Callable[[FutureMessage], Any] | None = None,
    ) -> FutureMessage | None:
        """Encode and produce one record (does not wait for the broker's acknowledgement).

        With ``callback``, as in Faust: returns the record's :class:`FutureMessage`, which
        the broker's acknowledgement resolves with its ``RecordMetadata``, and then calls
        ``callback(fut)`` (``faust.delivery``). Without one, returns None: the worker's
        commit waits for every record it sent.
        """
        return self.send_soon(
            key=key,
            value=value,
            partition=partition,
            timestamp=timestamp,
            headers=headers,
            callback=callback,
        )

    def send_soon(
        self,
        *,
        key: Any = None,
        value: Any = None,
        partition: int | None = None,
        timestamp: float | None = None,
        headers: list[tuple[str, bytes]] | None = None,
        callback: Callable[[FutureMessage], Any] | None = None,
    ) -> FutureMessage | None:
        """Like :meth:`send`, callable without ``await``."""
        if callback is not None:
            return self._send_reported(key, value, partition, timestamp, headers, callback)
        self.app.send_raw(
            self.get_topic_name(),
            self._dump_key(key),
            self._dump_value(value),
            partition=partition,
            timestamp=timestamp,
            headers=headers,
        )
        return None

    def _send_reported(
        self,
        key: Any,
        value: Any,
        partition: int | None,
        timestamp: float | None,
        headers: list[tuple[str, bytes]] | None,
        callback: Callable[[FutureMessage], Any],
    ) -> FutureMessage:
        topic = self.get_topic_name()
        future = FutureMessage(
            PendingMessage(self, key, value, partition, timestamp, headers, callback, topic)
        )
        self.app.send_reported(
            topic,
            self._dump_key(key),
            self._dump_value(value),
            future.delivered,
            partition=partition,
            timestamp=timestamp,
            headers=headers,
        )
        return future

    def stream(self) -> Stream[VT]:
        """A stream over this topic (for ``app.stream`` and tests)."""
        from faust.streams import Stream

        return Stream(self)

    def __repr__(self) -> str:
        return f"<Topic: {', '.join(self.topics)}>"
