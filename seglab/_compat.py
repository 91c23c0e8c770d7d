"""Installed versions that pip accepts together but that fail at run time, caught at import.

torch 2.1 and 2.2 were compiled against NumPy 1. Beside NumPy 2 they import with a warning
("Failed to initialize NumPy") and then fail at the first ``torch.from_numpy`` or
``Tensor.numpy()``, deep inside a lesson. pip cannot prevent the pair: seglab accepts
torch >= 2.1, and which NumPy works depends on which torch is installed. So ``import seglab``
checks it once, from the installed packages' metadata, without importing either library.
"""

from __future__ import annotations

import re

from seglab._util import installed_version

__all__ = ["TORCH_FOR_NUMPY2", "check_installed_versions", "installed_version", "numpy_abi_problem"]

#: The first torch release built against NumPy 2 (its wheels work with NumPy 1 and 2).
TORCH_FOR_NUMPY2 = (2, 3)


def _major_minor(version: str) -> tuple[int, int] | None:
    match = re.match(r"(\d+)\.(\d+)", version)
    return (int(match[1]), int(match[2])) if match else None


def numpy_abi_problem(torch_version: str | None, numpy_version: str | None) -> str | None:
    """What is wrong with this torch beside this NumPy, and how to fix it; None if they work.

    Arguments:
      torch_version, numpy_version: versions as installed, e.g. ``"2.1.2+cu121"`` and
        ``"2.2.6"``; None when the package is not installed (then there is nothing to check).

    Returns:
      str | None: an error message naming both versions and two fixes, or None.
    """
    if torch_version is None or numpy_version is None:
        return None
    torch_mm, numpy_mm = _major_minor(torch_version), _major_minor(numpy_version)
    if torch_mm is None or numpy_mm is None or numpy_mm < (2, 0) or torch_mm >= TORCH_FOR_NUMPY2:
        return None
    return (
        f"torch {torch_version} was built for NumPy 1 and cannot exchange arrays with the "
        f"installed NumPy {numpy_version} (torch.from_numpy and Tensor.numpy fail). Fix one "
        "side: pip install 'numpy<2', or upgrade torch: pip install -U 'torch>=2.3' torchvision"
    )


def check_installed_versions() -> None:
    """Raise ``ImportError``, naming the fix, when the installed torch and NumPy cannot work."""
    problem = numpy_abi_problem(installed_version("torch"), installed_version("numpy"))
    if problem is not None:
        raise ImportError(problem)
