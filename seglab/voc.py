"""Pascal VOC 2012's labels: the 21 class names, the colour palette, and reading label PNGs.

VOC's ``SegmentationClass/*.png`` files are *palette* images (PIL mode ``"P"``): each pixel
stores a class index (0 = background, 1..20 = the objects, 255 = "void", the unlabelled band
around every object), and the file carries a colour table that viewers use to draw it. Read
as indices the file is a label map; converted to RGB it becomes colours, which are not class
ids — the classic mistake that :func:`read_label_png` refuses with the fix.

Imports NumPy and Pillow only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    import os

    import numpy as np

#: The 21 classes of Pascal VOC 2012 segmentation, index = class id (0 = background).
VOC_CLASSES: tuple[str, ...] = (
    "background",
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "diningtable",
    "dog",
    "horse",
    "motorbike",
    "person",
    "pottedplant",
    "sheep",
    "sofa",
    "train",
    "tvmonitor",
)

#: The label of VOC's unlabelled pixels (object borders, ambiguous regions): pass it to the
#: loss as ``ignore_index`` and leave it out of the metrics.
VOC_VOID = 255


def voc_palette() -> np.ndarray:
    """VOC's colour table: row ``k`` is the RGB colour of class id ``k``.

    The table is built by VOC's own rule: the bits of ``k`` are dealt round-robin to red,
    green and blue, most significant bit first (class 1 -> (128, 0, 0), 15 "person" ->
    (192, 128, 128), 255 "void" -> (224, 224, 192)).

    Returns:
      np.ndarray: shape (256, 3), dtype uint8, values in [0, 255].
    """
    import numpy as np

    palette = np.zeros((256, 3), dtype=np.uint8)
    for k in range(256):
        r = g = b = 0
        c = k
        for bit in range(8):
            r |= ((c >> 0) & 1) << (7 - bit)
            g |= ((c >> 1) & 1) << (7 - bit)
            b |= ((c >> 2) & 1) << (7 - bit)
            c >>= 3
        palette[k] = (r, g, b)
    return palette


def read_label_png(file: str | os.PathLike[str] | BinaryIO) -> np.ndarray:
    """Read a label PNG (a VOC ``SegmentationClass`` file or any palette/grey label image).

    Arguments:
      file: a path or an open binary file.

    Returns:
      np.ndarray: shape (H, W), dtype uint8: the class id of every pixel as stored in the file
      (for VOC: 0..20, and :data:`VOC_VOID` = 255 for unlabelled pixels).

    Raises:
      ValueError: the image holds colours (mode ``RGB``/``RGBA``...), not class ids — the
        message says how to get the ids back.
    """
    import numpy as np
    from PIL import Image

    with Image.open(file) as img:
        mode = img.mode
        if mode in ("P", "L"):
            return np.array(img, dtype=np.uint8)  # P: the indices, not the palette colours
    raise ValueError(
        f"this label PNG has mode {mode!r}: its pixels are colours, not class ids. A VOC "
        "label file is a palette image (mode 'P') whose pixel values are the class ids; read "
        "it with np.array(Image.open(path)) and never .convert('RGB'). If it was already saved "
        "as RGB, map each colour back to its row in seglab.voc.voc_palette()."
    )
