"""Summarise what ``bench/rss_probe`` wrote: each process's memory at its peak, by kind.

For every ``<side>-<pid>.smaps`` in the directory: the peak RSS; the anonymous memory
(the ``[heap]`` of the main malloc arena, the other anonymous mappings by size: Python's
1 MiB object arenas, glibc's thread arenas, RocksDB's and librdkafka's large buffers); the
file-backed memory (shared libraries); then glibc's arenas from ``malloc_info`` (size,
and how much of it is free); then the imported modules by top-level package. Usage::

    python bench/rss_summary.py /tmp/rss
"""

from __future__ import annotations

import argparse
import re
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path

_MAPPING = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$")


def _mappings(path: Path) -> tuple[int, list[tuple[int, int, str]]]:
    """(peak RSS kB, [(size kB, RSS kB, name)])"""
    lines = path.read_text().splitlines()
    peak = int(lines[0].split()[-1])
    found: list[tuple[int, int, str]] = []
    size, name = 0, ""
    for line in lines[1:]:
        match = _MAPPING.match(line)
        if match:
            size = (int(match[2], 16) - int(match[1], 16)) // 1024
            name = match[4].rsplit("/", 1)[-1] or "[anon]"
        elif line.startswith("Rss:"):
            found.append((size, int(line.split()[1]), name))
    return peak, found


def _anon_class(size_kb: int) -> str:
    if size_kb <= 1028:
        return "anon <= 1 MiB (Python's object arenas, small buffers)"
    if size_kb <= 8200:
        return "anon 1-8 MiB (thread arenas in use, stacks, RocksDB memtables)"
    return "anon > 8 MiB (a busy thread arena: librdkafka's fetch buffers)"


def summarise(directory: Path) -> str:
    out: list[str] = []
    for smaps in sorted(directory.glob("*.smaps")):
        peak, mappings = _mappings(smaps)
        out.append(f"== {smaps.stem}: peak RSS {peak / 1024:.1f} MiB")
        kinds: Counter[str] = Counter()
        files: Counter[str] = Counter()
        for size, rss, name in mappings:
            if name == "[heap]":
                kinds["[heap] (the main malloc arena)"] += rss
            elif name.startswith("["):
                kinds[_anon_class(size) if name == "[anon]" else name] += rss
            else:
                kinds["file-backed (libraries, locale)"] += rss
                files[name] += rss
        for kind, rss in kinds.most_common():
            if rss < 512:
                continue  # [stack], [vdso] ...
            out.append(f"  {rss / 1024:7.1f} MiB  {kind}")
        top = ", ".join(f"{name} {rss / 1024:.1f}" for name, rss in files.most_common(5))
        out.append(f"  (largest files, MiB: {top})")
        malloc = smaps.with_suffix(".malloc")
        if malloc.exists() and malloc.stat().st_size:
            root = ElementTree.parse(malloc).getroot()
            for heap in root.findall("heap"):
                system = sum(
                    int(s.get("size", 0))
                    for s in heap.findall("system")
                    if s.get("type") == "current"
                )
                free = sum(
                    int(t.get("size", 0))
                    for t in heap.findall("total")
                    if t.get("type") in ("fast", "rest")
                )
                if system > 512 * 1024:
                    out.append(
                        f"  malloc arena {heap.get('nr')}: {system / 2**20:6.1f} MiB, "
                        f"{free / 2**20:5.1f} free"
                    )
        modules = smaps.with_suffix(".modules")
        if modules.exists():
            names = modules.read_text().split()
            packages = Counter(name.split(".")[0] for name in names)
            biggest = ", ".join(f"{name} {count}" for name, count in packages.most_common(8))
            out.append(f"  {len(names)} modules ({biggest})")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    print(summarise(parser.parse_args().directory))


if __name__ == "__main__":
    main()
