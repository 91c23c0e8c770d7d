"""seglab.legend: the key matches the colours seglab.overlay paints, bad input is refused."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

import seglab
from seglab.data import CLASSES
from seglab.legend import class_colors, class_legend


def test_colors_are_what_overlay_paints() -> None:
    labels = np.arange(len(CLASSES)).reshape(1, -1).repeat(2, axis=0)  # (2, 5): every class
    image = np.zeros((2, len(CLASSES), 3), dtype=np.uint8)
    painted = seglab.overlay(image, labels, alpha=1.0)
    colors = class_colors(len(CLASSES))
    assert colors[0] is None
    assert tuple(painted[0, 0]) == (0, 0, 0)  # background unpainted
    for k in range(1, len(CLASSES)):
        assert tuple(painted[0, k]) == colors[k], k


def test_colors_repeat_like_the_overlay() -> None:
    colors = class_colors(21)
    assert len(colors) == 21
    assert colors[8] == colors[1]  # 7 palette colours


@pytest.mark.parametrize("bad", [0, -1])
def test_colors_refuse_no_classes(bad: int) -> None:
    with pytest.raises(ValueError, match="num_classes must be >= 1"):
        class_colors(bad)


def test_colors_refuse_non_int() -> None:
    with pytest.raises(TypeError, match="num_classes must be an int"):
        class_colors(5.0)  # type: ignore[arg-type]


def test_legend_on_axes_lists_every_class() -> None:
    fig, ax = plt.subplots()
    legend = class_legend(CLASSES, ax)
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts == ["0 background (unpainted)", "1 ellipse", "2 rectangle", "3 triangle", "4 blob"]
    swatch = legend.get_patches()[1].get_facecolor()[:3]
    assert np.allclose(np.array(swatch) * 255, class_colors(5)[1])
    plt.close(fig)


def test_legend_on_a_figure() -> None:
    fig, _ = plt.subplots(1, 2)
    legend = class_legend(CLASSES, fig, ncol=3)
    assert legend in fig.legends
    plt.close(fig)


@pytest.mark.parametrize(
    ("names", "error", "match"),
    [
        ("background", TypeError, "sequence of class names"),
        (["background"], ValueError, "at least one class"),
        (["background", 1], TypeError, "must be a str"),
    ],
)
def test_legend_refuses_bad_names(names: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        class_legend(names)  # type: ignore[arg-type]


def test_legend_refuses_a_non_axes() -> None:
    with pytest.raises(TypeError, match="Axes or Figure"):
        class_legend(CLASSES, "ax")  # type: ignore[arg-type]
