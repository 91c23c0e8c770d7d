"""tools/install_torch.py: the PyTorch build a machine gets, driven with fakes.

A fake ``nvidia-smi`` on PATH stands for the GPU (or a driver without one), a fake pip records
the arguments it was given, and PyTorch's CPU index is a local HTTP server that answers, a
closed port, or a port that never answers. Nothing is installed and nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import platform
import re
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _http_server import FileServer, closed_port_url

from tools import install_torch

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "install_torch.py"

GPU_LIST = "GPU 0: NVIDIA H200 (UUID: GPU-5d3a1f2e-0000-0000-0000-000000000000)"
NO_DRIVER = (
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
    "Make sure that the latest NVIDIA driver is installed and running."
)


class Machine:
    """A PATH with or without nvidia-smi, a fake pip, and where pip's argv lands."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        self.calls = tmp_path / "pip-calls.jsonl"
        fake_pip = tmp_path / "fake_pip.py"
        fake_pip.write_text(
            "import json, os, sys\n"
            f"with open({str(self.calls)!r}, 'a') as f:\n"
            "    f.write(json.dumps(sys.argv[1:]) + '\\n')\n"
            "sys.exit(int(os.environ.get('FAKE_PIP_EXIT', '0')))\n"
        )
        self.pip = shlex.join([sys.executable, str(fake_pip)])
        self.monkeypatch = monkeypatch
        monkeypatch.setenv("PATH", str(self.bin))  # no real nvidia-smi, whatever this machine has

    def system(self, system: str, machine: str) -> Machine:
        self.monkeypatch.setattr(platform, "system", lambda: system)
        self.monkeypatch.setattr(platform, "machine", lambda: machine)
        return self

    def nvidia_smi(self, stdout: str, exit_code: int = 0) -> None:
        exe = self.bin / "nvidia-smi"
        exe.write_text(f"#!/bin/sh\necho {shlex.quote(stdout)}\nexit {exit_code}\n")
        exe.chmod(0o755)

    def pip_calls(self) -> list[list[str]]:
        if not self.calls.exists():
            return []
        return [json.loads(line) for line in self.calls.read_text().splitlines()]

    def run(self, *args: str) -> int:
        return install_torch.main(["--pip", self.pip, *args])


@pytest.fixture
def machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Machine:
    return Machine(tmp_path, monkeypatch).system("Linux", "x86_64")


@pytest.fixture
def cpu_index() -> Iterator[FileServer]:
    """PyTorch's CPU index as far as the probe sees it: a page at <index>/torch/."""
    with FileServer(b"<html><a href='torch-2.14.1+cpu.whl'>torch</a></html>", "torch/") as server:
        yield server


def _lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().out.splitlines()


