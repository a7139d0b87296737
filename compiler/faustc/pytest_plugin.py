"""The pytest plugin installed with faustc (entry point ``pytest11``: ``faustc``).

It gives a test suite of a Faust app what it needs and nothing else:

- ``faustc_driver``: a factory fixture, ``faustc_driver("shop/app.py", compiled=True,
  **options)`` starts a :class:`faustc.testing.TestDriver` (a relative path is looked up
  from the current directory, then from pytest's root directory) and closes it after
  the test;
- ``async def`` tests and fixtures (plain and ``yield`` ones, of any scope), run on one
  event loop for the session, and ``@pytest.mark.asyncio`` and the ``event_loop``
  fixture that Faust's testing guide uses, when pytest-asyncio is not installed. When
  it is, this plugin leaves async tests to it; tests marked ``@pytest.mark.anyio`` are
  anyio's plugin's. Example::

    async def test_counts(app):                      # no other plugin needed
        async with count_words.test_context() as agent:
            await agent.put("faust")

    def test_built(faustc_driver):
        driver = faustc_driver("examples/wordcount.py")
        driver.send("words", key="faust", value="faust")
        driver.run()

The module imports pytest and the standard library only; the compiler is imported when a
test asks for ``faustc_driver``.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from faustc.testing import TestDriver

ASYNC_PLUGIN = "asyncio"  # pytest-asyncio's plugin name


def pytest_addoption(parser: pytest.Parser) -> None:
    if importlib.util.find_spec("pytest_asyncio") is None:
        # Faust's guide sets it in pytest.ini; without pytest-asyncio it would be unknown
        parser.addini(
            "asyncio_mode",
            "accepted for pytest-asyncio's sake (faustc runs every async test)",
            default="auto",
        )


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin(ASYNC_PLUGIN):
        config.addinivalue_line("markers", "asyncio: run this async test in an event loop")
        config.pluginmanager.register(AsyncSupport(), "faustc-async")


@pytest.fixture
def faustc_driver(request: pytest.FixtureRequest) -> Iterator[Callable[..., TestDriver]]:
    """``faustc_driver(app_file, **options)``: a started TestDriver, closed after the test."""
    drivers: list[TestDriver] = []

    def start(app_file: str | Path, **options: Any) -> TestDriver:
        from faustc.launcher import COMPILER, missing

        lacking = missing(COMPILER)
        if lacking:
            pytest.fail(
                f"faustc_driver builds the app and needs the compiler ({', '.join(lacking)} "
                "not installed): pip install 'faustc[compiler]'",
                pytrace=False,
            )
        from faustc.testing import TestDriver

        path = Path(app_file)
        if not path.is_absolute() and not path.exists():
            path = request.config.rootpath / path
        driver = TestDriver(path, **options).start()
        drivers.append(driver)
        return driver

    yield start
    for driver in reversed(drivers):
        driver.close()


class AsyncSupport:
    """``async def`` tests and fixtures on one event loop (registered only when
    pytest-asyncio is not)."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None or self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
        return self._loop

    @pytest.fixture
    def event_loop(self) -> asyncio.AbstractEventLoop:
        """The loop async tests run on (pytest-asyncio's fixture of that name)."""
        return self.loop

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> bool | None:
        test = pyfuncitem.obj
        if not inspect.iscoroutinefunction(test) or "anyio_backend" in pyfuncitem.fixturenames:
            return None  # not async, or anyio's plugin runs it (@pytest.mark.anyio)
        names = pyfuncitem._fixtureinfo.argnames
        self.loop.run_until_complete(test(**{name: pyfuncitem.funcargs[name] for name in names}))
        return True

    @pytest.hookimpl(hookwrapper=True)
    def pytest_fixture_setup(
        self, fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
    ) -> Iterator[None]:
        func = fixturedef.func
        if "anyio_backend" in request.fixturenames:  # anyio's plugin runs these
            yield
            return
        if inspect.iscoroutinefunction(func):
            fixturedef.func = self._coroutine_fixture(func)  # type: ignore[misc]
        elif inspect.isasyncgenfunction(func):
            fixturedef.func = self._generator_fixture(func, request)  # type: ignore[misc]
        try:
            yield
        finally:
            fixturedef.func = func  # type: ignore[misc]

    def _coroutine_fixture(self, func: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            return self.loop.run_until_complete(func(*args, **kwargs))

        return run

    def _generator_fixture(
        self, func: Callable[..., Any], request: pytest.FixtureRequest
    ) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            generator = func(*args, **kwargs)
            value = self.loop.run_until_complete(generator.__anext__())

            def finish() -> None:
                try:
                    self.loop.run_until_complete(generator.__anext__())
                except StopAsyncIteration:
                    return
                raise ValueError(f"async fixture {func.__name__} yielded more than once")

            request.addfinalizer(finish)
            return value

        return run

    def pytest_unconfigure(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.close()
