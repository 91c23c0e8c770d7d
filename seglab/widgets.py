"""Click on an image in the notebook, see SAM's mask: the :class:`SamClicker` widget.

SAM is an *interactive* model: you click on an object, look at the mask, click again to fix
it. Its own notebooks make you type point coordinates by hand. :class:`SamClicker` shows the
image in the notebook and turns your mouse into prompts:

- **click**: a positive point ("this is part of the object");
- **shift-click** or **right-click**, or a click in *negative* mode: a negative point
  ("this is not");
- **drag**: a box (one box at a time; a new box replaces the old one);
- **undo** / **reset** buttons; **masks[0] / masks[1] / masks[2]** buttons to pick one of
  SAM's three candidate masks (the best-scoring one is picked after every new prompt);
- **new object** (or the **N** key with the pointer on the image): keep this object and
  start the next. Until then every click adds to one prompt, for one object;
- a status line that says what happened, e.g.
  ``added positive point (x=120, y=85) → masks[2] of 3, score 0.93, 4,210 px, 12 ms``.

Everything you did is readable from Python, ready for ``Predictor.predict``:
``clicker.points`` (N, 2) ``(x, y)`` pixels of the original image, ``clicker.labels`` (N,)
1/0, ``clicker.box`` ``(x0, y0, x1, y1)`` or None, ``clicker.mask`` (H, W) bool,
``clicker.result`` (the :class:`~seglab.sam.predictor.PredictionResult`),
``clicker.objects`` (one :class:`ClickedObject` per object: points, labels, box, mask), and
``clicker.save_mask("cat")`` writes the mask to ``saved_masks/cat.png``.

Speed: the image encoder runs **once**, when the clicker is created (the Predictor's embedding
cache makes that zero times for an image it has seen). Each click runs only SAM's prompt
encoder and mask decoder. The browser receives the image once; after a click it receives the
selected mask as 1 bit per pixel (``np.packbits``), deflated when the browser can inflate it
(about 1 kB for a 512x512 mask), and colours it itself. ``bench/widget_click.py`` measures
a click from the event to the mask ready to send.

How it is built: :class:`SamClicker` is plain Python. Its state (prompts, undo, objects,
SAM's answers, the browser's events) is :class:`seglab._clicker_state.ClickerState`; this
module adds the view: the static figure, saving, and the browser part, an
`anywidget <https://anywidget.dev>`_ view created the first time the clicker is displayed
(files in ``seglab/_widget/``). So ``import seglab.widgets`` imports neither anywidget nor
ipywidgets, and tests drive the clicker through the same methods the browser calls
(``_handle_click``, ``_handle_box``, ...). anywidget works in JupyterLab 4 / Notebook 7
(ipywidgets 8), VS Code, and Colab (ipywidgets 7; anywidget turns on Colab's custom widget
manager itself).

In a notebook::

    clicker = SamClicker(predictor, image, points=[[120, 85]])  # a first click, optional
    clicker  # the widget; click away

    # a later cell: use what you clicked
    mask = clicker.mask
    fig = clicker.show_static()  # the same as a matplotlib figure

Notebooks run unattended (nbval, papermill, CI) get the same cells to work: nothing waits
for clicks, the prompts given to the constructor produce a mask, and ``show_static()`` draws
it. The displayed clicker carries three representations: the widget (JupyterLab, Colab), a
PNG of the static figure (GitHub, nbviewer, a notebook whose kernel is gone) and a text line
(what nbval compares). A widget whose kernel has stopped (or a notebook reopened without
running the cell) says "run this cell again" as soon as it gets no answer from Python.
The text line is deterministic on purpose: image size, points, box and
the chosen mask, without scores or timings, e.g.
``SamClicker(image 240x320, points [+(120, 85)], no box, masks[1] of 3)``.
"""

from __future__ import annotations

import io
import math
import os
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from seglab._clicker_state import ClickedObject, ClickerState
from seglab._colors import BOX_COLOR, MASK_COLOR, NEGATIVE_COLOR, POSITIVE_COLOR
from seglab._util import check_int, format_number, write_atomically

if TYPE_CHECKING:  # only for annotations: keeps torch/segment_anything out of import time
    from collections.abc import Mapping

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

    from seglab._types import ArrayLike, ImageLike

__all__ = ["ClickedObject", "SamClicker"]

_ASSETS = Path(__file__).with_name("_widget")
#: where ``save_mask("name")`` writes, relative to the working folder (gitignored)
SAVED_MASKS = "saved_masks"


