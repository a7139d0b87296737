"""The pieces of stateless_json's fused loop around its JSON decode and send, timed apart.

Builds ``bench/apps/stateless_json.py`` and times, over 4,096 in-memory orders (ns per
order, medians of the rounds' best of 3), each piece in the shape the loop had before
session 23 (a call to the generated function or the topic's dumper) and in the shape it
has now (the same lines inline), next to the bare C call each wraps (what the raw loop
does). Usage::

    python bench/send_site.py
    python bench/send_site.py --rounds 21

It is a guide to the generated code's per-message Python (±10% between runs here), not a
figure of the issue: ``bench/loop_bench.py`` times the whole loop, ``bench/run.py`` whole
processes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH / "apps"))

from data import json_value, make_orders  # noqa: E402
from loop_bench import build_worker  # noqa: E402

#: each piece's shapes, as functions over a list (compiled in the worker's namespace)
SHAPES = """
def view_called(datas, load_value):
    for data in datas:
        value = load_value(data)

def view_inline(datas, load_value, inline):
    for data in datas:
        if inline:
            value = _parse_order_json(data)
            if value._faust is not _NO_METADATA and value._faust != _ORDER_METADATA:
                value = load_value(data)
        else:
            value = load_value(data)

def view_bare(datas, load_value):
    for data in datas:
        value = _parse_order_json(data)

def key_called(bigs, encode_key, text_keys):
    for big in bigs:
        send_key = encode_key(big.account_id)

def key_inline(bigs, encode_key, text_keys):
    for big in bigs:
        given_key = big.account_id
        send_key = (
            given_key.encode()
            if type(given_key) is str and text_keys
            else encode_key(given_key)
        )

def key_bare(bigs, encode_key, text_keys):
    for big in bigs:
        send_key = big.account_id.encode()

def value_called(bigs, encode_value):
    for big in bigs:
        send_value = encode_big_order_out(big, encode_value)

def value_called_globals(bigs, encode_value):
    # the function as it was: the same checks, the bounds as globals and a negation
    for big in bigs:
        send_value = _encode_before(big, encode_value)

def _encode_before(out, dump):
    if (
        type(out.order_id) is str
        and type(out.account_id) is str
        and type(out.amount_cents) is int
        and -_2_63 <= out.amount_cents < _2_64
    ):
        return _encode_json(out)
    return dump(out)

def value_inline(bigs, encode_value):
    for big in bigs:
        if (
            type(big.order_id) is str
            and type(big.account_id) is str
            and type(big.amount_cents) is int
            and -(2**63) <= big.amount_cents < 2**64
        ):
            send_value = _encode_json(big)
        else:
            send_value = encode_big_order_out(big, encode_value)

def value_bare(bigs, encode_value):
    for big in bigs:
        send_value = _encode_json(big)

def count_cell(bigs, cell):
    for big in bigs:
        cell[0] += 1

def count_local(bigs, cell):
    n = 0
    for big in bigs:
        n += 1
    cell[0] += n

def empty(bigs):
    for big in bigs:
        pass
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=11)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        worker = build_worker("stateless_json", Path(out))
        space = vars(worker)
        space["_2_63"], space["_2_64"] = 2**63, 2**64
        exec(compile(SHAPES, "send_site shapes", "exec"), space)
        orders = make_orders(4096)
        datas = [json_value(order) for order in orders]
        bigs = [
            worker._BigOrderOut(order.order_id, order.account_id, round(order.amount * 100))
            for order in orders
        ]
        load_value, _ = worker.orders_topic.value_decoder(fields_only=True)
        topic = worker.big_orders_topic
        encode_key, text_keys = topic.key_dumper(), topic.key_dumper_is_text()
        encode_value = topic.value_dumper()
        inline = load_value is worker.view_order_json
        cell = [0]
        pieces: dict[str, dict[str, Callable[[], Any]]] = {
            "value view (decode)": {
                "called": lambda: space["view_called"](datas, load_value),
                "inline": lambda: space["view_inline"](datas, load_value, inline),
                "bare msgspec": lambda: space["view_bare"](datas, load_value),
            },
            "text key": {
                "called": lambda: space["key_called"](bigs, encode_key, text_keys),
                "inline": lambda: space["key_inline"](bigs, encode_key, text_keys),
                "bare encode": lambda: space["key_bare"](bigs, encode_key, text_keys),
            },
            "struct sent (encode)": {
                "called, bounds global": lambda: space["value_called_globals"](bigs, encode_value),
                "called": lambda: space["value_called"](bigs, encode_value),
                "inline": lambda: space["value_inline"](bigs, encode_value),
                "bare msgspec": lambda: space["value_bare"](bigs, encode_value),
            },
            "/metrics count": {
                "cell a record": lambda: space["count_cell"](bigs, cell),
                "local, once": lambda: space["count_local"](bigs, cell),
                "empty loop": lambda: space["empty"](bigs),
            },
        }
        times: dict[tuple[str, str], list[float]] = {
            (piece, shape): [] for piece, shapes in pieces.items() for shape in shapes
        }
        for _ in range(args.rounds):
            for piece, shapes in pieces.items():
                for shape, run in shapes.items():
                    best = min(timeit.repeat(run, number=10, repeat=3))
                    times[piece, shape].append(best / 10 / len(orders) * 1e9)
    print(f"4,096 orders, median of {args.rounds} rounds, ns per order")
    for piece, shapes in pieces.items():
        print(piece)
        for shape in shapes:
            print(f"    {shape:24s} {statistics.median(times[piece, shape]):7.1f}")


if __name__ == "__main__":
    main()
