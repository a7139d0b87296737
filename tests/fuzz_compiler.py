"""Fuzzing faustc's front end: every input gives exit 0, or exit 1 with a diagnostic.

The contract (issue 15): ``faustc check`` and ``faustc build`` on any file either succeed
(exit 0) or print a ``file:line:col: error:`` diagnostic about the file and exit 1, within a
bounded time; never a traceback, an internal error (exit 2), a crash or a hang. The inputs
are the example apps and the compat corpus's apps, mutated (lines deleted, duplicated,
swapped, truncated, tokens replaced, snippets and pathological shapes inserted, odd bytes
and encodings), and hand-made pathological shapes (``PATHOLOGICAL``).

The compiler runs in a child process (``--serve``), one input after another in-process, so
that a crash (a segmentation fault) or a hang is seen and only costs a restart. The suite
runs a small fixed-seed budget (``tests/test_fuzz_compiler.py``); a longer campaign::

    .venv/bin/python tests/fuzz_compiler.py --minutes 10 [--seed 1] [--keep fuzz-failures/]

prints what it ran and every input that broke the contract (saved under ``--keep``), and
exits 1 if any did.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import re
import select
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: one input may take this long (the largest module faustc accepts takes about 40 s of CPU
#: with mypy on this machine); longer is a hang
TIMEOUT = 150.0


def seed_apps() -> list[Path]:
    """Single-file apps to mutate: the examples, the compat corpus, the test apps."""
    found = [
        *sorted((REPO / "examples").glob("*.py")),
        *sorted((REPO / "tests" / "compat" / "apps").glob("*.py")),
        *sorted((REPO / "tests" / "apps").glob("*.py")),
    ]
    return [path for path in found if "faust" in path.read_text(encoding="utf-8")]


# -- pathological shapes ------------------------------------------------------------------

LOOP_LINE = "        word_counts_table[word] += 1"


def wordcount() -> str:
    return (REPO / "examples" / "wordcount.py").read_text(encoding="utf-8")


def in_module(expression: str) -> bytes:
    return f"{wordcount()}\nx = {expression}\n".encode()


def in_loop(statement: str) -> bytes:
    return wordcount().replace(LOOP_LINE, f"{LOOP_LINE}\n        {statement}").encode()


def _shapes() -> dict[str, bytes]:
    app = "import faust\napp = faust.App('a')\n"
    topic = "t = app.topic('t', value_type=str)\n"
    agent = "@app.agent(t)\nasync def process(stream: faust.Stream[str]) -> None:\n"
    loop = "    async for value in stream:\n        print(value)\n"
    shapes = {
        "parens-1500": in_module("(" * 1500 + "1" + ")" * 1500),
        "parens-199": in_module("(" * 199 + "1" + ")" * 199),
        "lists-200": in_module("[" * 200 + "]" * 200),
        "lists-150-in-loop": in_loop("y = " + "[" * 150 + "]" * 150),
        "calls-200": in_module("f(" * 200 + "1" + ")" * 200),
        "calls-120-in-loop": in_loop("y = " + "str(" * 120 + "1" + ")" * 120),
        "attribute-chain-300": in_module("app" + ".a" * 300),
        "attribute-chain-3000": in_module("app" + ".a" * 3000),
        "subscripts-nested-60": in_module("x[" * 60 + "0" + "]" * 60),
        "sum-300": in_module("+".join(["1"] * 300)),
        "sum-10000": in_module("+".join(["1"] * 10_000)),
        "sum-100000": in_module("+".join(["1"] * 100_000)),
        "and-10000": in_module(" and ".join(["1"] * 10_000)),
        "and-300-in-loop": in_loop("y = " + " and ".join(["word"] * 300)),
        "compare-10000": in_module(" < ".join(["1"] * 10_000)),
        "strings-10000": in_module(" ".join(['"a"'] * 10_000)),
        "strings-400": in_module(" ".join(['"a"'] * 400)),
        "not-190": in_module("not " * 190 + "1"),
        "lambdas-200": in_module("lambda: " * 200 + "1"),
        "ternary-300": in_module("1 if 1 else " * 300 + "1"),
        "list-100000": in_module("[" + ",".join(["1"] * 100_000) + "]"),
        "dict-20000": in_module("{" + ",".join(f"{i}: {i}" for i in range(20_000)) + "}"),
        "args-10000": in_module("f(" + ",".join(["1"] * 10_000) + ")"),
        "ifs-99": (
            wordcount()
            + "\n"
            + "".join("    " * depth + "if x:\n" for depth in range(99))
            + "    " * 99
            + "pass\n"
        ).encode(),
        "statements-30000": (wordcount() + "\n" + "x = 1\n" * 30_000).encode(),
        "yield-in-comprehension": in_loop("y = [(yield w) for w in word]"),
        "topic-twice": wordcount()
        .replace("word_counts_table = ", "words_topic = app.topic('other')\nword_counts_table = ")
        .encode(),
        "agent-twice": (wordcount() + "\n\n" + agent.replace("t)", "words_topic)") + loop)
        .replace("async def process", "async def count_words")
        .encode(),
        "agent-function-twice": (
            app
            + topic
            + (agent + loop).replace("(t)", "(t, name='one')")
            + (agent + loop).replace("(t)", "(t, name='two')")
        ).encode(),
        "record-twice": (
            app + "class R(faust.Record):\n    a: int\n\nclass R(faust.Record):\n    b: int\n"
        ).encode(),
        "table-twice": (app + "a = app.Table('n', default=int)\nb = app.Table('n')\n").encode(),
        "concurrency-0": (app + topic + agent.replace("(t)", "(t, concurrency=0)") + loop).encode(),
        "concurrency-minus-1": (
            app + topic + agent.replace("(t)", "(t, concurrency=-1)") + loop
        ).encode(),
        "topic-without-name": (app + "t = app.topic()\n" + agent + loop).encode(),
        "topic-by-pattern": (app + "t = app.topic(pattern='^a')\n" + agent + loop).encode(),
        "form-feed-in-loop": in_loop("y = word\x0c"),
        "form-feed-before-a-multi-line-string": in_loop(
            'y = word\x0c\n        z = """a\nb"""\n        print(y, z)'
        ),
        "global-app-in-loop": in_loop("global app, words_topic"),
        "form-feed-lines-in-loop": in_loop("y = word\x0c\n        z = y\x0c\n        print(z)\x0c"),
        "latin-1-declared": b"# -*- coding: latin-1 -*-\n"
        + wordcount().replace("Word count", "W\xf6rd count").encode("latin-1"),
        "latin-1-undeclared": wordcount().replace("Word count", "W\xf6rd count").encode("latin-1"),
        "unknown-encoding": b"# -*- coding: klingon -*-\n" + wordcount().encode(),
        "nul-byte": wordcount().encode().replace(b"import faust", b"import fa\x00ust"),
        "bom": b"\xef\xbb\xbf" + wordcount().encode(),
        "crlf": wordcount().replace("\n", "\r\n").encode(),
        "empty": b"",
        "return-outside-function": in_module("1\nreturn 3"),
    }
    return shapes


PATHOLOGICAL: dict[str, bytes] = _shapes()


def _declarations() -> dict[str, bytes]:
    """Odd but readable declarations: arguments missing, negative, of the wrong kind."""
    head = "import faust\n\napp = faust.App('odd')\nt = app.topic('t', value_type=str)\n\n"
    loop = "    async for v in stream:\n        print(v)\n"

    def agent(decorator: str, body: str = loop, param: str = "stream: faust.Stream[str]") -> str:
        return f"@{decorator}\nasync def a({param}) -> None:\n{body}"

    def over(call: str) -> str:
        return agent("app.agent(t)", f"    async for v in stream{call}:\n        print(v)\n")

    timer = "async def tick() -> None:\n    print(1)\n"
    record = "class R(faust.Record):\n"
    cases = {
        "timer-without-arguments": "@app.timer()\n" + timer,
        "timer-positional": "@app.timer(1.0)\n" + timer,
        "timer-interval-and-cron": "@app.timer(interval=1.0, cron='* * * * *')\n" + timer,
        "timer-zero": "@app.timer(interval=0)\n" + timer,
        "crontab-without-arguments": "@app.crontab()\n" + timer,
        "take-without-arguments": over(".take()"),
        "take-zero": over(".take(0, within=1)"),
        "take-negative": over(".take(-1, within=1)"),
        "group-by-without-arguments": over(".group_by()"),
        "filter-without-arguments": over(".filter()"),
        "through-without-arguments": over(".through()"),
        "items-with-an-argument": over(".items(1)"),
        "enumerate-start": over(".enumerate(start=5)"),
        "tuple-target": agent("app.agent(t)", "    async for (x, y) in stream:\n        pass\n"),
        "starred-target": agent(
            "app.agent(t)", "    async for *x, y in stream.items():\n        pass\n"
        ),
        "attribute-target": agent("app.agent(t)", "    async for a.x in stream:\n        pass\n"),
        "loop-else": agent("app.agent(t)", loop + "    else:\n        print(2)\n"),
        "sink-twice": agent(
            "app.agent(t, sink=[t, t])", "    async for v in stream:\n        yield v\n"
        ),
        "sink-not-a-topic": agent(
            "app.agent(t, sink=[1])", "    async for v in stream:\n        yield v\n"
        ),
        "channel-keyword": agent("app.agent(channel=t)"),
        "channel-string": agent("app.agent('t')"),
        "channel-twice": agent("app.agent(t, t)"),
        "agent-without-parameter": "@app.agent(t)\nasync def a() -> None:\n    pass\n",
        "agent-parameter-default": agent("app.agent(t)", param="stream: faust.Stream[str] = None"),
        "agent-name-empty": agent("app.agent(t, name='')"),
        "concurrency-string": agent("app.agent(t, concurrency='2')"),
        "concurrency-expression": agent("app.agent(t, concurrency=10**6)"),
        "concurrency-bool": agent("app.agent(t, concurrency=True)"),
        "table-without-name": "x = app.Table()\n",
        "table-name-keyword": "x = app.Table(name='n', default=int)\n",
        "table-name-int": "x = app.Table(3)\n",
        "window-without-size": "x = app.Table('w', default=int).tumbling()\n",
        "window-negative": "x = app.Table('w', default=int).tumbling(-1)\n",
        "topic-name-int": "x = app.topic(3)\n",
        "topic-name-empty": "x = app.topic('')\n",
        "topic-name-twice": "x = app.topic('a', 'a')\n",
        "topic-partitions-negative": "x = app.topic('a', partitions=-1)\n",
        "second-app": "app2 = faust.App('odd')\n",
        "record-empty": record + "    pass\n",
        "record-unknown-type": record + "    a: 'NotAType'\n",
        "record-recursive": record + "    a: 'R'\n    b: list['R']\n",
        "record-options": "class R(faust.Record, serializer='avro', include_metadata=False):\n"
        "    a: int\n",
        "record-default-call": record + "    a: int = int('3')\n",
        "record-soft-keyword-fields": record + "    match: int\n    case: str\n",
        "record-contains-itself": record
        + "    a: int\n    child: 'R | None' = None\n\nx = app.topic('x', value_type=R)\n",
        "records-contain-each-other": "class A(faust.Record):\n    b: 'B | None' = None\n\n"
        "class B(faust.Record):\n    a: A | None = None\n\nx = app.topic('x', value_type=A)\n",
    }
    found = {name: (head + text).encode() for name, text in cases.items()}
    found["app-without-id"] = b"import faust\napp = faust.App()\n"
    return found


DECLARATIONS: dict[str, bytes] = _declarations()

#: deep shapes by size: the largest one the limits let through must compile without a crash
DEEP_SHAPES: dict[str, Callable[[int], str]] = {
    "lists": lambda n: "[" * n + "]" * n,
    "calls": lambda n: "str(" * n + "1" + ")" * n,
    "dicts": lambda n: "{1: " * n + "1" + "}" * n,
    "attributes": lambda n: "app" + ".a" * n,
    "sum": lambda n: "+".join(["1"] * n),
    "and": lambda n: " and ".join(["1"] * n),
    "not": lambda n: "not " * n + "1",
    "strings": lambda n: " ".join(['"a"'] * n),
    "subscripts": lambda n: "x[" * n + "0" + "]" * n,
    "lambdas": lambda n: "lambda: " * n + "1",
    "ternary": lambda n: "1 if 1 else " * n + "1",
    "comprehensions": lambda n: "[x for x in " * n + "[]" + "]" * n,
    "fstrings": lambda n: "f'{" * min(n, 3) + "1" + "}'" * min(n, 3) + " + 1" * n,
}


def largest_within_limits(make: Callable[[int], bytes]) -> bytes:
    """``make(n)`` for the largest ``n`` whose module passes faustc's limits."""
    import ast

    from faustc.front.limits import module_limits

    def within(n: int) -> bool:
        text = make(n).decode()
        try:
            tree = ast.parse(text)
        except (SyntaxError, RecursionError):
            return False
        return module_limits(tree, text, "app.py") is None

    low, high = 1, 2
    while within(high):
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if within(middle) else (low, middle)
    return make(low)


