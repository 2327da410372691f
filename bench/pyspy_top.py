"""Top entries of a py-spy raw profile (`py-spy record --format raw`: one collapsed stack and
its sample count per line), by own samples and by samples including callees.

    python -m bench.pyspy_top PROFILE.txt [--top 25] [--process SUBSTRING]

With `--subprocesses`, a stack's first frame names its process; `--process` keeps the stacks
of processes whose name contains the text (e.g. "gpu_ingest" for the main process)."""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

# py-spy's frame names: "function (file.py:line)"; the line number is dropped so that one
# function's samples add up.
_LINE = re.compile(r":\d+\)$")


def frame_name(frame: str) -> str:
    return _LINE.sub(")", frame.strip())


def summarize(
    text: str, process: str | None = None
) -> tuple[int, Counter[str], Counter[str], Counter[str]]:
    """Samples in all, by own frame, by any frame of the stack, and by process (the
    innermost `process` frame: the main process or one of its workers)."""
    total = 0
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    procs: Counter[str] = Counter()
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if process is not None and process not in frames[0]:
            continue
        n = int(count)
        total += n
        owner = [f for f in frames if f.startswith("process ")]
        procs["main" if len(owner) <= 1 else owner[-1].split(":")[0]] += n
        names = [frame_name(f) for f in frames if not f.startswith(("process ", "thread "))]
        if names:
            own[names[-1]] += n
        for name in set(names):
            incl[name] += n
    return total, own, incl, procs


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("profile", type=Path)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--process", default=None)
    args = ap.parse_args(argv)
    total, own, incl, procs = summarize(args.profile.read_text(errors="replace"), args.process)
    workers = [n for name, n in procs.items() if name != "main"]
    print(
        f"{total} samples: main process {procs['main']}, "
        f"{len(workers)} worker processes {sum(workers)}"
    )
    for title, counter in (("own", own), ("including callees", incl)):
        print(f"\n| {title} | samples | share |\n|---|---|---|")
        for name, n in counter.most_common(args.top):
            print(f"| `{name}` | {n} | {n / max(1, total):.1%} |")


if __name__ == "__main__":
    main()
