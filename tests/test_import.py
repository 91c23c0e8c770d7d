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


# --------------------------------------------------------------------------- renamed in 0.2.0


def test_predict_labels_is_the_unets_predict_without_a_warning() -> None:
    import warnings

    import seglab
    from seglab.train import predict  # the module; seglab.train is the train() function

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert seglab.predict_labels is predict
    assert "predict_labels" in seglab.__all__ and "predict_labels" in dir(seglab)


def test_old_predict_name_warns_and_still_works() -> None:
    import seglab
    from seglab.train import predict as unet_predict

    with pytest.warns(DeprecationWarning, match=r"seglab\.predict is deprecated .* 0\.3\.0") as rec:
        old = seglab.predict
    assert old is unet_predict
    assert rec[0].filename == __file__  # at the learner's line
    assert "seglab.predict_labels" in str(rec[0].message)
    with pytest.warns(DeprecationWarning, match="use seglab.predict_labels"):
        from seglab import predict  # noqa: F401
    assert "predict" not in seglab.__all__ and "predict" not in dir(seglab)
    with pytest.warns(DeprecationWarning):  # every access warns: the name is never cached
        seglab.predict  # noqa: B018