def near_limits() -> dict[str, bytes]:
    """The largest input of every deep shape within the limits, in the module and in an
    agent's loop."""
    cases: dict[str, bytes] = {}
    for name, shape in DEEP_SHAPES.items():
        cases[f"{name}-at-limit"] = largest_within_limits(lambda n, s=shape: in_module(s(n)))
        cases[f"{name}-at-limit-in-loop"] = largest_within_limits(
            lambda n, s=shape: in_loop("y = " + s(n))
        )
    cases["ifs-at-limit"] = largest_within_limits(
        lambda n: (
            wordcount() + "".join("    " * d + "if x:\n" for d in range(n)) + "    " * n + "pass\n"
        ).encode()
    )
    return cases


# -- mutations ------------------------------------------------------------------------------

SNIPPETS = [
    "pass",
    "x = 1",
    "yield value",
    "await stream.send(value)",
    "return",
    "break",
    "continue",
    "async for x in stream:",
    "for x in stream:",
    "if value:",
    "else:",
    "del value",
    "global app",
    "nonlocal value",
    "lambda: (yield)",
    "value = [(yield v) for v in value]",
    "app = faust.App('again')",
    "t = app.topic()",
    "t = app.topic('a', 'b', pattern='x')",
    "table = app.Table('word-counts', default=int)",
    "@app.agent(t, concurrency=0)",
    "@app.agent(t, concurrency=-3)",
    "@app.agent()",
    "@app.timer()",
    "@app.timer(interval=-1)",
    "@app.crontab('* * *')",
    "class Order(faust.Record):\n    a: int",
    "class Node(faust.Record):\n    child: 'Node | None' = None",
    "class Pair(faust.Record):\n    left: 'Order'\n    right: list['Pair']",
    "@app.agent(t, name='renamed')",
    "@app.agent(t, sink=[t])",
    "async def f(stream):\n    async for v in stream:\n        yield v",
    "stream = stream.group_by(lambda v: v, name='x')",
    "x = f'{value!r:>{width}}'",
    "x = {**value}",
    "x: int",
    "print(*value, sep='\\x0c')",
    "x = 1\x0c",
    "try:\n    pass\nexcept* ValueError:\n    pass",
    "match value:\n    case 1:\n        pass",
    "with open('f') as f, open('g') as g:\n    pass",
    "x = (y := 1)",
    "x = " + "[" * 40 + "]" * 40,
    "x = " + "f(" * 40 + ")" * 40,
    "x = value" + ".a" * 100,
    "x = " + " + ".join(["value"] * 200),
]
ODD_TEXT = ["\x0c", "\t", "\r", "\x0b", "\\", "\u2028", "\u00e9", "'", '"', '"""', "#", "(", ")"]
ODD_BYTES = [b"\xff", b"\x80", b"\xc3", b"\x00", b"\xed\xa0\x80", b"\xef\xbb\xbf"]
TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+|'[^'\n]*'|\"[^\"\n]*\"")


