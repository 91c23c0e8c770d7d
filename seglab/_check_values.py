"""Values in the exercise checkers' words: describe them, compare them, fingerprint them.

:mod:`seglab.checks` runs a learner's function on a question's cases; this module holds what
it needs to talk about the values involved:

- :func:`describe` — a short, deterministic description for a message ("array of shape
  (2, 3), dtype uint8, values [[0, 1, 2], [3, 4, 5]]");
- :func:`compare` — whether a returned value is the expected one, and if not, what differs;
- :func:`same_input` — whether an argument was changed in place;
- :func:`fingerprint` and :func:`same_fingerprint` — a snapshot of what a call did (its
  result and its arguments afterwards), so that a learner's function can be recognised as
  behaving like a known mistake (:class:`seglab.checks.Mistake`).
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from seglab._util import format_number, is_bool, is_int, is_real, is_tensor, tensor_to_numpy

__all__ = ["compare", "describe", "fingerprint", "same_fingerprint", "same_input", "short"]

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{4,}")
_MAX_VALUES = 16  # arrays with at most this many elements are shown in full
_ABS_TOL = 1e-6  # tolerance when comparing floats (IoU 1/3 computed two ways)


# --------------------------------------------------------------------------- describing values


def short(text: str, limit: int = 160) -> str:
    """``text`` on one line, memory addresses blanked out, cut to ``limit`` characters."""
    text = re.sub(r"\s*\n\s*", " ", _ADDRESS.sub("0x...", text))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _array_values(array: np.ndarray) -> str:
    """A one-line picture of an array's values: all of them when few, a summary otherwise."""
    if array.size <= _MAX_VALUES:
        shown = array.astype(np.uint8) if array.dtype.kind == "b" else array
        text = np.array2string(shown, separator=", ", threshold=_MAX_VALUES, precision=4)
        return "values " + re.sub(r"\s+", " ", text).replace("[ ", "[")
    if array.dtype.kind == "b":
        return f"{int(array.sum())} of {array.size} True"
    if array.dtype.kind not in "iuf":
        return f"{array.size} values"
    finite = array[np.isfinite(array)] if array.dtype.kind == "f" else array
    parts = []
    if finite.size:
        parts.append(f"values in [{num(finite.min())}, {num(finite.max())}]")
    if array.dtype.kind == "f":
        n_nan = int(np.isnan(array).sum())
        if n_nan:
            parts.append(f"{n_nan} NaN")
    distinct = np.unique(finite)
    if 0 < distinct.size <= 4:
        parts.append("distinct " + ", ".join(num(v) for v in distinct))
    return ", ".join(parts) or f"{array.size} values"


def num(value: object) -> str:
    """A number as a learner would type it: a float keeps its point (1.0), see format_number."""
    return format_number(value, exact=True)


def _numbers_only(value: object) -> bool:
    """True for (nested) lists and tuples of plain numbers."""
    if isinstance(value, (tuple, list)):
        return all(_numbers_only(v) for v in value)
    return isinstance(value, (int, float)) and not is_bool(value)


