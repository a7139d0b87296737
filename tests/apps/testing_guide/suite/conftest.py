import asyncio
from unittest.mock import AsyncMock

import pytest

import myapp
from myapp import app as _app


@pytest.fixture()
async def app():
    # Bind the app to the event loop pytest-asyncio created for this test.
    _app.loop = asyncio.get_running_loop()
    _app.finalize()
    _app.conf.store = 'memory://'
    _app.flow_control.resume()
    return _app


@pytest.fixture()
def shipped(monkeypatch):
    """Keep the agent from reaching a real broker."""
    send = AsyncMock()
    monkeypatch.setattr(myapp.shipped_topic, 'send', send)
    return send


@pytest.fixture()
def warehouse(monkeypatch):
    """Keep the agent from calling the real service."""
    notify = AsyncMock()
    monkeypatch.setattr(myapp, 'notify_warehouse', notify)
    return notify