def _lines(text: str) -> list[str]:
    return text.split("\n")


def delete_line(text: str, rng: random.Random) -> str:
    lines = _lines(text)
    del lines[rng.randrange(len(lines))]
    return "\n".join(lines)


def duplicate_line(text: str, rng: random.Random) -> str:
    lines = _lines(text)
    index = rng.randrange(len(lines))
    lines.insert(index, lines[index])
    return "\n".join(lines)


def swap_lines(text: str, rng: random.Random) -> str:
    lines = _lines(text)
    a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[a], lines[b] = lines[b], lines[a]
    return "\n".join(lines)


def duplicate_block(text: str, rng: random.Random) -> str:
    """A top-level definition (a class, a function with its decorators) once more."""
    lines = _lines(text)
    starts = [i for i, line in enumerate(lines) if line.startswith(("@", "class ", "async def"))]
    if not starts:
        return text
    start = rng.choice(starts)
    end = start + 1
    while end < len(lines) and (
        not lines[end] or lines[end][0] in " \t@" or lines[end - 1][:1] == "@"
    ):
        end += 1
    copy = lines[start:end]
    if rng.random() < 0.5:  # the copy registered under another name (agent, timer, ...)
        copy = [_renamed(line, rng) if line.startswith("@") else line for line in copy]
    return "\n".join([*lines[:end], "", *copy, *lines[end:]])


