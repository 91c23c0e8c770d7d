"""Say which colour is which class: a legend for label maps drawn with :func:`seglab.overlay`.

``overlay(image, labels)`` paints class ``k`` (``k >= 1``) in ``PALETTE[(k - 1) % 7]`` and
leaves background pixels (class 0) as they are. :func:`class_legend` draws the matching key,
so a label figure says what its colours mean. :func:`class_colors` gives the same colours as
data (e.g. for a confusion-matrix plot or your own figure).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from seglab._colors import palette_color

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.legend import Legend

__all__ = ["class_colors", "class_legend"]


def _check_names(names: object) -> list[str]:
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise TypeError(
            f"names must be a sequence of class names, index = class id (e.g. "
            f"seglab.data.CLASSES), got {type(names).__name__}."
        )
    if len(names) < 2:
        raise ValueError(
            f"names needs the background (class 0) and at least one class, got {list(names)!r}."
        )
    bad = [n for n in names if not isinstance(n, str)]
    if bad:
        raise TypeError(f"every class name must be a str, got {bad[0]!r} in {list(names)!r}.")
    return list(names)


def class_colors(num_classes: int) -> list[tuple[int, int, int] | None]:
    """The colour :func:`seglab.overlay` paints each class in.

    Arguments:
      num_classes (int): K >= 1, background included.

    Returns:
      list: K entries; entry 0 (background) is None - overlay leaves it unpainted - and entry
      ``k`` is an RGB triple of ints in [0, 255], ``PALETTE[(k - 1) % 7]``. With more than 8
      classes colours repeat, as they do in the overlay.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int):
        raise TypeError(f"num_classes must be an int, got {type(num_classes).__name__}.")
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1 (background included), got {num_classes}.")
    return [None] + [palette_color(k - 1) for k in range(1, num_classes)]


def class_legend(
    names: Sequence[str],
    ax: Axes | Figure | None = None,
    *,
    ncol: int | None = None,
) -> Legend:
    """Draw the key of an overlay's class colours: one swatch per class, background included.

    Arguments:
      names (sequence of str): class names, index = class id (0 = background), e.g.
        ``seglab.data.CLASSES``.
      ax (Axes | Figure | None): where to put the legend; a Figure gets one legend below all
        its panels (handy for a grid of overlays), an Axes one inside it, where matplotlib
        finds room. None: the current figure.
      ncol (int | None): columns; None puts all classes on one row.

    Returns:
      matplotlib.legend.Legend: the legend drawn.
    """
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes as _Axes
    from matplotlib.figure import Figure as _Figure
    from matplotlib.patches import Patch

    labels = _check_names(names)
    if ax is None:
        ax = plt.gcf()
    if not isinstance(ax, (_Axes, _Figure)):
        raise TypeError(
            f"ax must be a matplotlib Axes or Figure, got {type(ax).__name__}. Pass e.g. the fig "
            "of fig, axes = plt.subplots(...)."
        )
    handles = [Patch(facecolor="white", edgecolor="0.4", label=f"0 {labels[0]} (unpainted)")]
    for k, rgb in enumerate(class_colors(len(labels))[1:], start=1):
        if rgb is not None:  # only class 0 has no colour
            facecolor = (rgb[0] / 255, rgb[1] / 255, rgb[2] / 255)
            handles.append(Patch(facecolor=facecolor, label=f"{k} {labels[k]}"))
    columns = len(handles) if ncol is None else ncol
    if isinstance(ax, _Figure):
        return ax.legend(
            handles=handles,
            loc="upper center",
            ncol=columns,
            frameon=False,
            bbox_to_anchor=(0.5, 0.02),
        )
    return ax.legend(handles=handles, loc="best", ncol=columns, fontsize="small")
