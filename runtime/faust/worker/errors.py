"""Error policies: what happens to a message whose decoding or processing raised.

Every agent has one (the App's ``error_policy`` unless ``@app.agent(..., error_policy=)``
names its own). It applies alike to a key or value that fails to decode and to an exception
raised by the agent's body, compiled or not:

- ``fail`` (default): stop the worker; offsets are not committed past the message.
- ``skip``: log the message's topic/partition/offset, the agent and the user's source line
  (``app.py:31``), count it (``policy.skipped``), and go on.
- ``dead-letter``: send the original key, value and headers to the dead-letter topic (the
  agent's ``dead_letter_topic=``, else the App's ``dead_letter_topic``, by default
  ``<topic>-dlq``) with headers naming the error, the agent, the source line and the
  source topic, partition and offset; count it (``policy.dead_lettered``), log it, go on.

Errors that no message caused (a table not co-partitioned with its source, a transaction
the broker refused, a lost delivery) stop the worker whatever the policy. Example::

    policy = ErrorPolicy("skip", app, user_file="shop.py")
    policy.handle(exc, message, agent="shop.process", where="shop.py:21")   # logs, returns
"""

from __future__ import annotations

import logging
import os
import re
import traceback
import types
from typing import TYPE_CHECKING

from faust.contract import dead_letter_topic_name, source_line
from faust.events import TransportMessage
from faust.exceptions import (
    DecodeError,
    DeliveryError,
    FaustError,
    ImproperlyConfigured,
    TransactionFailed,
)
from faust.worker.sensors import DEAD_LETTERS, current_agent

if TYPE_CHECKING:
    from faust.app import App

log = logging.getLogger("faust.errors")

#: errors about the worker, not the message: they stop it under every policy
FATAL_ERRORS = (ImproperlyConfigured, TransactionFailed, DeliveryError)

#: where an error happened, as ``app.py:14``
_WHERE = re.compile(r"[^\s:]+\.py:\d+\Z")


class AgentFailure(FaustError):
    """The error policy stopped the worker; the original exception is ``__cause__``."""


class ErrorPolicy:
    """One agent's policy (see the module docstring)."""

    def __init__(
        self,
        mode: str,
        app: App,
        *,
        dead_letter_topic: str | None = None,
        user_file: str | None = None,
        user_line: int | None = None,
        generated_file: str | None = None,
    ) -> None:
        self.mode = mode
        self.app = app
        #: the topic name, or a template with ``{topic}`` (the source topic)
        self.dead_letter_topic = dead_letter_topic or app.conf.dead_letter_topic
        #: the file of the agent's own source, and of the compiled worker running it
        self.user_file = user_file
        self.generated_file = generated_file
        #: where a message that fails to decode is cited, when the stream knows no line
        self.agent_line = (
            f"{os.path.basename(user_file)}:{user_line}" if user_file and user_line else None
        )
        self.skipped = 0
        self.dead_lettered = 0
        self.decode_errors = 0
        self.agent_errors = 0

    def handle(self, exc: BaseException, message: TransportMessage, agent: str, where: str) -> None:
        """Apply the policy: return to go on with the next message, raise to stop."""
        if isinstance(exc, AgentFailure):
            raise exc
        topic, partition, offset = message.topic() or "", message.partition(), message.offset()
        if isinstance(exc, DecodeError):
            self.decode_errors += 1
            if exc.topic is None:
                exc.topic, exc.partition, exc.offset = topic, partition, offset
            if self.agent_line is not None and not _WHERE.match(where):
                where = self.agent_line
        else:
            self.agent_errors += 1
            where = self.source_line(exc, where)
        context = f"agent {agent} ({where}) on {topic}[{partition}]@{offset}"
        reason = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, FATAL_ERRORS):
            raise AgentFailure(f"{context}: {reason}") from exc
        if self.mode == "skip":
            self.skipped += 1
            log.warning("skipped message: %s: %s", context, reason)
            return
        if self.mode == "dead-letter":
            dead_letter = dead_letter_topic_name(topic, self.dead_letter_topic)
            headers = list(message.headers() or ())
            headers += [
                ("faust.error", reason.encode()),
                ("faust.error.traceback", "".join(traceback.format_exception(exc)).encode()),
                ("faust.agent", agent.encode()),
                ("faust.source", where.encode()),
                ("faust.topic", topic.encode()),
                ("faust.partition", str(partition).encode()),
                ("faust.offset", str(offset).encode()),
            ]
            token = current_agent.set(DEAD_LETTERS)  # counted apart from the agent's outputs
            try:
                self.app.send_raw(dead_letter, message.key(), message.value(), headers=headers)
            finally:
                current_agent.reset(token)
            self.dead_lettered += 1
            log.warning("dead-lettered message to %s: %s: %s", dead_letter, context, reason)
            return
        raise AgentFailure(f"{context}: {reason}") from exc

    def source_line(self, exc: BaseException, where: str) -> str:
        """``file.py:line`` of the user's code that raised ``exc``, else ``where``.

        The innermost frame in the agent's own file wins (the exact line, compiled or not);
        a frame in a compiled worker is mapped back through the worker's line table
        (``SOURCE_LINES``, :func:`faust.contract.source_line`).
        """
        frames: list[types.TracebackType] = []
        tb = exc.__traceback__
        while tb is not None:
            frames.append(tb)
            tb = tb.tb_next
        for frame in reversed(frames):
            filename, lineno = frame.tb_frame.f_code.co_filename, frame.tb_lineno
            if self.user_file is not None and filename == self.user_file:
                return f"{os.path.basename(filename)}:{lineno}"
            if self.generated_file is not None and filename == self.generated_file:
                table = frame.tb_frame.f_globals.get("SOURCE_LINES")
                line = source_line(table, lineno) if table else None
                if line is not None and self.user_file is not None:
                    return f"{os.path.basename(self.user_file)}:{line}"
        return where

    def summary(self) -> str:
        return (
            f"{self.decode_errors} decode error(s), {self.agent_errors} agent error(s): "
            f"{self.skipped} skipped, {self.dead_lettered} dead-lettered"
        )
