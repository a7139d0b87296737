"""Error policies: what happens to a message whose decoding or processing raised.

- ``fail`` (default): stop the worker; offsets are not committed past the message.
- ``skip``: log the message's topic/partition/offset, the agent and the user's source line,
  count it, and go on.
- ``dead-letter``: send the original key, value and headers to ``<topic>-dlq`` with headers
  naming the error, the agent and the source position, and go on.

Example::

    policy = ErrorPolicy("skip", app)
    policy.handle(exc, message, agent="shop.process", where="shop.py:21")   # logs, returns
"""

from __future__ import annotations

import logging
import traceback
from typing import TYPE_CHECKING

from faust.events import TransportMessage
from faust.exceptions import DecodeError, FaustError

if TYPE_CHECKING:
    from faust.app import App

log = logging.getLogger("faust.errors")


class AgentFailure(FaustError):
    """The error policy stopped the worker; the original exception is ``__cause__``."""


def dead_letter_topic_for(topic: str) -> str:
    return f"{topic}-dlq"


class ErrorPolicy:
    """One agent's policy (the App's ``error_policy`` unless the agent names its own)."""

    def __init__(self, mode: str, app: App) -> None:
        self.mode = mode
        self.app = app
        self.skipped = 0
        self.dead_lettered = 0

    def handle(self, exc: BaseException, message: TransportMessage, agent: str, where: str) -> None:
        """Apply the policy: return to go on with the next message, raise to stop."""
        if isinstance(exc, AgentFailure):
            raise exc
        topic, partition, offset = message.topic() or "", message.partition(), message.offset()
        if isinstance(exc, DecodeError) and exc.topic is None:
            exc.topic, exc.partition, exc.offset = topic, partition, offset
        context = f"agent {agent} ({where}) on {topic}[{partition}]@{offset}"
        reason = f"{type(exc).__name__}: {exc}"
        if self.mode == "skip":
            self.skipped += 1
            log.warning("skipped message: %s: %s", context, reason)
            return
        if self.mode == "dead-letter":
            dead_letter = dead_letter_topic_for(topic)
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
            self.app.send_raw(dead_letter, message.key(), message.value(), headers=headers)
            self.dead_lettered += 1
            log.warning("dead-lettered message to %s: %s: %s", dead_letter, context, reason)
            return
        raise AgentFailure(f"{context}: {reason}") from exc
