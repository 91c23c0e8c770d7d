"""Small helpers that seglab's modules share: one home for each of these ideas.

- **torch tensors without importing torch** — :func:`is_tensor`, :func:`tensor_to_numpy`,
  :func:`numeric_array` (what a learner passed, as a numeric numpy array), :func:`kind_of` and
  :func:`describe_array` (what it was, in words).
- **argument types, one rule** — :func:`is_int`, :func:`is_bool`, :func:`is_real` and the
  ``check_*`` functions. The rule, everywhere in seglab: the wrong **type** (a bool, a float or
  a str where an int is wanted) raises ``TypeError``; the right type with a bad **value** (a
  negative count) raises ``ValueError``. ``True`` is an ``int`` to Python (``True + 1 == 2``),
  so every int check here refuses bools explicitly; NumPy integers are accepted.
- **atomic writes** — :func:`atomic_path` and :func:`write_atomically`: a file is written under
  a temporary name beside its target and renamed over it, so the target holds either the old
  file or the complete new one, never half of one.
- **numbers and values in messages** — :func:`format_number` and :func:`summarize_values`.
- **installed versions** — :func:`installed_version`, from package metadata.
- **renamed arguments** — :func:`warn_deprecated`, :func:`rename_keyword` (an old keyword that
  still works, with a ``DeprecationWarning``) and :func:`pick_spelling` (two accepted spellings,
  e.g. seglab's ``points=`` and SAM's ``point_coords=``); giving both spellings of one argument
  is a ``TypeError`` that names both.

``import seglab`` imports this module, so it stays light: it imports neither torch, PIL,
matplotlib nor IPython, and not even NumPy at import time (functions that need NumPy import it
when called). A tensor is recognised through ``sys.modules["torch"]``: when torch has not been
imported, nothing can be a tensor.
"""

from __future__ import annotations

import math
import numbers
import os
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import IO, TYPE_CHECKING, TypeGuard, TypeVar

if TYPE_CHECKING:
    import numpy as np
    import torch

_T = TypeVar("_T")

__all__ = [
    "atomic_path",
    "check_bool",
    "check_int",
    "check_real",
    "describe_array",
    "format_number",
    "installed_version",
    "is_bool",
    "is_int",
    "is_real",
    "is_tensor",
    "kind_of",
    "numeric_array",
    "pick_spelling",
    "rename_keyword",
    "summarize_values",
    "tensor_to_numpy",
    "warn_deprecated",
    "write_atomically",
]


# --------------------------------------------------------------------------- torch tensors


def is_tensor(value: object) -> TypeGuard[torch.Tensor]:
    """True for a ``torch.Tensor`` (or a subclass, e.g. ``nn.Parameter``); never imports torch."""
    torch = sys.modules.get("torch")
    tensor_type = getattr(torch, "Tensor", None)
    return tensor_type is not None and isinstance(value, tensor_type)


def tensor_to_numpy(tensor: torch.Tensor, name: str = "tensor") -> np.ndarray:
    """The values of a torch tensor as a numpy array.

    Detached from autograd and copied to the CPU when needed (a CPU tensor shares its memory
    with the result). float16 and bfloat16 become float32: numpy has no bfloat16, and float16
    arithmetic loses precision.

    Arguments:
      tensor (torch.Tensor): any shape, on any device.
      name (str): what to call it in the error message.

    Returns:
      np.ndarray: the same shape; bool, integer, float32/64 or complex dtype.

    Raises:
      TypeError: a dtype numpy cannot hold (e.g. torch.complex32).
    """
    tensor = tensor.detach()
    if tensor.device.type != "cpu":
        tensor = tensor.cpu()
    if tensor.dtype.is_floating_point and tensor.element_size() < 4:
        tensor = tensor.float()
    try:
        return tensor.numpy()
    except (TypeError, RuntimeError) as exc:
        raise TypeError(
            f"{name} is a torch tensor of dtype {tensor.dtype}, which numpy cannot hold. "
            f"Convert it first, e.g. {name}.float()."
        ) from exc


def kind_of(value: object) -> str:
    """What ``value`` is, in a learner's words: ``"torch tensor"``, ``"numpy array"`` or the
    name of its type (``"list"``, ``"str"``, ...)."""
    if is_tensor(value):
        return "torch tensor"
    np_module = sys.modules.get("numpy")
    if np_module is not None and isinstance(value, np_module.ndarray):
        return "numpy array"
    return type(value).__name__


def describe_array(value: object, array: np.ndarray, kind: str | None = None) -> str:
    """``"numpy array of shape (2, 3) and dtype float32"``: what was passed, for a message.

    Arguments:
      value: what the caller passed (a tensor reports its own dtype, e.g. torch.bfloat16).
      array (np.ndarray): ``value`` as a numpy array (its shape is reported).
      kind (str | None): the words for what ``value`` is; None: :func:`kind_of`.
    """
    dtype = value.dtype if is_tensor(value) else array.dtype
    return f"{kind or kind_of(value)} of shape {tuple(array.shape)} and dtype {dtype}"