def _renamed(decorator: str, rng: random.Random) -> str:
    name = f"name='copy-{rng.randrange(1000)}'"
    if decorator.endswith("()"):
        return f"{decorator[:-1]}{name})"
    if decorator.endswith(")"):
        return f"{decorator[:-1]}, {name})"
    return decorator


def truncate(text: str, rng: random.Random) -> str:
    return text[: rng.randrange(len(text) + 1)]


def insert_snippet(text: str, rng: random.Random) -> str:
    lines = _lines(text)
    index = rng.randrange(len(lines) + 1)
    near = lines[min(index, len(lines) - 1)] if lines else ""
    indent = near[: len(near) - len(near.lstrip())]
    snippet = "\n".join(indent + line for line in rng.choice(SNIPPETS).split("\n"))
    lines.insert(index, snippet)
    return "\n".join(lines)


def insert_odd_text(text: str, rng: random.Random) -> str:
    index = rng.randrange(len(text) + 1)
    if rng.random() < 0.5:  # at the end of a line, where a form feed broke the emitter
        newline = text.find("\n", index)
        index = newline if newline >= 0 else len(text)
    return text[:index] + rng.choice(ODD_TEXT) + text[index:]


def replace_token(text: str, rng: random.Random) -> str:
    tokens = list(TOKEN.finditer(text))
    if not tokens:
        return text
    target = rng.choice(tokens)
    choices = [m.group() for m in tokens] + ["0", "-1", "None", "'x'", "app", "stream", "yield"]
    return text[: target.start()] + rng.choice(choices) + text[target.end() :]