def _check_display_width(value: object, image_width: int) -> int:
    if value is None:
        if image_width >= 384:
            return min(image_width, 768)
        return image_width * math.ceil(384 / image_width)  # small images: integer upscale
    value = check_int(value, "display_width", hint="Pass a width in CSS pixels, or None.")
    if not 64 <= value <= 4096:
        raise ValueError(
            f"display_width must be between 64 and 4096 CSS pixels, got {value}. "
            "Leave it None to fit the image (at most 768 px wide)."
        )
    return value


def _encode_png(array: np.ndarray, max_width: int | None = None) -> bytes:
    """PNG bytes of an image; wider than ``max_width``: scaled down to it first."""
    from PIL import Image

    picture = Image.fromarray(array)
    if max_width is not None and picture.width > max_width:
        height = max(1, round(picture.height * max_width / picture.width))
        picture = picture.resize((max_width, height), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()


class SamClicker(ClickerState):
    """Segment an image by clicking on it in the notebook.

    Arguments:
      predictor_or_sam: a :class:`seglab.sam.Predictor` (its embedding cache is used and
        shared), a ``segment_anything`` ``Sam`` model (e.g. ``seglab.sam.load_sam("mini")``)
        or a ``SamPredictor`` (its model is wrapped in a new Predictor).
      image: the image, HxWx3 uint8 RGB (anything :func:`seglab.images.as_rgb_uint8`
        accepts). It is encoded once, here.
      points: optional starting clicks, Nx2 ``(x, y)`` in pixels of ``image`` (x = column,
        y = row). With them a notebook has a mask without anyone clicking.
      labels: N labels for ``points``, 1 = positive, 0 = negative; None = all positive.
      box: optional starting box ``(x0, y0, x1, y1)`` in pixels.
      multimask (bool): True (default): SAM proposes 3 masks per prompt and the widget shows
        buttons to pick one; False: 1 mask (SAM's advice once there are several points).
      display_width (int | None): width of the picture in CSS pixels; None = the image's
        width, at most 768, small images scaled up by an integer factor to at least 384.

    Raises:
      TypeError, ValueError: a bad model, image or starting prompt (the message says which).

    Coordinates everywhere (``points``, ``box``, the status line, the ``_handle_*`` events)
    are pixels of the *original* image: the browser converts from the displayed size.

    The masks depend on the current points and box only: the previous mask is not fed back
    as ``mask_input``. So undo returns exactly the earlier mask, and
    ``predictor.predict(points=clicker.points, labels=clicker.labels, box=clicker.box)``
    reproduces ``clicker.result``.
    """

    def __init__(
        self,
        predictor_or_sam: object,  # a seglab Predictor, a Sam model or a SamPredictor (checked)
        image: ImageLike,
        *,
        points: ArrayLike | None = None,
        labels: ArrayLike | None = None,
        box: ArrayLike | None = None,
        multimask: bool = True,
        display_width: int | None = None,
    ) -> None:
        if display_width is not None:  # refuse a bad width before the encoder runs
            _check_display_width(display_width, 1)
        super().__init__(
            predictor_or_sam, image, points=points, labels=labels, box=box, multimask=multimask
        )
        self._display_width = _check_display_width(display_width, self._image.shape[1])

    def _frontend_state(self) -> dict[str, object]:
        """Everything the browser draws, except the image (sent once) and the status."""
        p = self._prompts
        mask = self.mask
        result = self._result
        bits = np.packbits(mask).tobytes() if mask is not None else b""
        deflate = bool(bits) and self._views_inflate is True
        return {
            "mask_bits": zlib.compress(bits, 1) if deflate else bits,
            "mask_encoding": "packbits+deflate" if deflate else "packbits",
            "points": [[x, y, label] for (x, y), label in zip(p.points, p.labels, strict=True)],
            "box": list(p.box) if p.box is not None else [],
            "scores": [float(s) for s in result.scores] if result is not None else [],
            "areas": [int(m.sum()) for m in result.masks] if result is not None else [],
            "selected": self._selected if self._selected is not None else -1,
            "mode": self._mode,
            "can_undo": bool(self._history),
        }

    def _push(self, state: Mapping[str, object]) -> None:
        view = self._view
        with view.hold_sync():  # one message to the browser
            for name, value in state.items():
                setattr(view, name, value)
            view.status = self._status
            view.revision = self._revision  # last: the browser redraws when it changes

    def _publish(self) -> None:
        if self._view is not None:
            self._push(self._frontend_state())

    def _publish_status(self) -> None:
        if self._view is not None:
            self._view.status = self._status

    # ---- display

    @property
    def widget(self) -> Any:  # Any: the anywidget view, a class made at run time
        """The anywidget view (created on first use; needs ``pip install anywidget``)."""
        if self._view is None:
            view_class = _view_class()
            h, w = self._image.shape[:2]
            view = view_class(
                # a 4000-px photo is shown at most 768 px wide: send at most 2x that (sharp on
                # high-DPI screens), not megabytes; clicks still map to original pixels
                image_png=_encode_png(np.asarray(self._image), 2 * self._display_width),
                width=int(w),
                height=int(h),
                display_width=self._display_width,
                color=list(MASK_COLOR),
                positive_color=list(POSITIVE_COLOR),
                negative_color=list(NEGATIVE_COLOR),
                box_color=list(BOX_COLOR),
                status=self._status,
                revision=self._revision,
                **self._frontend_state(),
            )
            view.on_msg(self._on_msg)
            self._view = view
        return self._view

    def _repr_mimebundle_(
        self, include: object = None, exclude: object = None
    ) -> dict[str, object] | tuple[dict[str, object], dict[str, object]]:
        """The widget, a PNG of the static figure (for viewers without widgets) and a text."""
        data: dict[str, object] = {}
        metadata: dict[str, object] = {}
        try:
            widget_data, metadata = self.widget._repr_mimebundle_()
            data.update(widget_data)
        except ImportError:
            pass  # no anywidget: the PNG and the text still show
        data["image/png"] = self._static_png()
        data["text/plain"] = repr(self)
        return (data, metadata) if metadata else data

    def __repr__(self) -> str:
        h, w = self._image.shape[:2]
        p = self._prompts
        points = ", ".join(
            f"{'+' if label == 1 else '-'}({format_number(x)}, {format_number(y)})"
            for (x, y), label in zip(p.points, p.labels, strict=True)
        )
        points_text = f"points [{points}]" if p.points else "no points"
        box_text = (
            "box (" + ", ".join(format_number(v) for v in p.box) + ")"
            if p.box is not None
            else "no box"
        )
        if self._result is None:
            mask_text = "no mask"
        else:
            mask_text = f"masks[{self._selected}] of {len(self._result)}"
        return f"SamClicker(image {h}x{w}, {points_text}, {box_text}, {mask_text})"

    def _draw(self, ax: Axes) -> None:
        from seglab.viz import show_box, show_mask, show_points

        ax.imshow(self._image)
        mask = self.mask
        if mask is not None and mask.any():
            show_mask(mask, ax=ax, color=MASK_COLOR)
        if self._prompts.points:
            show_points(self.points, self.labels, ax=ax)
        if self._prompts.box is not None:
            show_box(cast(np.ndarray, self.box), ax=ax)  # set: _prompts.box is not None
        title = self._mask_summary() if mask is not None else "no prompts yet"
        ax.set_title(title)
        ax.axis("off")

    def _figsize(self) -> tuple[float, float]:
        h, w = self._image.shape[:2]
        width = 6.0
        return width, min(max(width * h / w, 2.0), 9.0) + 0.4

    def show_static(self, ax: Axes | None = None) -> Figure | SubFigure:
        """Draw the image, the chosen mask, the points and the box with matplotlib.

        For notebooks run without a browser (nbval, papermill), for saving a figure, and
        for a record of what you clicked. In a notebook, assign the result
        (``fig = clicker.show_static()``) so the figure shows once.

        Arguments:
          ax (Axes | None): where to draw; None makes a new pyplot figure.

        Returns:
          Figure: the figure drawn on.
        """
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=self._figsize(), layout="constrained")
        self._draw(ax)
        return ax.figure

    def _static_png(self) -> bytes:
        """The static figure as PNG bytes, without pyplot (so no stray inline figure)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=self._figsize(), layout="constrained")
        FigureCanvasAgg(fig)
        self._draw(fig.add_subplot())
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80)
        return buffer.getvalue()

    # ---- export

    def save_mask(self, path: str | os.PathLike[str]) -> Path:
        """Write the chosen mask: ``save_mask("cat")`` or ``save_mask("some/file.png")``.

        A bare name (no folder, no suffix) saves ``saved_masks/<name>.png`` in the working
        folder (in Jupyter: beside the notebook; the course's ``.gitignore`` leaves that folder
        out of git), creating ``saved_masks/``, and prints the path it wrote. A path ending in
        ``.png`` (8-bit, 0 and 255) or ``.npy`` (bool) is written as given.

        The file is written to a temporary name in the same folder and renamed, so a failed
        save never leaves a half-written file. Read it back with
        ``np.array(PIL.Image.open(path)) > 0`` or ``np.load(path)``.

        Returns:
          Path: the path written (relative when a bare name was given).

        Raises:
          ValueError: no mask yet, or a path whose suffix is not .png / .npy.
          FileNotFoundError: the folder of a given path does not exist.
        """
        path = Path(path)
        bare_name = not path.suffix and path.parent == Path(".") and path.name not in ("", ".")
        if bare_name:
            path = Path(SAVED_MASKS) / f"{path.name}.png"
        suffix = path.suffix.lower()
        if suffix not in (".png", ".npy"):
            raise ValueError(
                f"save_mask writes .png or .npy files, got {str(path)!r} (suffix "
                f"{path.suffix or 'none'!r}). Use e.g. 'mask.png' (an image, 0/255), "
                "'mask.npy' (a bool array), or a bare name such as 'cat' for "
                f"{SAVED_MASKS}/cat.png."
            )
        mask = self.mask
        if mask is None:
            raise ValueError("there is no mask to save yet: click on the image first.")
        if bare_name:
            path.parent.mkdir(exist_ok=True)
        if not path.parent.is_dir():
            raise FileNotFoundError(
                f"cannot save {str(path)!r}: the folder {str(path.parent)!r} does not exist. "
                "Create it first (Path(folder).mkdir(parents=True))."
            )
        if suffix == ".npy":
            write_atomically(path, lambda f: np.save(f, mask))
        else:
            png = _encode_png(mask.astype(np.uint8) * 255)
            write_atomically(path, lambda f: f.write(png))
        if bare_name:
            print(f"saved {path.as_posix()} ({int(mask.sum()):,} mask pixels)")
        return path


# ------------------------------------------------------------------- the browser part

_VIEW_CLASS: type | None = None


def _view_class() -> type:
    """The anywidget class, defined on first use so that importing seglab stays light."""
    global _VIEW_CLASS
    if _VIEW_CLASS is not None:
        return _VIEW_CLASS
    try:
        import anywidget
        import traitlets
    except ImportError as exc:
        raise ImportError(
            "SamClicker's interactive view needs anywidget: pip install anywidget "
            "(it comes with the course's lab extra: pip install -e '.[lab]'). Without it, "
            "clicker.show_static() still draws the mask."
        ) from exc

    class SamClickerView(anywidget.AnyWidget):
        """The browser view of a SamClicker; holds no logic (see seglab/_widget/clicker.js)."""

        _esm = _ASSETS / "clicker.js"
        _css = _ASSETS / "clicker.css"

        image_png = traitlets.Bytes(b"").tag(sync=True)
        width = traitlets.Int(1).tag(sync=True)
        height = traitlets.Int(1).tag(sync=True)
        display_width = traitlets.Int(512).tag(sync=True)
        # colours [r, g, b] from seglab._colors, so the browser draws what show_static draws
        color = traitlets.List(list(MASK_COLOR)).tag(sync=True)  # the mask
        positive_color = traitlets.List(list(POSITIVE_COLOR)).tag(sync=True)
        negative_color = traitlets.List(list(NEGATIVE_COLOR)).tag(sync=True)
        box_color = traitlets.List(list(BOX_COLOR)).tag(sync=True)
        mask_bits = traitlets.Bytes(b"").tag(sync=True)
        mask_encoding = traitlets.Unicode("packbits").tag(sync=True)
        points: traitlets.List[list[float]] = traitlets.List([]).tag(sync=True)
        box: traitlets.List[float] = traitlets.List([]).tag(sync=True)
        scores: traitlets.List[float] = traitlets.List([]).tag(sync=True)
        areas: traitlets.List[int] = traitlets.List([]).tag(sync=True)
        selected = traitlets.Int(-1).tag(sync=True)
        mode = traitlets.Unicode("positive").tag(sync=True)
        can_undo = traitlets.Bool(False).tag(sync=True)
        status = traitlets.Unicode("").tag(sync=True)
        revision = traitlets.Int(0).tag(sync=True)

        def __repr__(self) -> str:
            return "SamClickerView()"

    _VIEW_CLASS = SamClickerView
    return SamClickerView
