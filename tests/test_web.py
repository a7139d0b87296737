"""The web server's parts in one process: Faust's view API over real HTTP, the settings
and flags, Faust's sensors and signals on the memory transport, and what a worker
installs when nobody asks (nothing per message). tests/test_web_on_kafka.py runs the
whole of it against the real broker."""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

import faust
from faust.exceptions import ImproperlyConfigured
from faust.transport.memory import MemoryTransport
from faust.web import Request, Response, View
from faust.web.metrics import WorkerMetrics
from faust.web.server import WebServer
from faust.worker import Worker
from faust.worker.app_hooks import AppHooks
from faust.worker.sensors import SensedProducer, Sensor, Sensors, current_agent

_ids = itertools.count()


def fetch(url: str, method: str = "GET", body: bytes | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, raw, kind = response.status, response.read(), response.headers["Content-Type"]
    except urllib.error.HTTPError as error:
        status, raw, kind = error.code, error.read(), error.headers["Content-Type"]
    if "json" in (kind or ""):
        return status, json.loads(raw)
    return status, raw.decode()


def new_app(**settings: Any) -> tuple[faust.App, MemoryTransport]:
    name = f"web-{next(_ids)}"
    app = faust.App(name, broker=f"memory://{name}", web_port=0, web_bind="127.0.0.1", **settings)
    return app, MemoryTransport.named(name)


async def served(app: faust.App, worker: Worker, *requests: tuple[str, str]) -> list[Any]:
    """Start the app's web server, make ``requests`` (method, path) over HTTP, stop it."""
    server = WebServer(app, worker, None)
    await server.start()
    loop = asyncio.get_running_loop()
    base = f"http://127.0.0.1:{app.conf.web_port}"
    try:
        return [
            await loop.run_in_executor(None, fetch, base + path, method)
            for method, path in requests
        ]
    finally:
        await server.stop()


def test_pages_answer_with_faust_s_view_api() -> None:
    app, transport = new_app()

    @app.page("/hello/{name}/")
    async def hello(self: View, request: Request, name: str) -> Response:
        return self.json({"hello": name, "method": request.method})

    @app.page("/items/")
    class Items(View):
        async def get(self, request: Request, **params: Any) -> Response:
            return self.json({"items": sorted(request.query)})

        async def delete(self, request: Request, **params: Any) -> Response:
            return self.notfound("no such item", item=request.query.get("id"))

    @app.page("/text/", name="plain")
    async def text(self: View, request: Request) -> Response:
        return self.text("plain words")

    assert Items.view_path == "/items/" and text.view_name == "plain"
    assert app.web.views["/hello/{name}/"].view_name == "hello"
    worker = Worker(app, transport=transport)
    answers = asyncio.run(
        served(
            app,
            worker,
            ("GET", "/hello/ann/"),
            ("PUT", "/hello/bob/"),
            ("GET", "/items/?b=1&a=2"),
            ("DELETE", "/items/?id=7"),
            ("POST", "/items/"),
            ("GET", "/text/"),
            ("GET", "/missing/"),
        )
    )
    assert answers == [
        (200, {"hello": "ann", "method": "GET"}),
        (200, {"hello": "bob", "method": "PUT"}),
        (200, {"items": ["a", "b"]}),
        (404, {"error": "no such item", "item": "7"}),
        (405, {"error": "POST is not allowed here"}),
        (200, "plain words"),
        (404, "404: Not Found"),
    ]


def test_page_declarations_are_checked() -> None:
    app, _ = new_app()
    with pytest.raises(TypeError, match="async def or a View subclass"):
        app.page("/sync/")(lambda self, request: None)
    with pytest.raises(TypeError, match=r"must subclass faust\.web\.View"):
        app.page("/class/")(type("NotAView", (), {}))
    with pytest.raises(ValueError, match="starts with '/'"):
        app.page("relative/")(View)

    @app.page("/twice/")
    async def first(self: View, request: Request) -> Response:
        return self.json(1)

    with pytest.raises(ValueError, match="two pages are served at '/twice/'"):
        app.page("/twice/")(first)


def test_health_and_ready_before_and_after_the_worker_runs() -> None:
    app, transport = new_app()
    numbers = app.topic("numbers", value_type=int, partitions=2)

    @app.agent(numbers)
    async def take(stream: faust.Stream[int]) -> None:
        async for _ in stream:
            pass

    transport.broker.create_topic("numbers", 2)
    worker = Worker(app, transport=transport, stop_when_idle=True)
    before = asyncio.run(served(app, worker, ("GET", "/health"), ("GET", "/ready")))
    assert before == [
        (200, {"status": "ok"}),
        (503, {"status": "not ready", "reason": "the worker is starting"}),
    ]
    asyncio.run(worker.run())
    assert worker.readiness() is None  # assigned, no tables: ready (it stopped when idle)
    assert worker.health(stalled_after=3600) is None
    assert worker.health(stalled_after=-1) is not None  # a loop that stopped going round


def test_web_settings_from_the_app_the_environment_and_their_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = faust.App("web-settings", broker="memory://web-settings")
    assert (app.conf.web_enabled, app.conf.web_port, app.conf.web_bind) == (True, 6066, "0.0.0.0")
    assert app.conf.web_host == socket.gethostname()
    monkeypatch.setenv("FAUST_WEB_PORT", "8080")
    monkeypatch.setenv("FAUST_WEB_HOST", "worker-1.example.com")
    monkeypatch.setenv("FAUST_WEB_ENABLED", "false")
    app = faust.App("web-settings", broker="memory://web-settings")
    assert (app.conf.web_port, app.conf.web_enabled) == (8080, False)
    assert app.web.url == "http://worker-1.example.com:8080/"
    monkeypatch.setenv("FAUST_WEB_PORT", "70000")
    with pytest.raises(ImproperlyConfigured, match="web_port must be a port number, not 70000"):
        faust.App("web-settings", broker="memory://web-settings")


APP_WITH_A_PAGE = """
import faust

app = faust.App("web-cli", broker="kafka://127.0.0.1:1")

@app.page("/x/")
async def x(self, request):
    return self.json(1)

if __name__ == "__main__":
    app.main()
"""


def test_a_port_in_use_is_one_line_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "web_cli.py").write_text(APP_WITH_A_PAGE)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "web_cli.py",
                "worker",
                "--web-port",
                str(port),
                "--web-bind",
                "127.0.0.1",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: cannot serve the web server on 127.0.0.1:{port}: address already in use "
        "(another worker on this host? give each its own --web-port, or --without-web)"
    )
    assert "Traceback" not in result.stderr