def nest_expression(text: str, rng: random.Random) -> str:
    """A name in the text wrapped in a deep shape (lists, calls, parentheses, operators)."""
    tokens = [m for m in TOKEN.finditer(text) if m.group().isidentifier()]
    if not tokens:
        return text
    target = rng.choice(tokens)
    depth = rng.choice([10, 50, 100, 140, 160, 200, 400, 1000])
    name = target.group()
    wrap = rng.choice(
        [
            lambda: "(" * depth + name + ")" * depth,
            lambda: "[" * depth + name + "]" * depth,
            lambda: "str(" * depth + name + ")" * depth,
            lambda: " + ".join([name] * depth),
            lambda: " and ".join([name] * depth),
            lambda: name + ".real" * depth,
            lambda: "not " * depth + name,
        ]
    )
    return text[: target.start()] + wrap() + text[target.end() :]


MUTATIONS: list[Callable[[str, random.Random], str]] = [
    delete_line,
    duplicate_line,
    swap_lines,
    duplicate_block,
    truncate,
    insert_snippet,
    insert_odd_text,
    replace_token,
    nest_expression,
]


def mutate(text: str, rng: random.Random, count: int) -> bytes:
    """``text`` after ``count`` random mutations, then (sometimes) as odd bytes."""
    for _ in range(count):
        text = rng.choice(MUTATIONS)(text, rng)
    data = text.encode("utf-8", "surrogatepass")
    roll = rng.random()
    if roll < 0.05:
        index = rng.randrange(len(data) + 1)
        data = data[:index] + rng.choice(ODD_BYTES) + data[index:]
    elif roll < 0.08:
        data = b"# -*- coding: latin-1 -*-\n" + text.encode("latin-1", "replace")
    return data


# -- running the compiler and judging the result ----------------------------------------------


@dataclass
class Outcome:
    exit: int | str  # the exit status, or "crash (signal N)", "hang"
    stderr: str
    seconds: float


def serve() -> None:
    """The child: read ``{"args": [...]}`` lines, run faustc's CLI in this process on
    each, answer ``{"exit": n, "stderr": "..."}``."""
    from faustc import cli

    for line in sys.stdin:
        request = json.loads(line)
        err = io.StringIO()
        code: int = 0
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            sys.argv = ["faustc", *request["args"]]
            try:
                cli.main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        print(json.dumps({"exit": code, "stderr": err.getvalue()}), flush=True)


