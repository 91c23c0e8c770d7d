"""Pick a device, describe the environment, seed everything.

Three small jobs that every notebook starts with:

- :func:`get_device` chooses where tensors and models live: CUDA, then Apple's MPS, then the
  CPU. The environment variable ``SEGLAB_DEVICE`` overrides the automatic choice (for example
  ``SEGLAB_DEVICE=cpu`` on a laptop whose GPU is busy), and an explicit ``prefer=`` argument
  overrides both.
- :func:`describe_environment` returns a short text (Python, torch, CUDA, GPU, Colab or not)
  that a learner can paste into a question on a forum.
- :func:`seed_everything` seeds Python, NumPy and torch so a notebook gives the same numbers on
  every run.

Nothing here runs at import time: the GPU is probed only when a function is called.
"""

from __future__ import annotations

import os
import platform
import random
import sys

import numpy as np
import torch

from seglab import _env
from seglab._util import check_int, installed_version

DEVICE_ENV_VAR = _env.DEVICE.name  # "SEGLAB_DEVICE"; every SEGLAB_* variable is in seglab._env
_KINDS = ("cuda", "mps", "cpu")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def _available(kind: str) -> bool:
    if kind == "cuda":
        return torch.cuda.is_available()
    if kind == "mps":
        return _mps_available()
    return kind == "cpu"


def _cuda_count() -> int:
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _this_machine() -> list[str]:
    """The names ``get_device`` accepts on this machine, e.g. ``['cuda:0', 'cuda:1', 'cpu']``.

    Only what exists here: a learner without a GPU is not offered ``cuda`` or ``mps``.
    """
    count = _cuda_count()
    names = ["cuda"] if count == 1 else [f"cuda:{i}" for i in range(count)]
    if _mps_available():
        names.append("mps")
    return [*names, "cpu"]


def _offer() -> str:
    """The end of every device error: what to pass instead, on this machine."""
    names = _this_machine()
    if names == ["cpu"]:
        return "This machine has only the CPU: pass 'cpu', or leave it unset."
    return (
        f"This machine has {', '.join(map(repr, names))}: pass one of those, "
        "or leave it unset to choose automatically."
    )


def _why_not(kind: str) -> str:
    """Why ``kind`` (cuda or mps) is missing, when the reason is known without probing hardware."""
    if kind == "cuda" and torch.version.cuda is None and torch.version.hip is None:
        return f" (this PyTorch, {torch.__version__}, is a CPU-only build)"
    if kind == "mps" and platform.system() != "Darwin":
        return " (MPS is the GPU of Apple silicon Macs)"
    return ""


def _parse(value: str | torch.device, source: str) -> torch.device:
    if isinstance(value, torch.device):
        device = value
    elif isinstance(value, str):
        try:
            device = torch.device(value.strip().lower())
        except RuntimeError:
            # torch's message lists its 20 device types, most of which no learner has: it
            # teaches nothing here, so it is not chained (no second traceback above ours).
            raise ValueError(
                f"{source} is {value!r}, which is not a device name. {_offer()}"
            ) from None
    else:
        raise TypeError(
            f"{source} must be a str or torch.device, got {type(value).__name__}. {_offer()}"
        )
    if device.type not in _KINDS:
        raise ValueError(f"{source} is {value!r}, a device seglab does not run on. {_offer()}")
    if not _available(device.type):
        raise ValueError(
            f"{source} asks for {device.type!r}, but this machine has no usable {device.type} "
            f"device{_why_not(device.type)}. {_offer()}"
        )
    count = _cuda_count() if device.type == "cuda" else 1
    if device.index is not None and device.index >= count:
        raise ValueError(
            f"{source} asks for {str(device)!r}, but this machine has {count} "
            f"{device.type} device{'s' if count > 1 else ''} (index {device.index} is too large). "
            f"{_offer()}"
        )
    return device


def get_device(prefer: str | torch.device | None = None) -> torch.device:
    """Return the device to compute on.

    Order of precedence:

    1. ``prefer``, when given (``'cuda'``, ``'cuda:1'``, ``'mps'``, ``'cpu'`` or a
       ``torch.device``);
    2. the environment variable ``SEGLAB_DEVICE``, when set and not empty;
    3. the first available of CUDA, MPS, CPU.

    Arguments:
      prefer (str | torch.device | None): the device you want, or None to choose.

    Returns:
      torch.device: a device that exists on this machine.

    Raises:
      ValueError: the requested device is unknown or not available here; the message lists
        only what this machine has (no ``cuda`` or ``mps`` where there is none).
      TypeError: ``prefer`` is neither a string nor a ``torch.device``.
    """
    if prefer is not None:
        return _parse(prefer, "prefer")
    env = _env.DEVICE.get()
    if env:
        return _parse(env, f"the environment variable {DEVICE_ENV_VAR}")
    for kind in _KINDS:
        if _available(kind):
            return torch.device(kind)
    return torch.device("cpu")  # pragma: no cover - the loop always ends at cpu


def in_colab() -> bool:
    """True when running inside Google Colab."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def describe_environment() -> str:
    """Describe this Python, torch and GPU setup as a few lines of plain text.

    Paste it into a question when something does not work: it names the versions that matter
    for the course. Calling it probes the GPU (this is the only place that does on purpose).

    Returns:
      str: lines of ``name: value``, e.g. ``torch: 2.4.1 (CUDA 12.1)``.
    """
    lines = [
        f"Python: {platform.python_version()} ({platform.system()} {platform.machine()})",
    ]
    cuda_build = torch.version.cuda
    lines.append(
        f"torch: {torch.__version__}"
        + (f" (built with CUDA {cuda_build})" if cuda_build else " (CPU build)")
    )
    for dist in ("torchvision", "segment-anything", "numpy", "matplotlib", "ipywidgets"):
        lines.append(f"{dist}: {installed_version(dist) or 'not installed'}")
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            lines.append(f"GPU {index}: {props.name}, {props.total_memory / 2**30:.1f} GiB")
    elif _mps_available():
        lines.append("GPU: Apple MPS available")
    else:
        lines.append("GPU: none (the course runs on the CPU)")
    lines.append(f"CPU threads used by torch: {torch.get_num_threads()}")
    lines.append(f"Colab: {'yes' if in_colab() else 'no'}")
    lines.append(f"seglab device: {get_device()}")
    return "\n".join(lines)


def seed_everything(seed: int = 0, *, deterministic: bool = False) -> int:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and CUDA).

    Arguments:
      seed (int): an integer in [0, 2**32 - 1].
      deterministic (bool): also ask torch for deterministic algorithms
        (``torch.use_deterministic_algorithms(True, warn_only=True)``); slower on a GPU.

    Returns:
      int: the seed, so ``rng = np.random.default_rng(seed_everything(0))`` reads naturally.

    Raises:
      TypeError: ``seed`` is not an integer (``bool`` and ``float`` are refused too).
      ValueError: ``seed`` is outside [0, 2**32 - 1].
    """
    seed = check_int(seed, "seed", hint="Pass e.g. seed=0.")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32 - 1], got {seed}. Pass e.g. seed=0.")
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - the legacy global generator is what old code uses
    torch.manual_seed(seed)  # also seeds every CUDA device
    os.environ["PYTHONHASHSEED"] = str(seed)  # for subprocesses; this one is already running
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
    return seed