def test_linux_without_a_gpu_gets_the_cpu_index(
    machine: Machine, cpu_index: FileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert machine.run("--force", "--cpu-index", cpu_index.base_url) == 0
    assert machine.pip_calls() == [
        ["install", "--index-url", cpu_index.base_url, "torch", "torchvision"]
    ]
    assert cpu_index.requests == 1
    (line,) = _lines(capsys)
    assert "no NVIDIA GPU" in line and "CPU build" in line and cpu_index.base_url in line


def test_a_driver_that_lists_no_gpu_counts_as_no_gpu(
    machine: Machine, cpu_index: FileServer
) -> None:
    machine.nvidia_smi(NO_DRIVER, exit_code=9)
    assert machine.run("--force", "--cpu-index", cpu_index.base_url) == 0
    assert machine.pip_calls() == [
        ["install", "--index-url", cpu_index.base_url, "torch", "torchvision"]
    ]


def test_linux_with_an_nvidia_gpu_gets_the_default_cuda_build(
    machine: Machine, cpu_index: FileServer, capsys: pytest.CaptureFixture[str]
) -> None:
    machine.nvidia_smi(GPU_LIST)
    assert machine.run("--force", "--cpu-index", cpu_index.base_url) == 0
    assert machine.pip_calls() == [["install", "torch", "torchvision"]]
    assert cpu_index.requests == 0, "no reason to ask the CPU index on a GPU machine"
    (line,) = _lines(capsys)
    assert "NVIDIA GPU found" in line and "CUDA" in line


@contextlib.contextmanager
def _unreachable_index(kind: str) -> Iterator[str]:
    """A CPU index URL that cannot serve torch: nothing listens, a 404, or no answer at all."""
    if kind == "closed port":
        yield closed_port_url("whl/cpu")
    elif kind == "404":
        with FileServer(b"", "not-torch/") as server:
            yield server.base_url
    else:
        with socket.socket() as s:  # the kernel accepts connections; nobody ever answers
            s.bind(("127.0.0.1", 0))
            s.listen(8)
            yield f"http://127.0.0.1:{s.getsockname()[1]}/whl/cpu"


@pytest.mark.parametrize("kind", ["closed port", "404", "silent"])
def test_an_unreachable_cpu_index_falls_back_in_one_line(
    machine: Machine, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    with _unreachable_index(kind) as index:
        start = time.monotonic()
        assert machine.run("--force", "--cpu-index", index, "--probe-timeout", "1") == 0
        elapsed = time.monotonic() - start
    assert machine.pip_calls() == [["install", "torch", "torchvision"]]
    assert elapsed < 3, f"the probe took {elapsed:.1f} s with a 1 s limit"
    (line,) = _lines(capsys)
    assert "CPU index cannot be reached" in line and "pip's default index" in line, line
    if kind == "silent":
        assert "no answer within 1 s" in line, line


def test_the_probe_waits_at_most_five_seconds_by_default() -> None:
    assert install_torch.PROBE_TIMEOUT_S <= 5
    assert install_torch.CPU_INDEX == "https://download.pytorch.org/whl/cpu"


@pytest.mark.parametrize(
    ("system", "cpu"), [("Darwin", "arm64"), ("Windows", "AMD64"), ("Linux", "aarch64")]
)
def test_other_systems_get_what_pip_chooses(
    machine: Machine,
    cpu_index: FileServer,
    capsys: pytest.CaptureFixture[str],
    system: str,
    cpu: str,
) -> None:
    machine.system(system, cpu)
    machine.nvidia_smi(GPU_LIST)
    assert machine.run("--force", "--cpu-index", cpu_index.base_url) == 0
    assert machine.pip_calls() == [["install", "torch", "torchvision"]]
    assert cpu_index.requests == 0
    (line,) = _lines(capsys)
    assert "as pip chooses" in line


def test_an_explicit_index_is_used_as_given(machine: Machine, cpu_index: FileServer) -> None:
    machine.run("--force", "--index", "default", "--cpu-index", cpu_index.base_url)
    machine.run("--force", "--index", "https://download.pytorch.org/whl/cu126")
    assert machine.pip_calls() == [
        ["install", "torch", "torchvision"],
        [
            "install",
            "--index-url",
            "https://download.pytorch.org/whl/cu126",
            "torch",
            "torchvision",
        ],
    ]
    assert cpu_index.requests == 0


def test_installed_torch_is_kept(machine: Machine, capsys: pytest.CaptureFixture[str]) -> None:
    # this test's own environment has torch and torchvision (seglab needs them)
    assert machine.run() == 0
    assert machine.pip_calls() == []
    (line,) = _lines(capsys)
    assert re.search(r"torch \S+ and torchvision \S+ already installed", line), line


def test_a_failing_pip_fails_the_script_and_says_how_to_choose(
    machine: Machine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAKE_PIP_EXIT", "3")
    assert machine.run("--force", "--index", "default") == 3
    assert "TORCH_INDEX=default" in capsys.readouterr().err


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.machine() != "x86_64", reason="Linux x86_64 only"
)
def test_as_the_makefile_runs_it(machine: Machine) -> None:
    """A separate process, real PATH lookup of a fake nvidia-smi, offline CPU index."""
    command = [
        sys.executable,
        str(SCRIPT),
        "--force",
        "--pip",
        machine.pip,
        "--cpu-index",
        closed_port_url("whl/cpu"),
    ]
    env = {"PATH": str(machine.bin)}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1, result.stdout
    assert "pip's default index" in result.stdout
    machine.nvidia_smi(GPU_LIST)
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert "NVIDIA GPU found" in result.stdout
    assert machine.pip_calls() == [["install", "torch", "torchvision"]] * 2


def test_the_makefile_installs_torch_before_seglab() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for target in (".installed-lab:", ".installed-dev:"):
        recipe = makefile.split(target, 1)[1].split("\n\n", 1)[0]
        torch_at = recipe.find("$(INSTALL_TORCH)")
        seglab_at = recipe.find("pip install -e")
        assert 0 <= torch_at < seglab_at, f"{target} must run tools/install_torch.py first"
    assert "tools/install_torch.py" in makefile
