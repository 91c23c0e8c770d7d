"""Tests for bench/: every bench runs in --quick mode, prints a ratio and writes a clean record.

A rename in seglab that breaks a bench fails here, not months later when someone reruns it. The
quick runs write into a temporary folder, never over the committed ``bench/results/*.json``;
those committed results are checked too (same fields, no paths). The timing helper's own rules
(no paths in a record, atomic writes, interleaving) are tested without running a bench.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
BENCHES = sorted(p.stem for p in BENCH.glob("*.py") if not p.name.startswith("_"))
RATIO_LINE = re.compile(r"^ratio .+: [\d,.]+x", re.MULTILINE)


def load_timing():
    """bench/_timing.py, imported as the bench scripts import it (bench/ is not a package)."""
    if "_timing" not in sys.modules:
        spec = importlib.util.spec_from_file_location("_timing", BENCH / "_timing.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["_timing"] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules["_timing"]


def strings(value):
    """Every string in a JSON value, keys included."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)
    elif isinstance(value, str):
        yield value


def check_record(record: dict, bench: str, mode: str) -> None:
    assert record["bench"] == bench and record["mode"] == mode
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["date"])
    machine = record["machine"]
    assert machine["cpu"] and isinstance(machine["cores"], int) and machine["cores"] >= 1
    versions = record["versions"]
    for name in ("python", "torch", "numpy", "seglab"):
        assert versions[name], f"{bench}: no {name} version"
    assert record["figures"], f"{bench}: no figures"
    assert record["ratios"] and all(isinstance(r["value"], float) for r in record["ratios"])
    home = str(Path.home())
    for s in strings(record):
        assert not s.startswith(("/", "~")), f"{bench}: a path in the record: {s!r}"
        assert str(ROOT) not in s and (len(home) < 2 or home not in s), s


def test_every_bench_is_listed_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in BENCHES:
        assert f"bench/{name}.py" in readme, f"README does not mention bench/{name}.py"


@pytest.mark.slow
@pytest.mark.parametrize("bench", BENCHES)
def test_bench_quick_mode_runs_prints_a_ratio_and_writes_a_clean_record(bench, tmp_path):
    # every DeprecationWarning shown, wherever raised: a bench on a deprecated name fails here
    env = {**os.environ, "TQDM_DISABLE": "1", "PYTHONWARNINGS": "default::DeprecationWarning"}
    done = subprocess.run(
        [sys.executable, str(BENCH / f"{bench}.py"), "--quick", "--out", str(tmp_path)],
        cwd=tmp_path,  # no reliance on being started from the repository
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{bench} --quick failed:\n{done.stdout}\n{done.stderr}"
    assert RATIO_LINE.search(done.stdout), f"{bench} printed no ratio:\n{done.stdout}"
    assert "DeprecationWarning" not in done.stderr, f"{bench} calls deprecated code:\n{done.stderr}"
    written = list(tmp_path.glob("*.json"))
    assert [p.name for p in written] == [f"{bench}.json"]
    check_record(json.loads(written[0].read_text(encoding="utf-8")), bench, "quick")
    assert not list(tmp_path.glob(".*.tmp")), "a temporary file was left behind"


@pytest.mark.parametrize("path", sorted((BENCH / "results").glob("*.json")), ids=lambda p: p.name)
def test_committed_results_are_full_runs_with_machine_versions_and_no_paths(path):
    record = json.loads(path.read_text(encoding="utf-8"))
    bench = path.stem.split("-")[0]  # course_time-exercises-solutions: a second course_time record
    check_record(record, bench, "full")
    assert bench in BENCHES, f"{path.name} has no bench script"


# --------------------------------------------------------------------------- the helper


def test_measure_warms_up_then_times_each_repeat():
    timing = load_timing()
    calls = []
    t = timing.measure(lambda: calls.append(1), repeats=3, warmup=2)
    assert len(calls) == 5 and t.n == 3 and 0 <= t.min <= t.median


def test_interleaved_rotates_who_goes_first():
    timing = load_timing()
    order = []
    fns = {name: (lambda n=name: order.append(n)) for name in "ab"}
    out = timing.measure_interleaved(fns, repeats=4, warmup=0)
    assert order == ["a", "b", "b", "a", "a", "b", "b", "a"]
    assert out["a"].n == out["b"].n == 4


def test_self_timed_uses_what_the_function_returns():
    timing = load_timing()
    t = timing.measure(lambda: 2.5, repeats=2, warmup=0, self_timed=True)
    assert t.times == [2.5, 2.5]


@pytest.mark.parametrize(
    "value", ["/home/someone/x.json", "~/x", "C:\\Users\\x", {"a": ["ok", "/tmp/y"]}]
)
def test_records_refuse_paths(value):
    timing = load_timing()
    with pytest.raises(ValueError, match="path"):
        timing.check_no_paths({"figures": value})
    timing.check_no_paths({"figures": {"a b / c": 1.0, "ratio": "x / y"}})


def test_report_writes_atomically_without_paths_and_quick_goes_elsewhere(tmp_path, capsys):
    timing = load_timing()
    args = argparse.Namespace(quick=True, out=tmp_path, repeats=3, folder=tmp_path / "x")
    report = timing.Report("demo", args)
    report.timing("fast", timing.Timing([0.1, 0.3, 0.2]))
    report.figure("nan is null", float("nan"))
    report.ratio("slow / fast", 2.0, goal=1.5)
    report.skipped("the big model", "quick mode")
    path = report.write()
    out = capsys.readouterr().out
    assert "ratio slow / fast: 2.000x  (goal >= 1.5: met)" in out
    assert "skipped: the big model (quick mode)" in out
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["settings"] == {"repeats": 3}  # the Path option is left out
    assert record["figures"]["fast"] == {"median_s": 0.2, "min_s": 0.1, "n": 3}
    assert record["figures"]["nan is null"] is None
    assert record["ratios"][0]["met"] is True
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.json"]
    default = timing.Report("demo", argparse.Namespace(quick=True, out=None))
    assert default.out_dir == BENCH / "results" / "quick"
    assert timing.Report("demo", argparse.Namespace(quick=False, out=None)).out_dir == (
        BENCH / "results"
    )


# --------------------------------------------------------------------------- sam_cost


def load_bench(name: str):
    """A bench script as a module (its ``_timing`` import served by :func:`load_timing`)."""
    load_timing()
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sam_cost_always_measures_the_vit_b_baseline_and_names_the_choices():
    sam_cost = load_bench("sam_cost")
    assert sam_cost.models_option("vit_h") == ["vit_b", "vit_h"]
    assert sam_cost.models_option("ViT-L, vit_b") == ["vit_b", "vit_l"]
    with pytest.raises(argparse.ArgumentTypeError, match=r"vit_x.*vit_b, vit_l, vit_h"):
        sam_cost.models_option("vit_x,vit_l")
