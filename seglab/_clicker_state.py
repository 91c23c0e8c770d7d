"""The state of :class:`seglab.widgets.SamClicker`: prompts, undo, objects, SAM's answers.

Everything a click changes lives here, in plain Python, without a browser: the current
object's points and box (an immutable :class:`_Prompts` snapshot per step, so undo is exact),
SAM's answer to them, the objects already kept, the status line, and the handling of the
browser's events (``_handle_click``, ``_handle_box``, ...: they never raise, they say in the
status line what happened). :class:`seglab.widgets.SamClicker` adds the view: the anywidget,
the static figure and saving masks. Tests drive the state through the same methods the
browser calls.

Coordinates are pixels of the original image: ``(x, y)`` with x the column and y the row;
a box is ``(x0, y0, x1, y1)``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from seglab._util import check_bool, check_int, format_number, is_int
from seglab.images import as_rgb_uint8
from seglab.prompts import validate_box, validate_labels, validate_points

if TYPE_CHECKING:  # only for annotations: keeps torch/segment_anything out of import time
    from seglab._types import ArrayLike, ImageLike
    from seglab.sam.predictor import PredictionResult, Predictor

__all__ = ["ClickedObject", "ClickerState"]

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


@dataclass(frozen=True)
class ClickedObject:
    """One object segmented with the clicker.

    Attributes:
      points (np.ndarray): (N, 2) float32 ``(x, y)`` clicks in pixels of the image.
      labels (np.ndarray): (N,) int32, 1 = positive, 0 = negative.
      box (np.ndarray | None): (4,) float32 ``(x0, y0, x1, y1)``, or None.
      mask (np.ndarray): (H, W) bool, the mask chosen for it.
    """

    points: np.ndarray
    labels: np.ndarray
    box: np.ndarray | None
    mask: np.ndarray


class ClickerState:
    """Prompts, undo history, kept objects and SAM's answers for one image.

    The arguments are :class:`seglab.widgets.SamClicker`'s, without ``display_width``; see
    there. The image is encoded once, here.
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
        self._prompts = _Prompts()
        # undo history: (prompts before an action, what the action was), oldest first
        self._history: list[tuple[_Prompts, str]] = []
        self._objects: list[ClickedObject] = []  # finished objects (new_object), in order
        self._result: PredictionResult | None = None
        self._selected: int | None = None
        self._mode = "positive"
        self._status = "click on the object to segment (drag for a box)"
        self._revision = 0
        self._view: Any = None  # Any: the anywidget view, a class made at run time
        # Can every browser view inflate deflated bytes? None until a view says (hello).
        self._views_inflate: bool | None = None
        self._callbacks: list[Callable[[Any], object]] = []  # each gets the clicker
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

    def on_change(self, callback: Callable[[Any], object]) -> Callable[[Any], object]:
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

    def new_object(self) -> bool:
        """Keep the current object (its points, box and mask) and start a new, empty one.

        Clicks add to one prompt until then: a click on a second object would only make the
        first object's mask larger. The kept objects are in :attr:`objects`; undo brings the
        last one back as the current object. Returns False (and keeps nothing) when the
        current object has no prompt yet.
        """
        started = time.perf_counter()
        if self._prompts.empty or self._result is None:
            self._changed("nothing to keep yet: click on an object first")
            return False
        kept = self._current_object()
        self._history.append((self._prompts, "new object"))
        self._objects.append(kept)
        self._commit(_Prompts(), None)
        n = len(self._objects)
        pixels = int(kept.mask.sum())
        self._changed(f"kept object {n} ({pixels:,} px); click the next object", started)
        return True

    @property
    def objects(self) -> list[ClickedObject]:
        """One :class:`ClickedObject` per object: those kept by :meth:`new_object`, then the
        current one (when it has a prompt), in the order they were clicked."""
        current = [] if self._prompts.empty or self._result is None else [self._current_object()]
        return [*self._objects, *current]

    def _current_object(self) -> ClickedObject:
        mask = self.mask
        return ClickedObject(
            points=self.points,
            labels=self.labels,
            box=self.box,
            mask=mask if mask is not None else np.zeros(self._image.shape[:2], dtype=bool),
        )

    def undo(self) -> bool:
        """Take back the last point, box or reset. Returns False if there was nothing to undo."""
        started = time.perf_counter()
        if not self._history:
            self._changed("nothing to undo")
            return False
        previous, what = self._history[-1]
        result = self._predict(previous) if not previous.empty else None
        self._history.pop()
        if what == "new object":
            kept = self._objects.pop()
        self._commit(previous, result)
        if what == "new object" and result is not None:  # the same mask as when it was kept
            self._selected = next(
                (i for i, m in enumerate(result.masks) if np.array_equal(m, kept.mask)),
                result.best_index,
            )
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
        self._revision += 1  # the answer the view waits for: Python is listening
        self._publish()

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
            elif kind == "new_object":
                self._guarded(self.new_object)
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
        """Set the status, let the view publish the new state, run the callbacks."""
        self._revision += 1
        if started is not None:
            self.last_event_ms = (time.perf_counter() - started) * 1000
            message = f"{message}, {self.last_event_ms:.0f} ms"
        self._status = message
        self._publish()
        for callback in list(self._callbacks):
            try:
                callback(self)
            except Exception as exc:
                self._status = f"{message} (on_change callback failed: {type(exc).__name__}: {exc})"
                self._publish_status()

    def _publish(self) -> None:
        """Send the new state to the browser view, if there is one (see SamClicker)."""

    def _publish_status(self) -> None:
        """Send only the status line to the browser view, if there is one."""
