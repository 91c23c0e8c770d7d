"""Install the PyTorch build this machine can use, before seglab itself is installed.

``make lab`` and ``make test`` run this with the virtual environment's Python, just before
``pip install -e ".[lab]"`` (which then finds torch and torchvision installed and keeps them).
Why: on Linux x86_64 pip's default torch is the CUDA build, whose NVIDIA libraries and Triton
make a ~6 GB environment; on a machine without an NVIDIA GPU over 4 GB of that never runs.

What it installs (one line on stdout says which, and why):

- Linux x86_64 without an NVIDIA GPU (no ``nvidia-smi``, or one that lists no GPU): torch and
  torchvision from PyTorch's CPU wheel index, https://download.pytorch.org/whl/cpu — after
  checking, for at most 5 s, that the index answers. Where it does not (offline, behind a
  mirror-only network), pip's default index instead, said in one line.
- Linux with an NVIDIA GPU: the default build from pip's index (CUDA).
- macOS, Windows, other CPUs: whatever pip chooses (their default wheels carry no CUDA).
- torch and torchvision already installed: nothing (``make clean-venv`` to start over).

pip's own configuration applies as usual (mirrors, constraints files, certificates): the script
adds ``--index-url`` for the CPU index and nothing else.

Options (``python tools/install_torch.py --help``): ``--index default`` or ``--index URL``
chooses for you (``make lab TORCH_INDEX=https://download.pytorch.org/whl/cu126``); ``--force``
installs even when torch is there; ``--pip``, ``--cpu-index`` and ``--probe-timeout`` exist
for the tests (tests/test_install_torch.py), which run it with a fake pip and a fake
``nvidia-smi``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import platform
import shlex
import shutil
import subprocess
import sys
import threading
import urllib.request
from dataclasses import dataclass

CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PROBE_TIMEOUT_S = 5.0
PACKAGES = ("torch", "torchvision")
PREFIX = "install_torch:"


@dataclass(frozen=True)
class Plan:
    """Where to install torch from: ``index`` None means pip's default index."""

    index: str | None
    why: str


def has_nvidia_gpu(timeout: float = 15.0) -> bool:
    """True when ``nvidia-smi -L`` runs and lists a GPU (a driver without a GPU lists none)."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return False
    try:
        result = subprocess.run(
            [exe, "-L"], capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0 and "GPU" in result.stdout


def probe(index: str, timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """None when ``index`` serves a torch page within ``timeout`` seconds, else why not.

    The whole probe (name lookup included, which urllib's own timeout does not bound) runs in a
    thread that is abandoned after ``timeout``.
    """
    url = index.rstrip("/") + "/torch/"
    outcome: list[str | None] = []

    def get() -> None:
        try:
            request = urllib.request.Request(url, headers={"User-Agent": "seglab-install-torch"})
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read(1)
            outcome.append(None)
        except Exception as exc:  # any failure means "use the default index"
            reason = getattr(exc, "reason", None) or exc
            outcome.append(str(reason).strip() or type(exc).__name__)

    thread = threading.Thread(target=get, daemon=True)
    thread.start()
    thread.join(timeout)
    return outcome[0] if outcome else f"no answer within {timeout:g} s"


def choose(cpu_index: str, probe_timeout: float) -> Plan:
    """The automatic choice, by operating system, CPU, GPU and whether the CPU index answers."""
    system, machine = platform.system(), platform.machine().lower()
    if system != "Linux" or machine not in ("x86_64", "amd64"):
        where = {"Darwin": "macOS"}.get(system, system or "this system")
        return Plan(None, f"{where} {machine}: torch and torchvision as pip chooses")
    if has_nvidia_gpu():
        return Plan(None, "NVIDIA GPU found (nvidia-smi): the default CUDA build of torch")
    problem = probe(cpu_index, probe_timeout)
    if problem is None:
        return Plan(
            cpu_index, f"no NVIDIA GPU: the CPU build of torch and torchvision from {cpu_index}"
        )
    return Plan(
        None,
        f"no NVIDIA GPU, but PyTorch's CPU index cannot be reached ({problem}), so torch comes "
        "from pip's default index instead: on Linux the CUDA build, several GB larger",
    )


def _installed() -> dict[str, str] | None:
    try:
        return {name: importlib.metadata.version(name) for name in PACKAGES}
    except importlib.metadata.PackageNotFoundError:
        return None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--index",
        help="'default' for pip's default index, or an index URL; skips the automatic choice",
    )
    parser.add_argument(
        "--force", action="store_true", help="install even when torch is installed already"
    )
    parser.add_argument(
        "--pip",
        default=shlex.join([sys.executable, "-m", "pip"]),
        help="the pip command (default: this Python's pip)",
    )
    parser.add_argument("--cpu-index", default=CPU_INDEX, help="PyTorch's CPU wheel index")
    parser.add_argument(
        "--probe-timeout",
        type=float,
        default=PROBE_TIMEOUT_S,
        help="seconds to wait for the CPU index (default %(default)g)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    installed = _installed()
    if installed and not args.force:
        versions = " and ".join(f"{name} {version}" for name, version in installed.items())
        print(f"{PREFIX} {versions} already installed; keeping them (make clean-venv to redo)")
        return 0
    if args.index == "default":
        plan = Plan(None, "--index default: torch and torchvision from pip's default index")
    elif args.index:
        plan = Plan(args.index, f"--index: torch and torchvision from {args.index}")
    else:
        plan = choose(args.cpu_index, args.probe_timeout)
    print(f"{PREFIX} {plan.why}", flush=True)
    command = [*shlex.split(args.pip), "install"]
    if plan.index:
        command += ["--index-url", plan.index]
    command += list(PACKAGES)
    returncode = subprocess.run(command, check=False).returncode
    if returncode != 0:
        print(
            f"{PREFIX} `{shlex.join(command)}` failed (exit {returncode}); to choose the index "
            "yourself: make lab TORCH_INDEX=default (or an index URL)",
            file=sys.stderr,
        )
    return returncode


if __name__ == "__main__":
    sys.exit(main())
