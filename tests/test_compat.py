"""Tests for seglab._compat: the torch/NumPy pairs that install but cannot work together."""

from __future__ import annotations

import pytest

from seglab import _compat


@pytest.mark.parametrize(
    ("torch_version", "numpy_version"),
    [("2.1.2+cu121", "2.2.6"), ("2.2.2", "2.0.0"), ("2.1.0", "2.4.6")],
)
def test_torch_built_for_numpy1_beside_numpy2_is_explained(torch_version, numpy_version):
    message = _compat.numpy_abi_problem(torch_version, numpy_version)
    assert message is not None
    assert torch_version in message and numpy_version in message
    assert "numpy<2" in message and "torch>=2.3" in message


@pytest.mark.parametrize(
    ("torch_version", "numpy_version"),
    [
        ("2.1.2+cu121", "1.26.4"),  # old torch, old NumPy
        ("2.3.0", "2.0.0"),  # the first torch built for NumPy 2
        ("2.14.1+cu130", "2.4.6"),
        ("2.11.0", "1.26.4"),
        (None, "2.2.6"),  # torch not installed: nothing to check
        ("2.1.2", None),
        ("not-a-version", "2.2.6"),
    ],
)
def test_working_or_unknown_pairs_pass(torch_version, numpy_version):
    assert _compat.numpy_abi_problem(torch_version, numpy_version) is None


def test_the_check_raises_import_error_for_a_bad_pair(monkeypatch):
    versions = {"torch": "2.1.2", "numpy": "2.2.6"}
    monkeypatch.setattr(_compat, "installed_version", versions.get)
    with pytest.raises(ImportError, match=r"torch 2\.1\.2 .* NumPy 2\.2\.6"):
        _compat.check_installed_versions()
    versions["numpy"] = "1.26.4"
    _compat.check_installed_versions()  # no error


def test_installed_version_reads_metadata():
    assert _compat.installed_version("numpy") is not None
    assert _compat.installed_version("no-such-distribution-seglab") is None
