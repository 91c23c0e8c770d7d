"""Tests of seglab._util: the helpers every module shares (types, tensors, atomic writes, ...)."""

from __future__ import annotations

import fractions
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from seglab import _util
from seglab._util import (
    atomic_path,
    check_bool,
    check_int,
    check_real,
    describe_array,
    format_number,
    installed_version,
    is_bool,
    is_int,
    is_real,
    is_tensor,
    kind_of,
    numeric_array,
    pick_spelling,
    rename_keyword,
    summarize_values,
    tensor_to_numpy,
    warn_deprecated,
    write_atomically,
)

# --------------------------------------------------------------------------- the type rule


@pytest.mark.parametrize(
    "value", [0, 3, -7, 2**70, np.int8(3), np.int64(-1), np.uint16(9), np.intp(4)]
)
def test_integers_are_ints(value) -> None:
    assert is_int(value)
    assert check_int(value, "n") == int(value)
    assert type(check_int(value, "n")) is int


@pytest.mark.parametrize(
    "value",
    [True, False, np.True_, np.bool_(False), 3.0, np.float32(3), "3", None, [3], np.array(3)],
)
def test_bools_floats_strings_are_not_ints(value) -> None:
    assert not is_int(value)
    with pytest.raises(TypeError, match=r"^n must be an int, got \w+ .*\. Pass e\.g\. n=3\.$"):
        check_int(value, "n", hint="Pass e.g. n=3.")


def test_check_int_minimum_is_a_value_error_after_the_type_check() -> None:
    assert check_int(0, "retries", minimum=0) == 0
    with pytest.raises(ValueError, match=r"^retries must be an int >= 0, got -1\.$"):
        check_int(-1, "retries", minimum=0)
    with pytest.raises(TypeError):  # the wrong type is a TypeError even below the minimum
        check_int(-1.0, "retries", minimum=0)
    with pytest.raises(TypeError):
        check_int(False, "retries", minimum=1)


def test_bools() -> None:
    for value in (True, False, np.True_, np.bool_(False), np.array([1, 2]).all()):
        assert is_bool(value)
        assert type(check_bool(value, "flag")) is bool
    for value in (0, 1, np.int8(1), 1.0, "yes", None, np.array(True)):
        assert not is_bool(value)
        with pytest.raises(TypeError, match="flag must be True or False, got"):
            check_bool(value, "flag")


def test_reals() -> None:
    for value in (0, 2.5, float("nan"), float("inf"), np.float32(0.5), np.int64(2)):
        assert is_real(value)
        assert type(check_real(value, "alpha")) is float
    assert is_real(fractions.Fraction(1, 3))
    for value in (True, np.bool_(True), "0.5", None, 1j, np.array(0.5), [0.5]):
        assert not is_real(value)
        with pytest.raises(TypeError, match=r"alpha must be a number, got"):
            check_real(value, "alpha")


# --------------------------------------------------------------------------- tensors


def test_is_tensor_knows_tensors_and_parameters_only() -> None:
    assert is_tensor(torch.zeros(2))
    assert is_tensor(torch.nn.Parameter(torch.zeros(2)))
    for value in (np.zeros(2), [1.0], 1.0, None, torch.float32, torch.nn.Linear(1, 1)):
        assert not is_tensor(value)


def test_is_tensor_does_not_import_torch() -> None:
    code = (
        "import sys\nfrom seglab._util import is_tensor, kind_of\n"
        "assert not is_tensor([1]) and kind_of([1]) == 'list'\n"
        "print('torch' in sys.modules, 'numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        (torch.float16, np.float32),
        (torch.bfloat16, np.float32),
        (torch.float32, np.float32),
        (torch.float64, np.float64),
        (torch.int64, np.int64),
        (torch.uint8, np.uint8),
        (torch.bool, np.bool_),
    ],
)
def test_tensor_to_numpy_dtypes(dtype, expected) -> None:
    tensor = torch.tensor([[0, 1], [1, 0]]).to(dtype)
    array = tensor_to_numpy(tensor)
    assert isinstance(array, np.ndarray) and array.dtype == expected
    np.testing.assert_array_equal(array, [[0, 1], [1, 0]])


def test_tensor_to_numpy_detaches_and_shares_cpu_memory() -> None:
    weights = torch.ones(3, requires_grad=True)
    np.testing.assert_array_equal(tensor_to_numpy(weights * 2), [2, 2, 2])
    plain = torch.zeros(3)
    tensor_to_numpy(plain)[0] = 5  # a CPU float32 tensor is not copied
    assert plain[0] == 5


@pytest.mark.filterwarnings("ignore:ComplexHalf support is experimental")
def test_tensor_to_numpy_refuses_what_numpy_cannot_hold() -> None:
    half_complex = torch.zeros(2, dtype=torch.complex32)
    with pytest.raises(
        TypeError, match=r"image is a torch tensor of dtype torch\.complex32.*float"
    ):
        tensor_to_numpy(half_complex, "image")


def test_kind_and_description() -> None:
    assert kind_of(torch.zeros(1)) == "torch tensor"
    assert kind_of(np.zeros(1)) == "numpy array"
    assert kind_of([1]) == "list"
    tensor = torch.zeros(2, 3, dtype=torch.bfloat16)
    assert (
        describe_array(tensor, tensor_to_numpy(tensor))
        == "torch tensor of shape (2, 3) and dtype torch.bfloat16"
    )
    assert describe_array(np.zeros((1,), np.uint8), np.zeros((1,), np.uint8), kind="mask") == (
        "mask of shape (1,) and dtype uint8"
    )


