"""How much does `import seglab` cost on top of `import torch`? (goal: under 0.3 s)

Each measurement runs in a fresh interpreter, so nothing is cached in-process. Prints the
medians and the ratio of (torch + seglab) to torch alone.

    python bench/import_time.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

TIMER = "import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"


def measure(stmt: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", TIMER.format(stmt=stmt)],
            capture_output=True,
            text=True,
            check=True,
        )
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    torch_only = measure("import torch", args.repeat)
    both = measure("import torch; import seglab", args.repeat)
    with_modules = measure(
        "import torch; import seglab; seglab.get_device; seglab.iou; seglab.as_rgb_uint8",
        args.repeat,
    )
    print(f"{'import torch':<48}{torch_only:8.3f} s")
    print(f"{'import torch; import seglab':<48}{both:8.3f} s")
    print(f"{'... + device, metrics, images modules':<48}{with_modules:8.3f} s")
    print(f"seglab on top of torch: {both - torch_only:+.3f} s  (goal < 0.3 s)")
    print(f"ratio (torch + seglab) / torch: {both / torch_only:.3f}")
    print(f"with device/metrics/images: {with_modules - torch_only:+.3f} s on top of torch")


if __name__ == "__main__":
    main()
