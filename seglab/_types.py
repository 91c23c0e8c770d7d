"""Type aliases for seglab's annotations. Nothing here runs: the aliases exist only for type
checkers (``if TYPE_CHECKING:``), so that importing seglab stays light (no torch, no PIL).

Use them in annotations, under ``from __future__ import annotations``::

    if TYPE_CHECKING:
        from seglab._types import ImageLike
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import TypeAlias

    import numpy.typing as npt
    import torch
    from PIL import Image

    #: What seglab turns into a numpy array: a numpy array, a list or a tensor (any device).
    ArrayLike: TypeAlias = npt.ArrayLike | torch.Tensor
    #: An image as seglab accepts it: an array, a tensor or a PIL image.
    ImageLike: TypeAlias = npt.ArrayLike | torch.Tensor | Image.Image