def describe(value: object) -> str:
    """A short, deterministic description of ``value`` for a check message.

    Arrays and tensors give their shape, dtype and values (all of them up to 16 elements, a
    summary beyond); numbers give their value; functions their name; anything else its type
    and a shortened repr with memory addresses blanked out.

    Arguments:
      value: anything a learner's function may receive or return.

    Returns:
      str: one line of text.
    """
    if value is None or is_bool(value):
        return repr(bool(value)) if value is not None else "None"
    if value is Ellipsis:
        return "... (Ellipsis)"
    if isinstance(value, numbers.Integral):
        return f"{int(value)} ({type(value).__name__})"
    if isinstance(value, numbers.Real):
        return f"{num(float(value))} ({type(value).__name__})"
    if isinstance(value, str):
        return short(repr(value), 80)
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape}, dtype {value.dtype}, {_array_values(value)}"
    if is_tensor(value):
        return (
            f"torch tensor of shape {tuple(value.shape)}, dtype {value.dtype}, "
            f"{_array_values(tensor_to_numpy(value))}"
        )
    if isinstance(value, BaseException):
        return short(f"{type(value).__name__}({str(value)!r})", 300)
    if isinstance(value, Mapping):
        keys = ", ".join(short(repr(k), 60) for k in list(value)[:3])
        more = ", ..." if len(value) > 3 else ""
        return f"{type(value).__name__} with {len(value)} keys ({keys}{more})"
    if isinstance(value, (tuple, list)):
        kind = type(value).__name__
        if _numbers_only(value) and len(repr(value)) <= 80:
            return f"{kind} {value!r}"
        if len(value) <= 4:
            inner = "; ".join(describe(v) for v in value)
            return short(f"{kind} of {len(value)}: ({inner})", 400)
        return short(f"{kind} of length {len(value)}: {value!r}")
    if callable(value) and hasattr(value, "__name__"):
        return f"function {value.__name__}"
    if hasattr(value, "named_parameters") and hasattr(value, "parameters"):  # a torch module
        n = sum(p.numel() for p in value.parameters())
        config = getattr(value, "config", None)
        detail = f", {short(repr(config), 200)}" if config is not None else ""
        return f"{type(value).__name__} module ({n:,} parameters{detail})"
    if hasattr(value, "is_image_set"):  # a SAM predictor
        size = getattr(value, "original_size", None) if value.is_image_set else None
        image = f"a {size[0]}x{size[1]} image set" if size else "no image set"
        return f"{type(value).__name__} ({image})"
    if hasattr(value, "param_groups"):  # a torch optimizer
        lr = value.param_groups[0].get("lr") if value.param_groups else None
        return f"{type(value).__name__} optimizer (lr={lr})"
    return f"{type(value).__name__}: {short(repr(value))}"


# --------------------------------------------------------------------------- comparing values


def compare(expected: object, got: object) -> str | None:
    """None when ``got`` matches ``expected``; otherwise what differs, in words ("" when the
    expected and returned values, printed side by side, say it all).

    Floats are compared with a tolerance of 1e-6 (NaN matches NaN), arrays by shape, dtype
    and values, ints exactly; a tensor or array where a number is expected is named.
    """
    if isinstance(expected, np.ndarray):
        return _compare_arrays(expected, got)
    if is_bool(expected):
        if not is_bool(got):
            return f"expected True or False, got {type(got).__name__}"
        return None if bool(got) == bool(expected) else ""
    if isinstance(expected, numbers.Integral):
        if not is_int(got):
            if is_tensor(got):
                return "a torch tensor where a Python int is expected: use .item()"
            return f"expected an integer, got {type(got).__name__}"
        return None if int(got) == int(expected) else ""
    if isinstance(expected, numbers.Real):
        if not is_real(got):
            if is_tensor(got) or isinstance(got, np.ndarray):
                return (
                    f"a {'tensor' if is_tensor(got) else 'numpy array'} where a number is "
                    "expected: return a Python float, e.g. float(x) or x.item()"
                )
            return f"expected a number, got {type(got).__name__}"
        e, g = float(expected), float(got)
        if math.isnan(e) or math.isnan(g):
            return None if math.isnan(e) and math.isnan(g) else ""
        return None if math.isclose(e, g, rel_tol=1e-6, abs_tol=_ABS_TOL) else ""
    return None if got == expected else ""


def _compare_arrays(expected: np.ndarray, got: object) -> str | None:
    if is_tensor(got):
        return "a torch tensor where a numpy array is expected: return tensor.cpu().numpy()"
    if not isinstance(got, np.ndarray):
        return f"expected a numpy array, got {type(got).__name__}"
    if got.shape != expected.shape:
        return f"shape {got.shape} instead of {expected.shape}"
    if got.dtype != expected.dtype:
        return f"dtype {got.dtype} instead of {expected.dtype}"
    if expected.dtype.kind == "f":
        same = np.isclose(got, expected, rtol=1e-6, atol=_ABS_TOL, equal_nan=True)
    else:
        same = got == expected
    if same.all():
        return None
    first = tuple(int(i) for i in np.argwhere(~same)[0])
    where = f"[{', '.join(map(str, first))}]"
    return (
        f"{int((~same).sum())} of {expected.size} values differ; the first at {where}: "
        f"expected {num(expected[first])}, got {num(got[first])}"
    )


