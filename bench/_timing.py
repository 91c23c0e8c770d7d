"""The one timing helper of ``bench/``: warm-up, repeats, medians, ratios and a JSON record.

Every bench script follows the same shape::

    args = parse_args(__doc__, add_options)        # adds --quick and --out to its own options
    report = Report("train_loop", args)            # collects what the run measured
    times = measure_interleaved({"ours": f, "baseline": g}, repeats=10, warmup=2)
    report.timing("ours", times["ours"])
    report.ratio("ours / baseline", value, goal=0.95)   # prints "ratio ours / baseline: ..."
    report.skipped("what was left out", "why")     # printed, and kept in the JSON
    report.write()                                 # bench/results/train_loop.json (atomically)

The ratio is the point of every bench: seglab's figure against a baseline measured in the same
run, on the same machine under the same load, so that it means something on another machine
too. ``--quick`` runs the same code on tiny sizes with few repeats (seconds; the smoke test in
``tests/test_bench.py`` runs it) and writes to ``bench/results/quick/`` (gitignored), so a quick
run never overwrites the committed full results.

The JSON records the machine (CPU model, cores, torch threads), the versions (Python, torch,
NumPy, seglab, segment-anything), the date, the commit the code was at, the settings and the
figures - and never a filesystem path (:func:`check_no_paths` refuses to write one).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
QUICK_RESULTS = RESULTS / "quick"
SCHEMA = 1


# --------------------------------------------------------------------------- timing


@dataclass
class Timing:
    """Seconds of each timed repetition (warm-up runs excluded)."""

    times: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def min(self) -> float:
        return min(self.times)

    @property
    def n(self) -> int:
        return len(self.times)

    def as_dict(self) -> dict[str, float | int]:
        return {"median_s": self.median, "min_s": self.min, "n": self.n}


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn`` takes (for loops that :func:`measure` does not fit)."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _run(fn: Callable[[], object], self_timed: bool) -> float:
    start = time.perf_counter()
    out = fn()
    took = time.perf_counter() - start
    return float(out) if self_timed else took  # type: ignore[arg-type]


def measure(
    fn: Callable[[], object], repeats: int, warmup: int = 1, *, self_timed: bool = False
) -> Timing:
    """Call ``fn`` ``warmup`` times untimed, then ``repeats`` times timed.

    ``self_timed``: ``fn`` returns the seconds it measured itself (e.g. a child process that
    times its own imports), used instead of the wall time of the call.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    for _ in range(warmup):
        fn()
    return Timing([_run(fn, self_timed) for _ in range(repeats)])


def measure_interleaved(
    fns: Mapping[str, Callable[[], object]],
    repeats: int,
    warmup: int = 1,
    *,
    self_timed: bool = False,
) -> dict[str, Timing]:
    """Time several functions in turns, so that all see the same machine load.

    Each round calls every function once; the order rotates from round to round, so that no
    function always goes first (or always right after another one warmed the caches).
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    names = list(fns)
    for _ in range(warmup):
        for name in names:
            fns[name]()
    out = {name: Timing() for name in names}
    for i in range(repeats):
        k = i % len(names)
        for name in names[k:] + names[:k]:
            out[name].times.append(_run(fns[name], self_timed))
    return out


def fmt_seconds(seconds: float) -> str:
    """A duration with a unit that keeps 3 significant digits readable: s, ms or us."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} us"


def fmt_ratio(value: float) -> str:
    """1.03x, 25.4x, 3,050x."""
    if value >= 100:
        return f"{value:,.0f}x"
    if value >= 10:
        return f"{value:.1f}x"
    return f"{value:.3f}x"


# --------------------------------------------------------------------------- command line


def parse_args(
    doc: str | None,
    add_options: Callable[[argparse.ArgumentParser], None] | None = None,
    argv: list[str] | None = None,
) -> argparse.Namespace:
    """The bench's own options plus ``--quick`` and ``--out``."""
    parser = argparse.ArgumentParser(
        description=(doc or "").strip().splitlines()[0] if doc else None,
        epilog="Results: bench/results/<bench>.json (--quick: bench/results/quick/).",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes, few repeats: seconds, for the smoke test; figures are not comparable",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for the JSON (default bench/results, or bench/results/quick with --quick)",
    )
    if add_options is not None:
        add_options(parser)
    return parser.parse_args(argv)


# --------------------------------------------------------------------------- environment


def cpu_model() -> str:
    """The CPU's marketing name where the system tells it, else the architecture."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    if sys.platform == "darwin":
        try:
            out = subprocess.run(
                ["sysctl", "-n", "machdep.cpu.brand_string"],
                capture_output=True,
                text=True,
                timeout=5,
            )
            if out.returncode == 0 and out.stdout.strip():
                return out.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """CPU model, logical cores (all, and usable by this process), torch threads, GPU."""
    info: dict[str, Any] = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "system": f"{platform.system()} {platform.machine()}",
    }
    if "torch" in sys.modules:  # only when the bench used torch: importing it costs seconds
        import torch

        info["torch_threads"] = torch.get_num_threads()
        info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return info


def versions() -> dict[str, str | None]:
    """Installed versions of what the figures depend on (None: not installed)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for dist in ("torch", "numpy", "seglab", "segment-anything"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def code_version() -> dict[str, Any]:
    """The commit the measured code is at, and whether seglab/, bench/ or tools/ differ from it."""

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "--short=10", "HEAD")
    changed = git("status", "--porcelain", "--untracked-files=no", "--", "seglab", "bench", "tools")
    return {"commit": commit, "changed_since_commit": bool(changed) if commit else None}


# --------------------------------------------------------------------------- no paths

_WINDOWS_ABS = re.compile(r"^[A-Za-z]:[\\/]")


