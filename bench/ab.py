"""Old code against new in the same run: ``bench.submit`` and ``bench.dispatch``, interleaved.

``--old`` is a checkout of the earlier commit (``git worktree add /tmp/old REV``);
the new code is this checkout. Each round runs both benches once per tree, the
trees alternating (old first in odd rounds, new first in even ones), each
tree's own ``src`` and ``bench`` on ``PYTHONPATH``, so both see the same machine
at nearly the same moments. Prints each figure's median per tree and new/old.

    python -m bench.ab --old /tmp/old [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
# (bench module, figure name, pattern whose first group is the number)
FIGURES = [
    ("bench.submit", "submissions/s", r"VisioVox gateway\s+([\d.]+) req/s"),
    ("bench.submit", "submit p99 ms", r"VisioVox gateway.*p99\s+([\d.]+) ms"),
    ("bench.submit", "bare FastAPI req/s", r"bare FastAPI endpoint\s+([\d.]+) req/s"),
    ("bench.dispatch", "dispatch p50 ms", r"dispatch: .*p50\s+([\d.]+) ms"),
    ("bench.dispatch", "dispatch p99 ms", r"dispatch: .*p99\s+([\d.]+) ms"),
    ("bench.dispatch", "event p50 ms", r"event: .*p50\s+([\d.]+) ms"),
    ("bench.dispatch", "event p99 ms", r"event: .*p99\s+([\d.]+) ms"),
]


def run_bench(tree: Path, module: str) -> str:
    """The output of ``python -m module`` with ``tree``'s code."""
    env = {**os.environ, "PYTHONPATH": f"{tree / 'src'}{os.pathsep}{tree}"}
    return subprocess.run(
        [sys.executable, "-m", module],
        cwd=tree,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="checkout of the old commit")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    trees = {"old": args.old.resolve(), "new": HERE}
    values: dict[tuple[str, str], list[float]] = {}
    for round_index in range(args.rounds):
        order = ["old", "new"] if round_index % 2 == 0 else ["new", "old"]
        for module in dict.fromkeys(module for module, _, _ in FIGURES):
            for label in order:
                output = run_bench(trees[label], module)
                for figure_module, name, pattern in FIGURES:
                    if figure_module != module:
                        continue
                    found = re.search(pattern, output)
                    assert found, f"{label} {module}: no {name!r} in:\n{output}"
                    values.setdefault((label, name), []).append(float(found.group(1)))
                print(f"round {round_index + 1} {label:<3} {module} done", flush=True)
    print(f"\nmedians over {args.rounds} interleaved rounds")
    print(f"{'figure':<22} {'old':>10} {'new':>10} {'new/old':>8}")
    for _, name, _ in FIGURES:
        old = statistics.median(values[("old", name)])
        new = statistics.median(values[("new", name)])
        print(f"{name:<22} {old:10.2f} {new:10.2f} {new / old:8.2f}")


if __name__ == "__main__":
    main()
