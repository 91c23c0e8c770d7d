"""How long does the whole course take to execute? (goal: <= 5 minutes on 2 CPU cores)

Executes every notebook in ``notebooks/`` top to bottom in a fresh kernel, exactly as
``make execute`` does but without writing anything, and prints per-notebook and total wall
times. Run it on an otherwise idle machine: other processes on a 2-core CPU inflate torch's
times several-fold.

    python bench/course_time.py [notebooks/...]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from execute_notebooks import execute  # noqa: E402

GOAL_S = 300.0


def main(argv: list[str]) -> int:
    paths = [Path(p) for p in argv] or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    total = 0.0
    print(f"{'notebook':<42}{'seconds':>9}")
    for path in paths:
        start = time.perf_counter()
        execute(path)
        took = time.perf_counter() - start
        total += took
        print(f"{path.name:<42}{took:>9.1f}")
    print(f"{'total':<42}{total:>9.1f}")
    print(f"ratio to the 5-minute goal: {total / GOAL_S:.2f} (<= 1 meets it)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
