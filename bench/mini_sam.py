"""Benchmark: mini-SAM vs SAM ViT-B ``set_image`` on this CPU, through the official SamPredictor.

Both models get the same photo (scikit-image's astronaut, 512 x 512, bundled offline) through
the unchanged ``segment_anything.SamPredictor``: ``set_image`` resizes it to the model's input
size (256 for mini, 1024 for ViT-B) and runs the image encoder - the step a learner waits for.
ViT-B weights are random (``sam_model_registry['vit_b']()``): timing does not depend on them,
and nothing is downloaded. Prints medians and the ratio; also the median latency of one mini
``predict`` (one click, 3 masks). Runs in about a minute on a 2-core CPU.

    python bench/mini_sam.py [--threads N] [--vit-b-repeats 3] [--mini-repeats 30]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np
import torch
from segment_anything import SamPredictor, sam_model_registry
from skimage import data

from seglab.sam.loading import load_sam


def median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--vit-b-repeats", type=int, default=3)
    parser.add_argument("--mini-repeats", type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    image = data.astronaut()  # (512, 512, 3) uint8

    mini = SamPredictor(load_sam("mini", device="cpu"))
    with torch.no_grad():
        mini.set_image(image)  # warm-up
        t_mini = median_seconds(lambda: mini.set_image(image), args.mini_repeats)
        click, label = np.array([[256, 200]]), np.array([1])
        mini.predict(click, label)
        t_pred = median_seconds(lambda: mini.predict(click, label), args.mini_repeats)

    torch.manual_seed(0)
    vit_b = SamPredictor(sam_model_registry["vit_b"]().eval())
    with torch.no_grad():
        t_vit_b = median_seconds(lambda: vit_b.set_image(image), args.vit_b_repeats)

    print(
        f"CPU: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{args.threads} threads"
    )
    print(f"mini-SAM set_image: {t_mini * 1000:8.1f} ms (median of {args.mini_repeats})")
    print(f"ViT-B    set_image: {t_vit_b * 1000:8.1f} ms (median of {args.vit_b_repeats})")
    print(f"ratio ViT-B / mini: {t_vit_b / t_mini:8.0f}x (goal >= 200x)")
    print(f"mini-SAM predict (1 click, 3 masks): {t_pred * 1000:.1f} ms (median)")


if __name__ == "__main__":
    main()
