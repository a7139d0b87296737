"""Faust, the API and a minimal runtime: write stream processors as typed async agents.

Example::

    import faust

    app = faust.App("shop", broker="kafka://localhost:9092")

    class Order(faust.Record):
        account_id: str
        amount: float

    orders = app.topic("orders", value_type=Order)

    @app.agent(orders)
    async def process(stream: faust.Stream[Order]) -> None:
        async for order in stream.filter(lambda o: o.amount > 1000):
            print(order.account_id)

Run it as written with ``python shop.py worker``, or compile it with ``faustc build shop.py``.
"""

from faust._conflicts import refuse_other_faust

refuse_other_faust()  # faust-streaming installs a `faust` package too: never mix them

# the rest of the package, after the check above

import uuid as _uuid

from faust import auth, web
from faust.agents import Agent
from faust.app import App
from faust.auth import GSSAPICredentials, OAuthCredentials, SASLCredentials, SSLCredentials
from faust.channels import Channel
from faust.events import Event, current_event
from faust.exceptions import (
    DecodeError,
    FaustError,
    ImproperlyConfigured,
    KeyDecodeError,
    ValidationError,
    ValueDecodeError,
    report_configuration_errors,
)
from faust.models import fields
from faust.models.fields import (
    BooleanField,
    BytesField,
    DatetimeField,
    DecimalField,
    FieldDescriptor,
    FloatField,
    IntegerField,
    StringField,
)
from faust.models.record import Record, maybe_model
from faust.sensors import Monitor, Sensor
from faust.serializers.codecs import Codec
from faust.serializers.schemas import Schema
from faust.services import Service
from faust.streams import Stream
from faust.tables import GlobalTable, SetGlobalTable, SetTable, Table
from faust.topics import Topic
from faust.types import ChannelT, EventT, StreamT, TopicT
from faust.windows import HoppingWindow, SlidingWindow, TumblingWindow, Window

__version__ = "0.1.0"


def uuid() -> str:
    """A random UUID as text (Faust's ``faust.uuid()``), e.g. to give a request an id."""
    return str(_uuid.uuid4())


# an app's wrong setting fails at import: one line, not a traceback
report_configuration_errors()

__all__ = [
    "Agent",
    "App",
    "BooleanField",
    "BytesField",
    "Channel",
    "ChannelT",
    "Codec",
    "DatetimeField",
    "DecimalField",
    "DecodeError",
    "Event",
    "EventT",
    "FaustError",
    "FieldDescriptor",
    "FloatField",
    "GSSAPICredentials",
    "GlobalTable",
    "HoppingWindow",
    "ImproperlyConfigured",
    "IntegerField",
    "KeyDecodeError",
    "Monitor",
    "OAuthCredentials",
    "Record",
    "SASLCredentials",
    "SSLCredentials",
    "Schema",
    "Sensor",
    "Service",
    "SetGlobalTable",
    "SetTable",
    "SlidingWindow",
    "Stream",
    "StreamT",
    "StringField",
    "Table",
    "Topic",
    "TopicT",
    "TumblingWindow",
    "ValidationError",
    "ValueDecodeError",
    "Window",
    "auth",
    "current_event",
    "fields",
    "maybe_model",
    "uuid",
    "web",
]