def test_without_web_serves_nothing(tmp_path: Path) -> None:
    """``--without-web``: the worker goes on to the broker (unreachable here: one line)."""
    (tmp_path / "web_cli.py").write_text(APP_WITH_A_PAGE)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "web_cli.py", "worker", "--without-web", "--web-port", str(port)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            env={"FAUST_BROKER_CONNECT_TIMEOUT": "1", "PATH": "/usr/bin:/bin"},
        )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "web server" not in last
    assert "cannot reach" in last or "unreachable" in last or "broker" in last


class CommitsOnly(faust.Sensor):
    def __init__(self) -> None:
        self.completed = 0

    def on_commit_completed(self, consumer: Any, state: Any) -> None:
        self.completed += 1


def run_numbers(app: faust.App, transport: MemoryTransport, **worker_options: Any) -> Worker:
    numbers = app.topic("numbers", value_type=int, partitions=2)
    out = app.topic("out", value_type=int, partitions=2)

    @app.agent(numbers)
    async def double(stream: faust.Stream[int]) -> None:
        async for number in stream:
            await out.send(value=number * 2)

    transport.broker.create_topic("numbers", 2)
    for number in range(9):
        transport.broker.append("numbers", None, str(number).encode(), partition=number % 2)
    worker = Worker(app, transport=transport, stop_when_idle=True, **worker_options)
    lent: list[Any] = []

    @app.on_startup.connect
    async def remember(sender: Any, **kwargs: Any) -> None:
        assert sender.running is not None
        lent.append(sender.running.producer)

    asyncio.run(worker.run())
    worker.lent_producer = lent[0]  # type: ignore[attr-defined]
    return worker


def test_nothing_per_message_unless_a_sensor_asks() -> None:
    # no sensor, no receiver: no hooks, the producer lent is the worker's own
    app, transport = new_app()
    worker = run_numbers(app, transport)
    assert AppHooks.for_app(app) is None
    assert worker.sensor is None and worker.hooks is None
    assert not isinstance(worker.lent_producer, SensedProducer)  # type: ignore[attr-defined]

    # a sensor of commits only: told of commits, nothing per message or per send
    app, transport = new_app()
    commits = CommitsOnly()
    app.sensors.add(commits)
    worker = run_numbers(app, transport)
    hooks = worker.hooks
    assert hooks is not None and not hooks.wants_sends
    assert not (hooks._message_in or hooks._message_out or hooks._event_in or hooks._event_out)
    assert not isinstance(worker.lent_producer, SensedProducer)  # type: ignore[attr-defined]
    assert commits.completed >= 1

    # the metrics count sends: the app gets a producer that reports them
    app, transport = new_app()
    metrics = WorkerMetrics(app)
    worker = run_numbers(app, transport, sensors=[metrics])
    assert isinstance(worker.lent_producer, SensedProducer)  # type: ignore[attr-defined]
    assert metrics.sent == {(f"{__name__}.run_numbers.<locals>.double", "out"): 9}


