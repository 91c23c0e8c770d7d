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
- a status line that says what happened, e.g.
  ``added positive point (x=120, y=85) → masks[2] of 3, score 0.93, 4,210 px, 12 ms``.

Everything you did is readable from Python, ready for ``Predictor.predict``:
``clicker.points`` (N, 2) ``(x, y)`` pixels of the original image, ``clicker.labels`` (N,)
1/0, ``clicker.box`` ``(x0, y0, x1, y1)`` or None, ``clicker.mask`` (H, W) bool,
``clicker.result`` (the :class:`~seglab.sam.predictor.PredictionResult`), and
``clicker.save_mask("mask.png")`` writes the mask.

Speed: the image encoder runs **once**, when the clicker is created (the Predictor's embedding
cache makes that zero times for an image it has seen). Each click runs only SAM's prompt
encoder and mask decoder. The browser receives the image once; after a click it receives the
selected mask as 1 bit per pixel (``np.packbits``), deflated when the browser can inflate it
(about 1 kB for a 512x512 mask), and colours it itself. ``bench/widget_click.py`` measures
a click from the event to the mask ready to send.

How it is built: :class:`SamClicker` is plain Python (the state, the prompts, the predictions,
the static figure); the browser part is an `anywidget <https://anywidget.dev>`_ view created
the first time the clicker is displayed (files in ``seglab/_widget/``). So ``import
seglab.widgets`` imports neither anywidget nor ipywidgets, and tests drive the clicker through
the same methods the browser calls (``_handle_click``, ``_handle_box``, ...). anywidget works
in JupyterLab 4 / Notebook 7 (ipywidgets 8), VS Code, and Colab (ipywidgets 7; anywidget
turns on Colab's custom widget manager itself).

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
(what nbval compares). The text line is deterministic on purpose: image size, points, box and
the chosen mask, without scores or timings, e.g.
``SamClicker(image 240x320, points [+(120, 85)], no box, masks[1] of 3)``.
"""

from __future__ import annotations

import io
import math
import os
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from seglab._colors import BOX_COLOR, MASK_COLOR, NEGATIVE_COLOR, POSITIVE_COLOR
from seglab._util import check_bool, check_int, format_number, is_int, write_atomically
from seglab.images import as_rgb_uint8
from seglab.prompts import validate_box, validate_labels, validate_points

if TYPE_CHECKING:  # only for annotations: keeps torch/segment_anything out of import time
    from collections.abc import Mapping

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

    from seglab._types import ArrayLike, ImageLike
    from seglab.sam.predictor import PredictionResult, Predictor

__all__ = ["SamClicker"]

_ASSETS = Path(__file__).with_name("_widget")
# MASK_COLOR (seglab.viz.PALETTE[0], sky blue) and the prompt colours come from
# seglab._colors; the browser view receives them as traits instead of hard-coding them.
_MODES = ("positive", "negative")


# ------------------------------------------------------------------------------- state


@dataclass(frozen=True)
class _Prompts:
    """One immutable snapshot of what was clicked; the undo history is a list of these."""

    points: tuple[tuple[float, float], ...] = ()  # (x, y) in pixels
    labels: tuple[int, ...] = ()  # 1 positive, 0 negative
    box: tuple[float, float, float, float] | None = None  # (x0, y0, x1, y1) in pixels

    @property
    def empty(self) -> bool:
        return not self.points and self.box is None


def _point_text(x: float, y: float, label: int) -> str:
    kind = "positive" if label == 1 else "negative"
    return f"{kind} point (x={format_number(x)}, y={format_number(y)})"


def _box_text(box: tuple[float, ...]) -> str:
    x0, y0, x1, y1 = (format_number(v) for v in box)
    return f"box (x0={x0}, y0={y0}, x1={x1}, y1={y1})"


def _as_predictor(predictor_or_sam: object) -> Predictor:
    """A seglab Predictor from a Predictor, a segment_anything SamPredictor or a Sam model."""
    from segment_anything import SamPredictor
    from segment_anything.modeling import Sam

    from seglab.sam.predictor import Predictor

    if isinstance(predictor_or_sam, Predictor):
        return predictor_or_sam
    if isinstance(predictor_or_sam, Sam):
        return Predictor(predictor_or_sam)
    if isinstance(predictor_or_sam, SamPredictor):
        return Predictor(predictor_or_sam.model)
    raise TypeError(
        f"SamClicker wants a seglab Predictor or a SAM model, got "
        f"{type(predictor_or_sam).__name__}. Pass e.g. seglab.sam.load_sam('mini') or "
        "seglab.sam.Predictor(sam)."
    )


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


# ------------------------------------------------------------------------------ widget


class SamClicker:
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
        multimask = check_bool(multimask, "multimask")
        predictor = _as_predictor(predictor_or_sam)
        rgb = as_rgb_uint8(image)
        rgb.flags.writeable = False
        size = rgb.shape[:2]
        start = _Prompts()
        if points is not None:
            coords = validate_points(points, size)
            point_labels = validate_labels(labels, len(coords))
            start = _Prompts(
                points=tuple((float(x), float(y)) for x, y in coords),
                labels=tuple(int(v) for v in point_labels),
            )
        elif labels is not None:
            raise ValueError("labels were given without points; pass points=[[x, y], ...] too.")
        if box is not None:
            b = validate_box(box, size)
            if b.ndim != 1:
                raise ValueError(f"SamClicker takes one box, got {len(b)}; pass one of them.")
            x0, y0, x1, y1 = (float(v) for v in b)  # validate_box: 4 numbers
            start = _Prompts(start.points, start.labels, (x0, y0, x1, y1))

        self._predictor = predictor
        self._image = rgb
        self._multimask = bool(multimask)
        self._display_width = _check_display_width(display_width, rgb.shape[1])
        self._prompts = _Prompts()
        # undo history: (prompts before an action, what the action was), oldest first
        self._history: list[tuple[_Prompts, str]] = []
        self._result: PredictionResult | None = None
        self._selected: int | None = None
        self._mode = "positive"
        self._status = "click on the object to segment (drag for a box)"
        self._revision = 0
        self._view: Any = None  # Any: the anywidget view, a class made at run time
        # Can every browser view inflate deflated bytes? None until a view says (hello).
        self._views_inflate: bool | None = None
        self._callbacks: list[Callable[[SamClicker], object]] = []
        #: Milliseconds of the last handled event, from the event to the mask ready to send.
        self.last_event_ms: float | None = None

        predictor.set_image(rgb)  # the one encoder run (or a cache hit)
        self._features = predictor.original.features
        if not start.empty:
            self._result = self._predict(start)
            self._prompts = start
            self._selected = self._result.best_index
            self._status = f"started with {self._prompt_summary()} → {self._mask_summary()}"

    # ---- what you clicked and what SAM answered

    @property
    def image(self) -> np.ndarray:
        """The image, (H, W, 3) uint8, read-only."""
        return self._image

    @property
    def predictor(self) -> Predictor:
        """The seglab Predictor that makes the masks."""
        return self._predictor

    @property
    def points(self) -> np.ndarray:
        """(N, 2) float32, ``(x, y)`` in pixels of the image (x = column); N may be 0."""
        return np.asarray(self._prompts.points, dtype=np.float32).reshape(-1, 2)

    @property
    def labels(self) -> np.ndarray:
        """(N,) int32, 1 = positive point, 0 = negative point."""
        return np.asarray(self._prompts.labels, dtype=np.int32)

    @property
    def box(self) -> np.ndarray | None:
        """(4,) float32 ``(x0, y0, x1, y1)`` in pixels, or None when no box was drawn."""
        if self._prompts.box is None:
            return None
        return np.asarray(self._prompts.box, dtype=np.float32)

    @property
    def result(self) -> PredictionResult | None:
        """SAM's answer to the current prompts (all K candidates), or None before any prompt."""
        return self._result

    @property
    def selected(self) -> int | None:
        """Index into ``result.masks`` of the mask shown (and returned by ``mask``)."""
        return self._selected

    @property
    def mask(self) -> np.ndarray | None:
        """The chosen mask, (H, W) bool (a copy), or None before any prompt."""
        if self._result is None or self._selected is None:
            return None
        return self._result.masks[self._selected].copy()

    @property
    def score(self) -> float | None:
        """SAM's score (predicted IoU) of the chosen mask, or None."""
        if self._result is None or self._selected is None:
            return None
        return float(self._result.scores[self._selected])

    @property
    def status(self) -> str:
        """The status line: what the last event did (or why it was ignored)."""
        return self._status

    @property
    def multimask(self) -> bool:
        return self._multimask

    @property
    def mode(self) -> str:
        """'positive' or 'negative': the kind of point a plain left click adds."""
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in _MODES:
            raise ValueError(f"mode must be 'positive' or 'negative', got {value!r}.")
        self._mode = value
        self._changed(f"clicks now add {value} points")

    def on_change(self, callback: Callable[[SamClicker], object]) -> Callable[[SamClicker], object]:
        """Call ``callback(clicker)`` after every event (click, box, undo, ...); returns it.

        Use it to react to clicks, e.g. print the IoU of ``clicker.mask`` with a reference.
        An exception in the callback is reported in the status line, not raised.
        """
        if not callable(callback):
            raise TypeError(f"on_change wants a function, got {type(callback).__name__}.")
        self._callbacks.append(callback)
        return callback

    # ---- the same actions from Python (errors raise, as everywhere in seglab)

    def add_point(self, x: float, y: float, label: int = 1) -> None:
        """Add a point at ``(x, y)`` (pixels of the image); label 1 positive, 0 negative."""
        started = time.perf_counter()
        ((px, py),) = validate_points([[x, y]], self._image.shape[:2]).tolist()
        (lab,) = validate_labels([label], 1).tolist()
        p = self._prompts
        new = _Prompts((*p.points, (float(px), float(py))), (*p.labels, int(lab)), p.box)
        self._apply(new, f"added {_point_text(px, py, lab)}", started)

    def set_box(self, x0: float, y0: float, x1: float, y1: float) -> None:
        """Set the box ``(x0, y0, x1, y1)`` in pixels (it replaces a previous box)."""
        started = time.perf_counter()
        bx0, by0, bx1, by1 = (
            float(v) for v in validate_box([x0, y0, x1, y1], self._image.shape[:2])
        )
        b = (bx0, by0, bx1, by1)
        what = f"drew {_box_text(b)}"
        if self._prompts.box is not None:
            what += ", replacing the old box"
        new = _Prompts(self._prompts.points, self._prompts.labels, b)
        self._apply(new, what, started)

    def select(self, index: int) -> None:
        """Show candidate ``index`` of ``result.masks`` (0 to K-1) instead of the best one."""
        started = time.perf_counter()
        if self._result is None:
            raise ValueError("there is no mask to select yet: click on the image first.")
        k = len(self._result)
        index = check_int(index, "index", hint=f"Pass an int in [0, {k}).")
        if not 0 <= index < k:
            raise ValueError(f"index must be in [0, {k}) (there are {k} masks), got {index}.")
        self._selected = index
        self._changed(f"selected {self._mask_summary()}", started)

    def undo(self) -> bool:
        """Take back the last point, box or reset. Returns False if there was nothing to undo."""
        started = time.perf_counter()
        if not self._history:
            self._changed("nothing to undo")
            return False
        previous, what = self._history[-1]
        result = self._predict(previous) if not previous.empty else None
        self._history.pop()
        self._commit(previous, result)
        after = self._mask_summary() if result is not None else "no prompts left"
        self._changed(f"undid '{what}' → {after}", started)
        return True

    def reset(self) -> bool:
        """Remove every point and the box (undo brings them back). False if already empty."""
        started = time.perf_counter()
        if self._prompts.empty:
            self._changed("nothing to reset")
            return False
        summary = self._prompt_summary()
        self._history.append((self._prompts, "reset"))
        self._commit(_Prompts(), None)
        self._changed(f"reset: removed {summary}", started)
        return True

    # ---- events from the browser: never raise, say what happened in the status line

    def _handle_click(self, x: object, y: object, button: int = 0, shift: bool = False) -> None:
        """A click at ``(x, y)``: continuous pixel coordinates of the original image.

        ``button`` 0 (left) adds a point of the current ``mode``; ``button`` 2 (right) or
        ``shift`` adds the other kind. The point is the pixel clicked:
        ``(floor(x), floor(y))``.
        """
        try:
            fx, fy = float(x), float(y)  # type: ignore[arg-type]  # not numbers: caught below
        except (TypeError, ValueError):
            return self._ignored(f"ignored click: coordinates {x!r}, {y!r} are not numbers")
        h, w = self._image.shape[:2]
        if not (math.isfinite(fx) and math.isfinite(fy)):
            return self._ignored(f"ignored click: coordinates ({x}, {y}) are not finite")
        if not (0 <= fx < w and 0 <= fy < h):
            return self._ignored(
                f"ignored click at (x={fx:.1f}, y={fy:.1f}): outside the {w}x{h} image "
                f"(x must be in [0, {w}), y in [0, {h}))"
            )
        if button not in (0, 2):
            return self._ignored(f"ignored click with mouse button {button}: use left or right")
        flip = bool(shift) or button == 2
        label = int((self._mode == "positive") != flip)
        self._guarded(lambda: self.add_point(math.floor(fx), math.floor(fy), label))

    def _handle_box(self, x0: object, y0: object, x1: object, y1: object) -> None:
        """A drag from ``(x0, y0)`` to ``(x1, y1)``: continuous coordinates in pixels of the
        image (pixel i spans [i, i + 1)), any corner order. The corners are rounded to the
        nearest pixel boundary (half up) and clipped to the image."""
        try:
            values = [float(v) for v in (x0, y0, x1, y1)]  # type: ignore[arg-type]  # caught
        except (TypeError, ValueError):
            return self._ignored(
                f"ignored box: corners {x0!r}, {y0!r}, {x1!r}, {y1!r} are not numbers"
            )
        if not all(math.isfinite(v) for v in values):
            return self._ignored(f"ignored box: corners {values} are not finite")
        h, w = self._image.shape[:2]
        ax0, ax1 = sorted((values[0], values[2]))
        ay0, ay1 = sorted((values[1], values[3]))
        bx0, bx1 = (min(max(math.floor(v + 0.5), 0), w) for v in (ax0, ax1))
        by0, by1 = (min(max(math.floor(v + 0.5), 0), h) for v in (ay0, ay1))
        if bx1 <= bx0 or by1 <= by0:
            which = "width" if bx1 <= bx0 else "height"
            return self._ignored(
                f"ignored box (x0={bx0}, y0={by0}, x1={bx1}, y1={by1}): zero {which} inside "
                "the image; drag further to draw a box"
            )
        self._guarded(lambda: self.set_box(bx0, by0, bx1, by1))

    def _handle_select(self, index: object) -> None:
        if self._result is None:
            return self._ignored("ignored mask choice: there is no mask yet")
        k = len(self._result)
        if not is_int(index):
            return self._ignored(f"ignored mask choice {index!r}: not an index")
        i = int(index)
        if not 0 <= i < k:
            return self._ignored(f"ignored mask choice {index}: there are {k} masks")
        self._guarded(lambda: self.select(i))

    def _handle_mode(self, mode: object) -> None:
        if mode not in _MODES:
            return self._ignored(f"ignored mode {mode!r}: use 'positive' or 'negative'")
        self.mode = cast(str, mode)  # one of _MODES

    def _handle_hello(self, inflate: object) -> None:
        """A view started; ``inflate``: its browser has ``DecompressionStream``. Masks are
        sent deflated (25x smaller, for remote kernels such as Colab's) only once every view
        said it can inflate them."""
        if inflate is not True:
            self._views_inflate = False
        elif self._views_inflate is None:
            self._views_inflate = True

    def _handle_undo(self) -> None:
        self._guarded(self.undo)

    def _handle_reset(self) -> None:
        self._guarded(self.reset)

    def _on_msg(self, _widget: object, content: object, _buffers: object = None) -> None:
        """ipywidgets' custom-message callback: dispatch one event from the browser."""
        try:
            message = content if isinstance(content, dict) else {}
            kind = message.get("type")
            if kind == "hello":
                self._handle_hello(message.get("inflate"))
            elif kind == "click":
                self._handle_click(
                    message.get("x"),
                    message.get("y"),
                    int(message.get("button", 0)),
                    bool(message.get("shift", False)),
                )
            elif kind == "box":
                self._handle_box(*(message.get(k) for k in ("x0", "y0", "x1", "y1")))
            elif kind == "select":
                self._handle_select(message.get("index"))
            elif kind == "mode":
                self._handle_mode(message.get("mode"))
            elif kind == "undo":
                self._handle_undo()
            elif kind == "reset":
                self._handle_reset()
            else:
                self._ignored(f"ignored unknown message {content!r}")
        except Exception as exc:  # the browser must get an answer, never a traceback
            self._ignored(f"error: {type(exc).__name__}: {exc}")

    def _guarded(self, action: Callable[[], object]) -> None:
        try:
            action()
        except Exception as exc:
            self._ignored(f"error: {type(exc).__name__}: {exc}")

    def _ignored(self, message: str) -> None:
        self._changed(f"{message}; nothing changed")

    # ---- internals

    def _predict(self, prompts: _Prompts) -> PredictionResult:
        """Run SAM's decoder on ``prompts`` (the encoder ran in __init__)."""
        predictor = self._predictor
        if predictor.original.features is not self._features:
            # Someone set another image on a shared predictor: restore ours (a cache hit).
            predictor.set_image(self._image)
            self._features = predictor.original.features
        return predictor.predict(
            points=np.asarray(prompts.points, dtype=np.float32) if prompts.points else None,
            labels=np.asarray(prompts.labels, dtype=np.int32) if prompts.points else None,
            box=np.asarray(prompts.box, dtype=np.float32) if prompts.box is not None else None,
            multimask=self._multimask,
        )

    def _apply(self, new: _Prompts, what: str, started: float) -> None:
        result = self._predict(new)  # may raise: nothing has changed yet
        self._history.append((self._prompts, what))
        self._commit(new, result)
        self._changed(f"{what} → {self._mask_summary()}", started)

    def _commit(self, prompts: _Prompts, result: PredictionResult | None) -> None:
        self._prompts = prompts
        self._result = result
        self._selected = result.best_index if result is not None else None

    def _mask_summary(self) -> str:
        if self._result is None or self._selected is None:
            return "no mask"
        i, k = self._selected, len(self._result)
        pixels = int(self._result.masks[i].sum())
        return f"masks[{i}] of {k}, score {self._result.scores[i]:.2f}, {pixels:,} px"

    def _prompt_summary(self) -> str:
        p = self._prompts
        parts = []
        if p.points:
            n = len(p.points)
            parts.append(f"{n} point{'s' if n != 1 else ''}")
        if p.box is not None:
            parts.append("the box")
        return " and ".join(parts) if parts else "nothing"

    def _changed(self, message: str, started: float | None = None) -> None:
        """Set the status, send the new state to the browser, run the callbacks."""
        self._revision += 1
        state = self._frontend_state() if self._view is not None else None
        if started is not None:
            self.last_event_ms = (time.perf_counter() - started) * 1000
            message = f"{message}, {self.last_event_ms:.0f} ms"
        self._status = message
        if state is not None:
            self._push(state)
        for callback in list(self._callbacks):
            try:
                callback(self)
            except Exception as exc:
                self._status = f"{message} (on_change callback failed: {type(exc).__name__}: {exc})"
                if self._view is not None:
                    self._view.status = self._status

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
        """Write the chosen mask to ``path``: ``.png`` (8-bit, 0 and 255) or ``.npy`` (bool).

        The file is written to a temporary name in the same folder and renamed, so a failed
        save never leaves a half-written file. Read it back with
        ``np.array(PIL.Image.open(path)) > 0`` or ``np.load(path)``.

        Returns:
          Path: the path written.

        Raises:
          ValueError: no mask yet, or a suffix other than .png / .npy.
          FileNotFoundError: the folder does not exist.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".png", ".npy"):
            raise ValueError(
                f"save_mask writes .png or .npy files, got {str(path)!r} (suffix "
                f"{path.suffix or 'none'!r}). Use e.g. 'mask.png' (an image, 0/255) or "
                "'mask.npy' (a bool array)."
            )
        mask = self.mask
        if mask is None:
            raise ValueError("there is no mask to save yet: click on the image first.")
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
