"""Summarise a py-spy profile written by ``bench/run.py --profile DIR`` (raw collapsed stacks).

Prints, for the sampled Python threads, the functions with the most samples of their own
(self) and in total (inclusive), as shares of all samples. Usage::

    python bench/profile_summary.py /tmp/profile/stateless_json-worker.txt [--top 25]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

#: "function (path/to/file.py:123)" -> "function (file.py)"
_FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^():]*?)(?::\d+)?\)$")


def frame_name(frame: str) -> str:
    match = _FRAME.match(frame.strip())
    if match is None:
        return frame.strip()
    file = match["file"].rsplit("/", 1)[-1]
    return f"{match['function']} ({file})" if file else match["function"]


def summarise(path: Path, top: int) -> str:
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        samples += count
        frames = [frame_name(frame) for frame in stack.split(";")]
        own[frames[-1]] += count
        for name in set(frames):
            total[name] += count
    lines = [f"{path.name}: {samples} samples"]
    for title, counter in (("self", own), ("inclusive", total)):
        lines.append(f"\n  top {top} by {title} samples:")
        for name, count in counter.most_common(top):
            lines.append(f"  {count / samples:6.1%}  {name}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("profiles", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    for path in args.profiles:
        print(summarise(path, args.top))
        print()


if __name__ == "__main__":
    main()
