"""Fresh names for what the generated code binds: never a name the user's code uses.

Example::

    taken = {"value", "send"}
    fresh("value", taken)       # 'value_2' (and 'value_2' is taken from now on)
    identifier("orders-v2")     # 'orders_v2'
"""

from __future__ import annotations


def fresh(base: str, taken: set[str]) -> str:
    """``base``, or ``base_2``, ``base_3``... whichever is not taken (and mark it taken)."""
    name, counter = base, 1
    while name in taken:
        counter += 1
        name = f"{base}_{counter}"
    taken.add(name)
    return name


def identifier(text: str) -> str:
    """``text`` made a Python identifier (a topic name's letters and digits)."""
    cleaned = "".join(c if c.isalnum() else "_" for c in text).strip("_")
    return cleaned or "topic"