def same_input(before: object, after: object) -> bool:
    """True when an argument was not modified in place: arrays and tensors, also inside lists
    and tuples (a list of per-rank gradients); a list that only grew or shrank counts as
    unchanged, as do other values."""
    if isinstance(before, (list, tuple)) and isinstance(after, (list, tuple)):
        if len(before) != len(after):
            return True
        return all(same_input(b, a) for b, a in zip(before, after, strict=True))
    if isinstance(before, np.ndarray) and isinstance(after, np.ndarray):
        return before.shape == after.shape and bool(
            np.array_equal(before, after, equal_nan=before.dtype.kind == "f")
        )
    if is_tensor(before) and is_tensor(after):
        return same_input(tensor_to_numpy(before), tensor_to_numpy(after))
    return True


# --------------------------------------------------------------------------- fingerprints


def _array_print(array: np.ndarray) -> tuple[str, tuple[int, ...], str, np.ndarray]:
    return ("array", tuple(array.shape), array.dtype.str, np.array(array, copy=True))


def fingerprint(value: object, _depth: int = 0) -> Any:
    """A snapshot of ``value`` that :func:`same_fingerprint` can compare later.

    Numbers become floats (an int 1 and a float 1.0 are the same answer), arrays and tensors
    copies of their values with shape and dtype, torch modules their parameters and
    gradients (the effect of a training step), sequences and dicts their items. Anything
    else (a SAM predictor, an optimizer) is known only by its type: it is not compared.

    Arguments:
      value: a returned value or an argument after the call.

    Returns:
      a nested tuple of plain values and numpy arrays; it never refers to ``value`` itself.
    """
    if _depth > 6:
        return ("object", type(value).__name__)
    if value is None or isinstance(value, (str, bytes)) or is_bool(value):
        return ("plain", value if not is_bool(value) else bool(value))
    if isinstance(value, numbers.Real):
        return ("number", float(value))
    if isinstance(value, np.ndarray):
        return _array_print(value)
    if is_tensor(value):
        return ("tensor", *_array_print(tensor_to_numpy(value))[1:])
    if isinstance(value, BaseException):
        return ("plain", type(value).__name__)
    if hasattr(value, "named_parameters") and hasattr(value, "state_dict"):  # a torch module
        params = tuple(
            (name, fingerprint(p.data, _depth + 1), fingerprint(p.grad, _depth + 1))
            for name, p in value.named_parameters()
        )
        return ("module", type(value).__name__, params)
    if isinstance(value, Mapping):
        items = tuple((repr(k), fingerprint(v, _depth + 1)) for k, v in value.items())
        return ("mapping", items)
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(fingerprint(v, _depth + 1) for v in value))
    return ("object", type(value).__name__)


def same_fingerprint(a: Any, b: Any) -> bool:
    """True when two :func:`fingerprint` snapshots show the same behaviour.

    Floats agree within a relative 1e-5 (and absolute 1e-6), NaN agrees with NaN; arrays
    need the same shape and dtype; objects known only by their type agree when the types do.
    """
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.dtype.kind in "fc":
            return bool(np.allclose(a, b, rtol=1e-5, atol=_ABS_TOL, equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, tuple) and isinstance(b, tuple):
        if a[:1] == ("number",) and b[:1] == ("number",):
            x, y = a[1], b[1]
            if math.isnan(x) or math.isnan(y):
                return math.isnan(x) and math.isnan(y)
            return math.isclose(x, y, rel_tol=1e-5, abs_tol=_ABS_TOL)
        return len(a) == len(b) and all(same_fingerprint(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)