class SendsSeen(Sensor):
    """A sensor told of each send (not one that only counts)."""

    wants_sends = True

    def __init__(self) -> None:
        self.sends: list[tuple[str | None, str, bytes | None]] = []

    def on_send(self, agent: str | None, topic: str, key: Any, value: Any) -> None:
        self.sends.append((agent, topic, key))


@pytest.mark.parametrize("way", ["direct", "counting"])
@pytest.mark.parametrize("with_other_sensor", [False, True])
def test_the_metrics_count_what_compiled_agents_produce(with_other_sensor: bool, way: str) -> None:
    """The produce compiled agents bind (``counting_direct``, the loop adding each record
    to its cell) and ``direct`` (each record reported): with the metrics as the only
    sensor that wants sends, the loop's cells are the metrics' own and the produce is the
    client's; with another such sensor every sensor's on_send is called and the cells are
    read by nobody. The same counts every way, every record produced with its headers."""
    app, transport = new_app()
    transport.broker.create_topic("out", 1)
    transport.broker.create_topic("other", 1)
    metrics, other = WorkerMetrics(app), SendsSeen()
    sensor = Sensors([metrics, other]) if with_other_sensor else metrics
    assert (sensor.send_cells("x") is None) is with_other_sensor
    client = transport.producer()
    producer = SensedProducer(client, sensor)
    sends = (("a", "out", b"1"), ("b", "out", b"2"), ("a", "out", b"3"), ("a", "other", b"4"))
    for agent, topic, key in sends:
        token = current_agent.set(agent)
        try:  # a compiled agent binds them in its task
            if way == "counting":
                produce, _retry, cell = producer.counting_direct()
            else:
                produce, _retry = producer.direct()
        finally:
            current_agent.reset(token)
        if way == "counting":
            cell("never")  # bound, never added to: not shown
            own = not with_other_sensor
            # the client's own produce: no frame of the sensor's a record
            assert (produce.__qualname__ == client.direct()[0].__qualname__) is own
            assert (cell(topic) is cell(topic)) is own  # one cell per agent and topic
        produce(topic, b"v", key, headers=[("h", key)] if key == b"2" else None)
        if way == "counting":
            cell(topic)[0] += 1  # what the generated loop does once produce returned
    producer.flush(1.0)
    assert metrics.sent == {("a", "out"): 2, ("b", "out"): 1, ("a", "other"): 1}
    assert other.sends == ([(a, t, k) for a, t, k in sends] if with_other_sensor else [])
    assert [(m.key(), m.headers()) for m in transport.broker.topics["out"][0]] == [
        (b"1", None),
        (b"2", [("h", b"2")]),
        (b"3", None),
    ]
    rendered = metrics.render()
    assert b'faust_agent_messages_out_total{agent="a",topic="out"} 2.0' in rendered
    assert b'faust_agent_messages_out_total{agent="a",topic="other"} 1.0' in rendered
    assert b'faust_sent_records_total{topic="out"} 3.0' in rendered


def test_the_monitor_and_signals_on_the_memory_transport() -> None:
    app, transport = new_app()
    monitor = app.monitor
    assert list(app.sensors) == [monitor] and app.monitor is monitor
    told: list[str] = []

    @app.on_partitions_assigned.connect
    async def assigned(sender: Any, assigned: set[Any], **kwargs: Any) -> None:
        told.append(f"assigned {len(assigned)}")

    @app.on_rebalance_complete.connect
    def complete(sender: Any, signal: Any, **kwargs: Any) -> None:  # a plain function works
        told.append(f"complete via {signal.name}")

    @app.on_worker_init.connect
    def init(sender: Any, **kwargs: Any) -> None:
        told.append(f"init {sender.id}")

    app.on_worker_init.connect(init)  # connected once only
    run_numbers(app, transport)
    assert told == [f"init {app.id}", "assigned 2", "complete via on_rebalance_complete"]
    state = monitor.asdict()
    assert state["messages_received_total"] == 9
    assert state["messages_received_by_topic"] == {"numbers": 9}
    assert state["events_by_stream"] == {f"{__name__}.run_numbers.<locals>.double": 9}
    assert state["messages_sent_by_topic"] == {"out": 9}
    assert state["messages_active"] == state["events_active"] == 0
    assert state["topic_committed_offsets"] == {"numbers": {0: 5, 1: 4}}
    assert state["rebalances"] == 1
    app.on_worker_init.disconnect(init)
    assert not app.on_worker_init