def numeric_array(value: object, name: str) -> np.ndarray:
    """``value`` as a numpy array of bool, integer or float values (no copy when possible).

    Accepts numpy arrays, torch tensors (see :func:`tensor_to_numpy`), lists and tuples (also
    nested) and plain numbers; the caller checks the shape.

    Arguments:
      value: what the learner passed.
      name (str): its name in the error messages, e.g. ``"points"``.

    Returns:
      np.ndarray: dtype kind bool, signed or unsigned integer, or float.

    Raises:
      TypeError: None, a string, or values that are not real numbers (complex, objects, text).
      ValueError: nested lists whose rows differ in length (not rectangular).
    """
    import numpy as np

    if value is None:
        raise TypeError(f"{name} is None; pass a numpy array, a torch tensor or a list of numbers.")
    if isinstance(value, (str, bytes)):
        raise TypeError(
            f"{name} must be numbers (a numpy array, a torch tensor or a list), got "
            f"{type(value).__name__} {value!r}."
        )
    array = tensor_to_numpy(value, name) if is_tensor(value) else value
    try:
        array = np.asarray(array)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise ValueError(
            f"{name} is a {kind_of(value)} that is not rectangular ({exc}). Every row must "
            "have the same number of values."
        ) from exc
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} is a {kind_of(value)} of dtype {array.dtype}; pass real numbers (bool, int "
            f"or float), e.g. np.asarray({name}, dtype=float)."
        )
    return array


# --------------------------------------------------------------------------- argument types


def is_bool(value: object) -> TypeGuard[bool | np.bool_]:
    """True for ``True``/``False`` and NumPy bools (``np.bool_``, e.g. ``(a > 0).all()``)."""
    if isinstance(value, bool):
        return True
    np_module = sys.modules.get("numpy")
    return np_module is not None and isinstance(value, np_module.bool_)


def is_int(value: object) -> TypeGuard[int | np.integer]:
    """True for Python and NumPy integers; False for bools, floats (even ``3.0``), strings."""
    return isinstance(value, numbers.Integral) and not is_bool(value)


def is_real(value: object) -> TypeGuard[float | int | np.integer | np.floating]:
    """True for Python and NumPy ints and floats (NaN and inf included); False for bools."""
    return isinstance(value, numbers.Real) and not is_bool(value)


def _sentence(text: str) -> str:
    return f" {text}" if text else ""


def check_int(value: object, name: str, *, minimum: int | None = None, hint: str = "") -> int:
    """``value`` as a Python int, or raise by the one rule.

    Arguments:
      value: the argument to check.
      name (str): its name in the message, e.g. ``"epochs"``.
      minimum (int | None): the smallest value allowed (None: no lower bound).
      hint (str): a sentence that ends both messages, e.g. ``"Pass e.g. epochs=5."``.

    Returns:
      int: ``int(value)``.

    Raises:
      TypeError: not an integer: ``"epochs must be an int, got float 2.0."``.
      ValueError: below ``minimum``: ``"epochs must be an int >= 1, got 0."``.
    """
    if not is_int(value):
        raise TypeError(
            f"{name} must be an int, got {type(value).__name__} {value!r}.{_sentence(hint)}"
        )
    number = int(value)
    if minimum is not None and number < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {number}.{_sentence(hint)}")
    return number


def check_real(value: object, name: str, *, hint: str = "") -> float:
    """``value`` as a Python float if it is a real number (not a bool); ``TypeError`` otherwise.

    The caller checks the range (a ``ValueError``), e.g. ``alpha`` in [0, 1].
    """
    if not is_real(value):
        raise TypeError(
            f"{name} must be a number, got {type(value).__name__} {value!r}.{_sentence(hint)}"
        )
    return float(value)


def check_bool(value: object, name: str) -> bool:
    """``value`` as a Python bool if it is ``True``/``False`` (or a NumPy bool); ``TypeError``
    otherwise: 1, "yes" and None are refused, not guessed."""
    if not is_bool(value):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}.")
    return bool(value)


# --------------------------------------------------------------------------- atomic writes


@contextmanager
def atomic_path(path: str | os.PathLike[str], *, mode: int | None = 0o644) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write to; rename it over ``path`` at the end.

    The temporary file is ``<name>.<random>.tmp`` in the same folder (so the rename is one
    atomic step on one file system). When the ``with`` block raises (including Ctrl-C), the
    temporary file is deleted and ``path`` is untouched; otherwise it replaces ``path``. So a
    reader of ``path`` sees the old file or the complete new one, never a half-written file::

        with atomic_path(target) as tmp:
            torch.save(state, tmp)

    Arguments:
      path (str | PathLike): the file to write; its folder must exist.
      mode (int | None): permissions of the finished file. 0o644 (default): readable by
        everyone, like a file ``open()`` creates under the usual umask. None keeps the
        temporary file's 0o600 (owner only).

    Yields:
      Path: the temporary file (it exists, empty); write to it by name.
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_atomically(
    path: str | os.PathLike[str], write: Callable[[IO[bytes]], object], *, mode: int | None = 0o644
) -> None:
    """Call ``write(handle)`` on a binary file that replaces ``path`` only once complete.

    See :func:`atomic_path`; e.g. ``write_atomically(p, lambda f: np.save(f, mask))``.
    """
    with atomic_path(path, mode=mode) as tmp, open(tmp, "wb") as handle:
        write(handle)


