"""How long does the whole course take to execute? (goal: <= 5 minutes on 2 CPU cores)

Executes every notebook in ``notebooks/`` top to bottom in a fresh kernel, exactly as
``make execute`` does (``tools/execute_notebooks.py``) but without writing anything, and prints
per-notebook and total wall times.

Baseline, measured in the same run with the same executor: an empty notebook, i.e. starting and
stopping a kernel, which every notebook pays before its first cell. Half of those runs go before
the course and half after, so that both see the machine in the same state. The ratio is each
notebook's time (and the course's) over as many empty notebooks: how much of the wait is the
lesson itself. Run it on an otherwise idle machine: other processes on a 2-core CPU inflate
torch's times several-fold.

    python bench/course_time.py [notebooks/...] [--empty-repeats 6] [--quick]
    python bench/course_time.py exercises/solutions     # the solutions (goal: <= 150 s)

A folder stands for the numbered notebooks in it. The lessons' record is
``bench/results/course_time.json``; another folder's goes beside it, named after the folder
(``course_time-exercises-solutions.json``), so one run never overwrites the other's record.
``--quick`` executes only ``00_setup.ipynb`` against two empty notebooks.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import nbformat
from _timing import ROOT, Report, Timing, measure, parse_args, timed

sys.path.insert(0, str(ROOT))  # run as a script: make the repository root importable

from tools.execute_notebooks import execute

GOAL_S = 300.0  # the lessons, notebooks/
#: the course's budget for other folders (issue "Lessons whose outputs show what their text says")
FOLDER_GOALS_S = {"exercises/solutions": 150.0}
QUICK_NOTEBOOKS = ("00_setup.ipynb",)


def main() -> None:
    def options(p) -> None:
        p.add_argument("notebooks", nargs="*", type=Path, help="default: all of notebooks/")
        p.add_argument(
            "--empty-repeats", type=int, default=None, help="empty notebooks (default 6, quick 2)"
        )

    args = parse_args(__doc__, options)
    folders = [p for p in args.notebooks if p.is_dir()]
    if len(folders) > 1 or (folders and len(args.notebooks) > 1):
        sys.exit("give one folder, or notebook files, not both")
    folder = folders[0].resolve() if folders else ROOT / "notebooks"
    if folders:
        paths = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
        if not paths:
            sys.exit(f"{folders[0]} holds no numbered notebooks (NN_name.ipynb)")
    else:
        paths = args.notebooks or (
            [folder / name for name in QUICK_NOTEBOOKS]
            if args.quick
            else sorted(folder.glob("[0-9][0-9]_*.ipynb"))
        )
    where = folder.relative_to(ROOT).as_posix() if folder.is_relative_to(ROOT) else folder.name
    goal_s = FOLDER_GOALS_S.get(where, GOAL_S)
    args.empty_repeats = args.empty_repeats or (2 if args.quick else 6)
    args.notebooks = [p.name for p in paths]  # names only: results hold no paths
    args.folder = where
    report = Report("course_time", args)

    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.ipynb"
        nbformat.write(nbformat.v4.new_notebook(), empty)
        before = measure(lambda: execute(empty), repeats=(args.empty_repeats + 1) // 2, warmup=1)
        took: dict[str, float] = {}
        for path in paths:
            took[path.name] = timed(lambda path=path: execute(path))
            print(f"  {path.name:<40}{took[path.name]:>8.1f} s", flush=True)
        after = measure(lambda: execute(empty), repeats=args.empty_repeats // 2 or 1, warmup=0)
    baseline = report.timing("empty notebook", Timing(before.times + after.times))
    start_up = baseline.median
    total = sum(took.values())
    report.figure("notebooks_s", took)
    report.figure("total_s", total)
    report.figure("total_minus_kernel_start_ups_s", total - len(took) * start_up)

    print()
    print(f"{'notebook':<42}{'seconds':>9}{'x empty':>10}")
    print(f"{'(empty notebook: kernel start-up)':<42}{start_up:>9.2f}{1:>10.1f}")
    for name, seconds in took.items():
        print(f"{name:<42}{seconds:>9.1f}{seconds / start_up:>10.1f}")
    print(f"{'total':<42}{total:>9.1f}{total / (len(took) * start_up):>10.1f}")
    met = "met" if total <= goal_s else "NOT met"
    print(f"total against the {goal_s:.0f} s goal: {total / goal_s:.2f} ({met})")
    report.ratio(
        f"course / kernel start-up of {len(took)} empty notebook(s)",
        total / (len(took) * start_up),
        meaning="the time",
    )
    if args.quick:
        report.skipped(
            f"{len(list((ROOT / 'notebooks').glob('[0-9][0-9]_*.ipynb'))) - len(took)} notebooks",
            "quick mode runs 00_setup only",
        )
    report.write(variant="" if where == "notebooks" else where.replace("/", "-"))


if __name__ == "__main__":
    main()
