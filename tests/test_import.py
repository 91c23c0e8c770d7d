"""`import seglab` stays light: no torch, matplotlib, Jupyter or widget import, no download."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = [
    "torch",
    "matplotlib",
    "ipywidgets",
    "anywidget",
    "IPython",
    "pooch",
    "skimage",
    "segment_anything",
    "tqdm",
]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_import_seglab_imports_nothing_heavy() -> None:
    loaded = _modules_after("import seglab, seglab.sam")
    heavy = sorted(m for m in HEAVY if m in loaded)
    assert not heavy, f"import seglab pulled in {heavy}; import them inside the function instead"


def test_public_names_resolve_lazily() -> None:
    loaded = _modules_after("import seglab; seglab.get_device")
    assert "seglab.device" in loaded and "seglab.viz" not in loaded


def test_unknown_attribute_is_an_attribute_error() -> None:
    import seglab

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        seglab.nope  # noqa: B018


def test_every_export_exists() -> None:
    import seglab
    import seglab.sam

    for package in (seglab, seglab.sam):
        for name in package.__all__:
            assert getattr(package, name) is not None, f"{package.__name__}.{name}"
