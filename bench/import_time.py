"""How much does `import seglab` cost on top of `import torch`? (goal: under 0.3 s)

Baseline: ``import torch`` alone, which any lesson pays anyway. Each measurement runs in a fresh
interpreter that times its own imports, so nothing is cached in-process; the three statements
take turns, so they share the machine's load. Prints the medians, the difference and the ratio
of (torch + seglab) to torch alone.

    python bench/import_time.py [--repeat 7] [--quick]
"""

from __future__ import annotations

import subprocess
import sys

from _timing import Report, fmt_seconds, measure_interleaved, parse_args

TIMER = "import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"
STATEMENTS = {
    "torch": "import torch",
    "torch + seglab": "import torch; import seglab",
    "torch + seglab + device, metrics, images": (
        "import torch; import seglab; seglab.get_device; seglab.iou; seglab.as_rgb_uint8"
    ),
}
GOAL_S = 0.3


def child(stmt: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", TIMER.format(stmt=stmt)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    args = parse_args(
        __doc__,
        lambda p: p.add_argument("--repeat", type=int, default=None, help="default 7 (quick 1)"),
    )
    args.repeat = args.repeat or (1 if args.quick else 7)
    report = Report("import_time", args)
    times = measure_interleaved(
        {name: (lambda s=stmt: child(s)) for name, stmt in STATEMENTS.items()},
        repeats=args.repeat,
        warmup=1,  # the first runs fill the file cache
        self_timed=True,
    )
    for name, timing in times.items():
        report.timing(name, timing)
        print(f"{name:<44}{fmt_seconds(timing.median):>10}  (median of {timing.n})")
    torch_s = times["torch"].median
    both_s = times["torch + seglab"].median
    extra = report.figure("seglab_on_top_s", both_s - torch_s)
    modules = report.figure(
        "seglab_and_modules_on_top_s",
        times["torch + seglab + device, metrics, images"].median - torch_s,
    )
    met = "met" if extra < GOAL_S else "NOT met"
    print(f"seglab on top of torch: {extra:+.3f} s  (goal < {GOAL_S} s: {met})")
    print(f"with device/metrics/images: {modules:+.3f} s on top of torch")
    report.ratio("(torch + seglab) / torch, import time", both_s / torch_s, meaning="the time")
    report.write()


if __name__ == "__main__":
    main()