class Compiler:
    """The child process that runs faustc; restarted after a crash or a hang."""

    def __init__(self, timeout: float = TIMEOUT) -> None:
        self.timeout = timeout
        self.process: subprocess.Popen[str] | None = None

    def _start(self) -> subprocess.Popen[str]:
        if self.process is None or self.process.poll() is not None:
            self.process = subprocess.Popen(
                [sys.executable, __file__, "--serve"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                cwd=REPO,
            )
        return self.process

    def run(self, args: list[str]) -> Outcome:
        process = self._start()
        assert process.stdin is not None and process.stdout is not None
        started = time.monotonic()
        try:
            process.stdin.write(json.dumps({"args": args}) + "\n")
            process.stdin.flush()
        except BrokenPipeError:
            pass
        ready, _, _ = select.select([process.stdout], [], [], self.timeout)
        seconds = time.monotonic() - started
        if not ready:
            self.close()
            return Outcome("hang", "", seconds)
        line = process.stdout.readline()
        if not line:
            status = process.wait()
            self.process = None
            return Outcome(f"crash (status {status})", "", seconds)
        answer = json.loads(line)
        return Outcome(answer["exit"], answer["stderr"], seconds)

    def close(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


def broken(outcome: Outcome, path: Path) -> str | None:
    """Why ``outcome`` of faustc on ``path`` breaks the contract, or None."""
    if outcome.exit == 0:
        return None
    if outcome.exit != 1:
        return f"exit {outcome.exit}: {_last_line(outcome.stderr)}"
    if "Traceback" in outcome.stderr:
        return f"traceback: {_last_line(outcome.stderr)}"
    located = re.compile(rf"^{re.escape(str(path))}:\d+:\d+: error: ", re.MULTILINE)
    if not located.search(outcome.stderr):
        return f"exit 1 without a file:line:col diagnostic: {_last_line(outcome.stderr)}"
    return None


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


COMMANDS = (["build", "--no-typecheck"], ["check"], ["build"])


def judge(
    compiler: Compiler, data: bytes, directory: Path, command: list[str]
) -> tuple[Outcome, str | None]:
    """Run ``faustc <command>`` on ``data``: the outcome, and why it breaks the contract
    (None when it keeps it)."""
    path = directory / "fuzzed_app.py"
    path.write_bytes(data)
    outcome = compiler.run([*command, str(path), "-o", str(directory / "build")])
    return outcome, broken(outcome, path)


FIRST_CODE = re.compile(r": error: .*\[(FC\d{3})\]")


def campaign(minutes: float, seed: int, keep: Path | None) -> int:
    """Mutate and judge for ``minutes``; print a summary and each failure; 1 if any."""
    rng = random.Random(seed)
    seeds = [path.read_text(encoding="utf-8") for path in seed_apps()]
    failures: list[tuple[str, str, bytes]] = []
    counts: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    slowest = (0.0, "")
    deadline = time.monotonic() + minutes * 60
    compiler = Compiler()
    with tempfile.TemporaryDirectory(prefix="faustc-fuzz-") as scratch:
        directory = Path(scratch)
        cases = [*PATHOLOGICAL.items(), *DECLARATIONS.items(), *near_limits().items()]
        number = 0
        while time.monotonic() < deadline:
            if cases:
                name, data = cases.pop(0)
                command = list(COMMANDS[number % 2])
            else:
                name = f"mutant-{number}"
                data = mutate(rng.choice(seeds), rng, rng.randint(1, 4))
                roll = rng.random()
                command = list(COMMANDS[0 if roll < 0.8 else 1 if roll < 0.9 else 2])
            number += 1
            outcome, why = judge(compiler, data, directory, command)
            counts["broken" if why else "kept"] += 1
            code = FIRST_CODE.search(outcome.stderr)
            outcomes[f"exit {outcome.exit}" + (f" {code.group(1)}" if code else "")] += 1
            slowest = max(slowest, (outcome.seconds, name))
            if why:
                failures.append((f"{name} ({' '.join(command)})", why, data))
                print(f"BROKEN {name} ({' '.join(command)}): {why}", flush=True)
                if keep is not None:
                    keep.mkdir(parents=True, exist_ok=True)
                    (keep / f"{name}.py").write_bytes(data)
        compiler.close()
    print(
        f"{number} inputs in {minutes} min (seed {seed}): {counts['kept']} kept the contract, "
        f"{counts['broken']} broke it"
    )
    print(
        "outcomes (first diagnostic code): "
        + ", ".join(f"{key}: {value}" for key, value in sorted(outcomes.items()))
    )
    print(f"slowest: {slowest[1]} in {slowest[0]:.1f} s")
    return 1 if failures else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="save the inputs that break the contract here")
    options = parser.parse_args()
    if options.serve:
        serve()
        return
    sys.exit(campaign(options.minutes, options.seed, options.keep))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