def test_numeric_array_accepts_arrays_tensors_lists_and_numbers() -> None:
    array = np.arange(4.0)
    assert numeric_array(array, "x") is array  # no copy
    np.testing.assert_array_equal(numeric_array(torch.tensor([1, 2]), "x"), [1, 2])
    assert numeric_array([[1, 2], [3, 4]], "x").shape == (2, 2)
    assert numeric_array([True, False], "x").dtype == bool
    assert numeric_array(7, "x").shape == ()


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        (None, TypeError, "points is None"),
        ("1, 2", TypeError, "points must be numbers.*got str '1, 2'"),
        (b"12", TypeError, "got bytes"),
        (np.array(["a"]), TypeError, r"numpy array of dtype <U1; pass real numbers"),
        ([1 + 2j], TypeError, "dtype complex128"),
        ({"x": 1}, TypeError, "dict of dtype object"),
        ([[1, 2], [3]], ValueError, "list that is not rectangular"),
    ],
)
def test_numeric_array_refusals(value, error, match) -> None:
    with pytest.raises(error, match=match):
        numeric_array(value, "points")


# --------------------------------------------------------------------------- atomic writes


def test_write_atomically_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    write_atomically(target, lambda f: f.write(b"new"))
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_a_failing_write_keeps_the_old_file_and_leaves_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")

    def half_then_fail(handle) -> None:
        handle.write(b"half of the new")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, half_then_fail)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_an_interrupted_write_leaves_nothing_new(tmp_path: Path) -> None:
    target = tmp_path / "new.pt"
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith("new.pt.")
        assert tmp.name.endswith(".tmp")
        tmp.write_bytes(b"partial")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_by_name_and_private_mode(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    with atomic_path(target, mode=None) as tmp:
        tmp.write_text(json.dumps({"step": 3}))
        assert not target.exists()  # nothing at the final name before the block ends
    assert json.loads(target.read_text()) == {"step": 3}
    if os.name == "posix":
        assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_atomic_path_needs_an_existing_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError), atomic_path(tmp_path / "no" / "file.bin"):
        pass


# --------------------------------------------------------------------------- numbers and values


@pytest.mark.parametrize(
    ("value", "kwargs", "text"),
    [
        (120.0, {}, "120"),
        (120.5, {}, "120.5"),
        (0.1 + 0.2, {}, "0.3"),
        (1 / 3, {"digits": 4}, "0.3333"),
        (np.float32(0.25), {}, "0.25"),
        (np.float64(2.0), {"exact": True}, "2.0"),
        (0.1 + 0.2, {"exact": True}, "0.3"),
        (1e-7, {"exact": True}, "1e-07"),
        (float("nan"), {}, "nan"),
        (float("-inf"), {}, "-inf"),
        (7, {}, "7"),
        (np.int64(255), {"exact": True}, "255"),
        (True, {}, "True"),
        (np.bool_(False), {}, "False"),
        ("x", {}, "x"),
    ],
)
def test_format_number(value, kwargs, text) -> None:
    assert format_number(value, **kwargs) == text


def test_summarize_values() -> None:
    assert summarize_values(np.array([[255, 0], [0, 1]])) == "[0, 1, 255]"
    assert summarize_values(np.array([0.5, np.nan, 1 / 3, np.nan])) == "[0.3333, 0.5, nan]"
    assert summarize_values(np.arange(100)) == "[0, 1, 2, 3, 4, 5, ... (100 distinct values)]"
    assert summarize_values(torch.tensor([7, 3, 7]), brackets=False) == "3, 7"
    assert summarize_values([2.0, 1.0], limit=1) == "[1, ... (2 distinct values)]"


# --------------------------------------------------------------------------- versions


def test_installed_version() -> None:
    assert installed_version("numpy") == np.__version__
    assert installed_version("no-such-distribution-seglab") is None


# --------------------------------------------------------------------------- renamed arguments


def _call_with_old_keyword(**kwargs):
    return rename_keyword(kwargs, "n_classes", "num_classes", where="UNet", removed_in="0.3.0")


def test_rename_keyword_warns_at_the_callers_line_and_renames() -> None:
    with pytest.warns(DeprecationWarning, match=r"UNet\(n_classes=...\) is deprecated") as record:
        renamed = _call_with_old_keyword(depth=2, n_classes=5)
    assert renamed == {"depth": 2, "num_classes": 5}
    assert "removed in seglab 0.3.0: use num_classes= instead" in str(record[0].message)
    assert record[0].filename == __file__  # the line that used the old spelling


def test_rename_keyword_leaves_new_spellings_alone(recwarn) -> None:
    kwargs = {"num_classes": 5}
    assert _call_with_old_keyword(**kwargs) == kwargs
    assert not recwarn.list


def test_rename_keyword_refuses_both_spellings() -> None:
    with pytest.raises(TypeError, match="UNet got both num_classes= and n_classes="):
        _call_with_old_keyword(n_classes=5, num_classes=5)


def test_warn_deprecated_message() -> None:
    with pytest.warns(DeprecationWarning, match=r"^a is deprecated .* seglab 9\.9: use b instead"):
        warn_deprecated("a", "b", removed_in="9.9")


def test_pick_spelling() -> None:
    assert pick_spelling("f", "points", [1], "point_coords", None) == [1]
    assert pick_spelling("f", "points", None, "point_coords", [2]) == [2]
    assert pick_spelling("f", "points", None, "point_coords", None) is None
    unset = object()
    assert pick_spelling("f", "a", unset, "b", False, unset=unset) is False
    with pytest.raises(TypeError, match="f got both points= and point_coords="):
        pick_spelling("f", "points", [1], "point_coords", [1])


def test_every_name_in_all_is_documented() -> None:
    for name in _util.__all__:
        assert getattr(_util, name).__doc__, name