# --------------------------------------------------------------------------- numbers and values


def format_number(value: object, *, digits: int = 6, exact: bool = False) -> str:
    """A number as short text for a message.

    Integers (Python or NumPy) as they are; floats with ``digits`` significant digits in
    ``%g`` style (``120.0 -> "120"``, ``0.30000000000000004 -> "0.3"``); NaN as ``"nan"``.
    With ``exact=True`` a float keeps Python's own spelling when it is at most 10 characters
    (``1.0 -> "1.0"``, so a float still reads as a float), and ``%.6g`` beyond. Anything else
    (a bool, a string) is ``str(value)``.
    """
    if not isinstance(value, (int, float)) and hasattr(value, "item"):
        value = value.item()  # a NumPy scalar, or a one-element array or tensor
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return str(int(value))
    value = float(value)  # np.float64 is a float, but its repr is "np.float64(...)"
    if math.isnan(value):
        return "nan"
    if exact:
        text = repr(value)
        return text if len(text) <= 10 else f"{value:.6g}"
    return f"{value:.{digits}g}"


def summarize_values(
    values: object, *, limit: int = 6, digits: int = 4, brackets: bool = True
) -> str:
    """The distinct values of an array, sorted, for an error message.

    ``[0, 1, 255]``; beyond ``limit`` values ``[0, 1, 2, 3, 4, 5, ... (100 distinct values)]``.
    NaN is listed last, once. Floats use ``digits`` significant digits (:func:`format_number`).

    Arguments:
      values: a numpy array, torch tensor (any device) or list, any shape.
      limit (int): how many values to list.
      digits (int): significant digits of float values.
      brackets (bool): wrap the list in ``[...]``.
    """
    import numpy as np

    array = tensor_to_numpy(values) if is_tensor(values) else np.asarray(values)
    distinct = np.unique(array)
    shown = ", ".join(format_number(v, digits=digits) for v in distinct[:limit])
    if len(distinct) > limit:
        shown += f", ... ({len(distinct)} distinct values)"
    return f"[{shown}]" if brackets else shown


# --------------------------------------------------------------------------- installed versions


def installed_version(distribution: str) -> str | None:
    """The installed version of a distribution (e.g. ``"torch"``), or None if it is absent.

    Read from the package metadata: nothing is imported.
    """
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


# --------------------------------------------------------------------------- renamed arguments


def warn_deprecated(old: str, new: str, *, removed_in: str, stacklevel: int = 2) -> None:
    """Warn (``DeprecationWarning``) that ``old`` is the former spelling of ``new``.

    ``stacklevel`` counts as in ``warnings.warn``, from the function that calls this one: 1
    points the warning at that function, 2 (default) at the code that called it - the learner's
    line, which is where the old spelling has to change.
    """
    warnings.warn(
        f"{old} is deprecated and will be removed in seglab {removed_in}: use {new} instead.",
        DeprecationWarning,
        stacklevel=stacklevel + 1,
    )


def _both_spellings(where: str, name: str, alias: str) -> str:
    return (
        f"{where} got both {name}= and {alias}=, two spellings of the same argument; "
        f"pass only one of them."
    )


def rename_keyword(
    kwargs: dict[str, _T],
    old: str,
    new: str,
    *,
    where: str,
    removed_in: str,
    stacklevel: int = 2,
) -> dict[str, _T]:
    """``kwargs`` with the deprecated keyword ``old`` renamed to ``new``.

    Returns ``kwargs`` itself when ``old`` is absent; else a new dict (same order) and a
    ``DeprecationWarning`` (``stacklevel`` as in :func:`warn_deprecated`).

    Raises:
      TypeError: both ``old`` and ``new`` were given (the message names both).
    """
    if old not in kwargs:
        return kwargs
    if new in kwargs:
        raise TypeError(_both_spellings(where, new, old))
    warn_deprecated(
        f"{where}({old}=...)", f"{new}=", removed_in=removed_in, stacklevel=stacklevel + 1
    )
    return {new if key == old else key: value for key, value in kwargs.items()}


def pick_spelling(
    where: str, name: str, value: _T, alias: str, alias_value: _T, *, unset: object = None
) -> _T:
    """The value of an argument accepted under two names, ``name`` and ``alias``.

    Arguments:
      where (str): the function, for the message, e.g. ``"Predictor.predict"``.
      name, value: seglab's spelling and what was passed under it.
      alias, alias_value: the other spelling and what was passed under it.
      unset: the value that means "not given" (the parameters' default; None by default).

    Returns:
      ``alias_value`` when only the alias was given, else ``value``.

    Raises:
      TypeError: both spellings were given (the message names both).
    """
    if alias_value is unset:
        return value
    if value is not unset:
        raise TypeError(_both_spellings(where, name, alias))
    return alias_value
