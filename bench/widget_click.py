"""One click in SamClicker vs one official ``SamPredictor.predict``: same model, image, run.

(a) widget: ``clicker._handle_click(x, y)``, the method the browser's click message calls,
    timed from the call until the new state (the mask as 1 bit per pixel, scores, points,
    status; the mask deflated, as for a browser that can inflate) is set on the anywidget view,
    i.e. ready to send. Goal: median <= 100 ms with mini-SAM on a CPU.
(b) official: ``SamPredictor.predict(point_coords=[[x, y]], point_labels=[1])`` on the same
    embedding, the decoder work every click needs anyway. Printed: the ratio (a) / (b).
(c) the overlay formats the widget could send after a click, for the mask of (a): 1 bit per
    pixel (``np.packbits``; the browser colours it), the same deflated (what the widget sends),
    an 8-bit gray PNG, an RGBA PNG of the coloured layer, raw RGBA bytes. Time to make them,
    and their size (what crosses the network on a remote kernel such as Colab's).

Each click is a fresh single positive point (the clicker is reset between clicks, outside the
timing) at a random pixel inside the image, the same points for (a) and (b), which take turns
going first. Medians after a warm-up. The model is the shipped mini-SAM
(seglab/sam/weights/mini_sam.pt) when present, otherwise a random-weight mini-SAM (timings do
not depend on the weights' values). On a busy machine ``--threads 1`` gives steadier numbers
(the decoder's small matrix products gain nothing from more threads, and lose a lot when the
CPU is shared).

``--quick`` makes 6 clicks and times each overlay format 3 times.

    python bench/widget_click.py [--sample coffee] [--clicks 50] [--threads N] [--quick]
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable

import numpy as np
import torch
from _timing import Report, Timing, fmt_seconds, measure, parse_args, timed
from PIL import Image
from segment_anything import SamPredictor

from seglab.images import load_sample
from seglab.sam.mini import MINI_WEIGHTS_PATH, build_mini_sam
from seglab.sam.predictor import Predictor
from seglab.widgets import MASK_COLOR, SamClicker


def load_model() -> tuple[torch.nn.Module, str]:
    if MINI_WEIGHTS_PATH.exists():
        from seglab.sam.loading import load_sam

        return load_sam("mini", device="cpu"), "mini-SAM, shipped weights"
    torch.manual_seed(0)
    return build_mini_sam(), "mini-SAM, random weights (no shipped file yet)"


def overlay_formats(mask: np.ndarray) -> dict[str, Callable[[], bytes]]:
    def png(array: np.ndarray) -> bytes:
        buffer = io.BytesIO()
        Image.fromarray(array).save(buffer, format="PNG", compress_level=3)
        return buffer.getvalue()

    def rgba_layer() -> np.ndarray:
        layer = np.zeros((*mask.shape, 4), dtype=np.uint8)
        layer[mask] = (*MASK_COLOR, 128)
        return layer

    return {
        "1 bit/pixel (np.packbits)": lambda: np.packbits(mask).tobytes(),
        "1 bit/pixel + zlib level 1, sent": lambda: zlib.compress(np.packbits(mask).tobytes(), 1),
        "gray PNG (0/255)": lambda: png(mask.astype(np.uint8) * 255),
        "RGBA PNG of the coloured layer": lambda: png(rgba_layer()),
        "raw RGBA bytes": lambda: rgba_layer().tobytes(),
    }


def main() -> None:
    def options(parser) -> None:
        parser.add_argument("--sample", default="coffee", help="a seglab.images sample name")
        parser.add_argument("--clicks", type=int, default=None, help="default 50 (quick 6)")
        parser.add_argument("--threads", type=int, default=None, help="default: torch's")

    args = parse_args(__doc__, options)
    if args.threads:
        torch.set_num_threads(args.threads)
    args.threads = torch.get_num_threads()
    args.clicks = args.clicks or (6 if args.quick else 50)
    report = Report("widget_click", args)

    sam, model_name = load_model()
    report.note(model_name)
    image = load_sample(args.sample)
    h, w = image.shape[:2]
    rng = np.random.default_rng(0)
    warmup = 3
    xs = rng.integers(0, w, size=args.clicks + warmup)
    ys = rng.integers(0, h, size=args.clicks + warmup)

    clicker = SamClicker(Predictor(sam), image)
    clicker.widget  # noqa: B018  the view exists, so every click also prepares what it sends
    clicker._handle_hello(True)  # as from a browser that can inflate: masks go deflated
    official = SamPredictor(sam)
    official.set_image(image)

    # Not _timing.measure_interleaved: each click is a different point, and the clicker is
    # reset between clicks outside the timing. The same alternation of who goes first.
    widget, baseline = Timing(), Timing()
    for i, (x, y) in enumerate(zip(xs.tolist(), ys.tolist(), strict=True)):
        clicker.reset()
        point = np.array([[x, y]], dtype=np.float32)

        def widget_click(x=x, y=y) -> None:
            clicker._handle_click(x, y)

        def official_click(p=point) -> None:
            official.predict(p, np.array([1]))

        if i % 2:
            official_time, widget_time = timed(official_click), timed(widget_click)
        else:
            widget_time, official_time = timed(widget_click), timed(official_click)
        assert clicker.points.tolist() == [[x, y]], clicker.status
        if i >= warmup:
            widget.times.append(widget_time)
            baseline.times.append(official_time)

    report.timing("widget click, event to state ready to send", widget)
    report.timing("official SamPredictor.predict, same click", baseline)
    print(
        f"{model_name}; image {args.sample!r} {h}x{w}; {widget.n} clicks; "
        f"torch {torch.__version__}, {args.threads} thread(s)"
    )
    met = "met" if widget.median <= 0.1 else "NOT met"
    print(
        f"(a) widget click, event -> state ready to send  {fmt_seconds(widget.median):>9}  "
        f"(goal <= 100 ms: {met})"
    )
    print(f"(b) official SamPredictor.predict, same click    {fmt_seconds(baseline.median):>9}")
    print(f"last status: {clicker.status}")

    print("(c) overlay formats for the last mask:")
    formats = {}
    for name, make in overlay_formats(clicker.mask).items():
        t = measure(make, repeats=3 if args.quick else 20, warmup=1)
        size = len(make())
        formats[name] = {**t.as_dict(), "bytes": size}
        print(f"    {name:<34}{fmt_seconds(t.median):>9}  {size:>9,} bytes")
    report.figure("overlay formats", formats)
    report.ratio(
        "(a) widget click / (b) official predict",
        widget.median / baseline.median,
        meaning="the time",
    )
    report.write()


if __name__ == "__main__":
    main()
