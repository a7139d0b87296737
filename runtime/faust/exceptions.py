"""Exceptions raised by the Faust runtime.

Every error that can reach a user names what went wrong and where, e.g.::

    raise ValueDecodeError("expected JSON", topic="orders", partition=2, offset=41)
"""

from __future__ import annotations

import sys
from types import TracebackType


class FaustError(Exception):
    """Base class of every error the runtime raises on purpose."""


class SameNode(FaustError):
    """``app.router.route_req``: the key's partition is held by this worker (answer here)."""


class ImproperlyConfigured(FaustError):
    """An App setting or declaration is wrong (the message says which)."""


class BrokerUnavailable(FaustError):
    """The Kafka cluster could not be reached; the message names the bootstrap servers."""


class CredentialsRefused(BrokerUnavailable):
    """The brokers refused the credentials, the TLS handshake failed, or the SASL mechanism
    is not offered: retrying cannot help, so the worker stops (the message names the cause,
    never a secret)."""


class NotAuthorized(FaustError):
    """The cluster's ACLs deny the app an operation (a topic, its group, transactions)."""


class DecodeError(FaustError):
    """A message key or value could not be decoded.

    ``record`` names the type the bytes were meant to become (``"shop.Order"``) and
    ``reason`` what was wrong with them. ``topic``, ``partition`` and ``offset`` are filled
    in by the worker when the failing bytes came from Kafka, so the error names the exact
    record::

        cannot decode value as shop.Order with the json codec: field 'amount': expected
        float, got str (topic=orders partition=2 offset=41)
    """

    def __init__(
        self,
        reason: str,
        *,
        topic: str | None = None,
        partition: int | None = None,
        offset: int | None = None,
        record: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.record = record

    def __str__(self) -> str:
        if self.topic is None:
            return self.reason
        return f"{self.reason} (topic={self.topic} partition={self.partition} offset={self.offset})"


class KeyDecodeError(DecodeError):
    """The message key could not be decoded."""


class ValueDecodeError(DecodeError):
    """The message value could not be decoded."""


class ValidationError(FaustError):
    """A Record failed validation.

    One failing field is ``ValidationError("must be >= 0 (got -1)", field="amount")``;
    ``validate_or_raise`` raises one that lists every failing field in ``errors``::

        shop.Order: 2 invalid fields: amount: must be >= 0 (got -1); name: ...
    """

    def __init__(
        self,
        reason: str = "",
        *,
        field: str | None = None,
        model: str | None = None,
        errors: list[ValidationError] | None = None,
    ) -> None:
        self.reason = reason
        self.field = field
        self.model = model
        self.errors: list[ValidationError] = list(errors) if errors else []
        super().__init__(self._message())

    def _message(self) -> str:
        if self.errors:
            count = len(self.errors)
            head = f"{self.model}: " if self.model else ""
            listed = "; ".join(str(error) for error in self.errors)
            return f"{head}{count} invalid field{'s' if count != 1 else ''}: {listed}"
        if self.field is not None:
            return f"{self.field}: {self.reason}"
        return self.reason

    def __str__(self) -> str:
        return self._message()


class DeliveryError(FaustError):
    """Kafka refused or lost a produced record; offsets are not committed past it."""


class TransactionFailed(FaustError):
    """A Kafka transaction could not be committed (or the producer was fenced by a newer
    worker with the same transactional id); nothing of it is visible to read_committed
    consumers and the worker stops, to restart from the last committed transaction."""


class AssignmentLost(FaustError):
    """The group no longer counts this worker as a member of the generation that owns its
    partitions (its session expired during a broker stall or a long pause, or a rebalance
    moved on without it), so a commit of their offsets was refused (UNKNOWN_MEMBER_ID,
    ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS...). Not fatal, as Kafka Streams'
    TaskMigratedException is not: the worker drops what the lost partitions hold
    uncommitted, rejoins, and resumes where their tables really are."""


class StoreFailed(FaustError):
    """The worker's state could not be stored: a RocksDB table could not be written or
    opened, or the data directory (``--datadir``) could not be created or used (a full
    disk, a file-size limit, an I/O error, a path that is a file). The worker stops with
    one line naming the path and the reason, and commits no offset past what was not
    stored."""


def os_reason(exc: OSError) -> str:
    """An OSError as a user reads it: ``Not a directory: 'app-data/tables'``."""
    reason = exc.strerror or str(exc)
    return f"{reason}: {exc.filename!r}" if exc.filename else reason


class PartitionsMismatch(ImproperlyConfigured):
    """A table's changelog is not co-partitioned with the topic that writes it."""


class UnknownSerializer(ImproperlyConfigured, KeyError):
    """No codec is registered under a serializer name (a topic's, a table's, or the
    ``key_serializer``/``value_serializer`` setting); a KeyError too, as in Faust."""

    def __str__(self) -> str:  # the message itself, not KeyError's repr of it
        return str(self.args[0]) if self.args else ""


class StateDirectoryLocked(ImproperlyConfigured):
    """Another worker process uses the same data directory (``--datadir``)."""


def report_configuration_errors() -> None:
    """Make an uncaught ImproperlyConfigured one line on stderr (exit status 1).

    A Faust app declares its App and topics at import, so ``python app.py worker`` with a
    wrong setting (``faust.App(...)``, a ``FAUST_*`` variable) fails before any command
    line code runs: this hook turns that traceback into ``error: <message>``, the same line
    a built worker prints. Every other exception keeps the previous hook (the traceback).
    """
    previous = sys.excepthook
    if getattr(previous, "_faust_hook", False):
        return

    def hook(
        kind: type[BaseException], error: BaseException, traceback: TracebackType | None
    ) -> None:
        if isinstance(error, ImproperlyConfigured):
            print(f"error: {error}", file=sys.stderr)
        else:
            previous(kind, error, traceback)

    hook._faust_hook = True  # type: ignore[attr-defined]
    sys.excepthook = hook