def check_no_paths(value: Any, where: str = "results") -> None:
    """Raise ``ValueError`` if any string in ``value`` (nested dicts/lists) is a filesystem
    path of this machine: absolute (``/...``, ``C:\\...``, ``~...``) or containing the home
    folder or the repository's folder. Results are committed; folders are nobody's business."""
    home = str(Path.home())
    root = str(ROOT)
    if isinstance(value, Mapping):
        for k, v in value.items():
            check_no_paths(k, where)
            check_no_paths(v, f"{where}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            check_no_paths(v, f"{where}[{i}]")
    elif isinstance(value, str):
        s = value.strip()
        if (
            s.startswith(("/", "~", "\\\\"))
            or _WINDOWS_ABS.match(s)
            or (len(home) > 1 and home in s)
            or root in s
        ):
            raise ValueError(f"{where} holds a filesystem path ({value!r}); record a name instead")
    elif isinstance(value, Path):
        raise ValueError(f"{where} holds a Path ({value}); record a name instead")


# --------------------------------------------------------------------------- report


def _plain(value: Any) -> Any:
    """Settings as JSON values (paths are dropped by the caller, never written)."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def _tidy(value: Any) -> Any:
    """Floats to 6 significant digits (timer noise starts well before), NaN/inf to None."""
    if isinstance(value, float):
        return float(f"{value:.6g}") if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: _tidy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_tidy(v) for v in value]
    return value


class Report:
    """What one bench run measured: figures, ratios, what was skipped; printed and written.

    Arguments:
      bench: the script's name without ``.py`` (the JSON file is ``<bench>.json``).
      args: the parsed options; ``quick`` and ``out`` are read, the others recorded as
        settings (Path-valued options are left out).
    """

    def __init__(self, bench: str, args: argparse.Namespace) -> None:
        self.bench = bench
        self.quick = bool(getattr(args, "quick", False))
        out = getattr(args, "out", None)
        self.out_dir = Path(out) if out else (QUICK_RESULTS if self.quick else RESULTS)
        self.settings = {
            k: _plain(v)
            for k, v in sorted(vars(args).items())
            if k not in ("quick", "out") and not isinstance(v, Path)
        }
        self.figures: dict[str, Any] = {}
        self.ratios: list[dict[str, Any]] = []
        self.skips: list[dict[str, str]] = []
        self.notes: list[str] = []
        self.started = dt.datetime.now(dt.timezone.utc)
        if self.quick:
            print("quick mode: tiny sizes and few repeats; the figures only show the code runs")

    def figure(self, name: str, value: Any) -> Any:
        """Record a number (or a small dict/list of numbers) under ``name``; returns it."""
        self.figures[name] = value
        return value

    def timing(self, name: str, timing: Timing) -> Timing:
        """Record a :class:`Timing` as median, min and count under ``name``; returns it."""
        self.figures[name] = timing.as_dict()
        return timing

    def note(self, text: str) -> None:
        """A sentence the reader of the JSON needs (e.g. which model was used)."""
        self.notes.append(text)

    def ratio(
        self,
        name: str,
        value: float,
        *,
        goal: float | None = None,
        higher_is_better: bool = True,
        meaning: str = "",
    ) -> float:
        """Print ``ratio <name>: <value>x`` (and the goal, met or not) and record it.

        Arguments:
          name: what is divided by what, e.g. ``"official / seglab, set_image"``.
          value: the ratio.
          goal: the bar it should clear; None when there is none (or not in this mode).
          higher_is_better: whether the goal is a minimum (True) or a maximum (False).
          meaning: a short gloss, e.g. ``"x faster"``.
        """
        met = None
        goal_text = ""
        if goal is not None:
            met = value >= goal if higher_is_better else value <= goal
            sign = ">=" if higher_is_better else "<="
            goal_text = f"  (goal {sign} {goal:g}: {'met' if met else 'NOT met'})"
        gloss = f" {meaning}" if meaning else ""
        print(f"ratio {name}: {fmt_ratio(value)}{gloss}{goal_text}")
        self.ratios.append(
            {
                "name": name,
                "value": value,
                "meaning": meaning,
                "goal": goal,
                "goal_is": None if goal is None else ("min" if higher_is_better else "max"),
                "met": met,
            }
        )
        return value

    def skipped(self, what: str, why: str) -> None:
        """Print and record something this run did not measure, and why."""
        print(f"skipped: {what} ({why})")
        self.skips.append({"what": what, "why": why})

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "bench": self.bench,
            "mode": "quick" if self.quick else "full",
            "date": self.started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "seconds": round((dt.datetime.now(dt.timezone.utc) - self.started).total_seconds(), 1),
            "code": code_version(),
            "machine": machine(),
            "versions": versions(),
            "settings": self.settings,
            "figures": self.figures,
            "ratios": self.ratios,
            "skipped": self.skips,
            "notes": self.notes,
        }

    def write(self, variant: str = "") -> Path:
        """Write ``<out>/<bench>.json`` atomically (a temporary file, then a rename).

        A ``variant`` (e.g. ``"exercises-solutions"``) names a second record of the same bench,
        ``<bench>-<variant>.json``, so that measuring other inputs keeps the main record."""
        record = _tidy(self.as_dict())
        check_no_paths(record)
        text = json.dumps(record, indent=2, allow_nan=False) + "\n"
        self.out_dir.mkdir(parents=True, exist_ok=True)
        stem = f"{self.bench}-{variant}" if variant else self.bench
        path = self.out_dir / f"{stem}.json"
        fd, tmp = tempfile.mkstemp(prefix=f".{stem}.", suffix=".tmp", dir=self.out_dir)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
        print(f"results: {shown}")
        return path
