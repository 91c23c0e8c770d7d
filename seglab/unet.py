"""The U-Net of the course: the seed's network, configurable, with inputs checked at the door.

A U-Net (Ronneberger et al., 2015) labels every pixel. An *encoder* halves the image ``depth``
times while doubling the channels, so deep features see a wide context; a *decoder* doubles it
back, and at every scale it concatenates the encoder's features of the same size (the *skip
connections*) so that fine detail lost by pooling comes back. With the defaults (the course's
seed network, 21 Pascal VOC classes) the shapes are, for an input (B, 3, H, W)::

    enc1        (B, 64, H, W)            conv-BN-ReLU x2
    pool1       (B, 64, H/2, W/2)        max-pool 2x2
    enc2        (B, 128, H/2, W/2)
    pool2       (B, 128, H/4, W/4)
    enc3        (B, 256, H/4, W/4)
    pool3       (B, 256, H/8, W/8)
    bottleneck  (B, 512, H/8, W/8)
    up3         (B, 256, H/4, W/4)       transposed conv 2x2, stride 2
    cat3        (B, 512, H/4, W/4)       [up3, enc3] along the channels
    dec3        (B, 256, H/4, W/4)
    ... up2 / cat2 / dec2, up1 / cat1 / dec1 ...
    final       (B, 21, H, W)            1x1 conv: one logit per class and pixel

:func:`shape_trace` returns this table (with numbers) for any config and input size.

What this module adds to the seed:

- :class:`UNetConfig`: width (``base_channels``), ``depth``, classes, BatchNorm on or off,
  and skip connections on or off (``skip_connections=False`` builds the same encoder-decoder
  without them, to measure what they bring).
  ``UNet()`` with the defaults has exactly the seed's layers, names and parameter count, so the
  seed's ``state_dict`` loads into it (``tests/test_unet.py`` checks outputs and gradients).
- Inputs are checked before any layer runs, and a wrong input gets an error that says how to
  fix it: a missing batch axis, a gray or RGBA image, uint8 pixels, and above all a size that
  the network cannot halve ``depth`` times ("pad to 256x256 ...").
- ``UNet(pad_input=True)`` accepts any size: it pads the image up to the next multiple of
  ``2**depth`` and crops the logits back (see :func:`pad_to_multiple`, :func:`crop_to`).

About BatchNorm and small batches: in train mode BatchNorm normalises each channel with the mean
and variance of the current batch, computed over the batch *and* the pixels. A batch of one
image therefore works as long as every feature map has more than one pixel - but the deepest
one has only (H / 2**depth) x (W / 2**depth) pixels: a single 8x8 image at depth 3 leaves one
value per channel, and BatchNorm cannot compute a variance from it (this module says so before
torch does). With tiny batches the statistics are noisy; in eval mode (``model.eval()``)
BatchNorm uses the running averages gathered during training instead, which is why a model
must be switched to eval mode before predicting (``seglab.predict_labels`` does it for you).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from dataclasses import dataclass
from typing import TypeVar

import torch
import torch.nn.functional as F
from torch import nn

from seglab._util import check_bool, check_int, is_int, rename_keyword, warn_deprecated

#: Padding modes understood by :func:`pad_to_multiple`.
PAD_MODES = ("reflect", "replicate", "constant")

#: The release that drops ``n_classes``, the old spelling of ``num_classes`` (deprecated in 0.2.0).
N_CLASSES_REMOVED_IN = "0.3.0"

_Config = TypeVar("_Config")


def _accepts_n_classes(cls: type[_Config]) -> type[_Config]:
    """Let ``cls(n_classes=...)`` keep working, with a DeprecationWarning, until 0.3.0."""
    init = cls.__init__

    @functools.wraps(init)
    def __init__(self: object, *args: object, **kwargs: object) -> None:
        kwargs = rename_keyword(
            kwargs, "n_classes", "num_classes", where=cls.__name__, removed_in=N_CLASSES_REMOVED_IN
        )
        init(self, *args, **kwargs)

    cls.__init__ = __init__  # type: ignore[method-assign]
    return cls


@_accepts_n_classes
@dataclass(frozen=True)
class UNetConfig:
    """Sizes of a U-Net. The defaults are the course's seed network.

    Attributes:
      in_channels: channels of the input image (3 for RGB, 1 for gray).
      num_classes: number of classes, background included; the network outputs one logit per
        class and pixel (the name seglab's metrics and ``train`` use too). ``n_classes``, its
        spelling before 0.2.0, still works with a DeprecationWarning until 0.3.0.
      base_channels: channels of the first encoder block; each level down doubles them, so the
        bottleneck has ``base_channels * 2**depth`` (64 -> 128 -> 256, bottleneck 512).
      depth: number of 2x down-sampling steps (max-pools). The input's height and width must be
        divisible by ``2**depth`` (8 by default), unless ``pad_input`` is True.
      batch_norm: put a BatchNorm after every 3x3 convolution (the seed does). Without it the
        convolutions get a bias instead.
      pad_input: pad inputs of any size up to the next multiple of ``2**depth`` (mirroring the
        border, ``mode="reflect"``) and crop the logits back, instead of refusing them.
      skip_connections: concatenate the encoder's features to the decoder's at every scale (the
        U-Net). With False, each decoder block sees only the up-sampled features from below,
        so everything the decoder knows passes through the bottleneck: a plain encoder-decoder
        with the same layers, except that each ``dec`` block's first convolution takes half the
        channels (fewer parameters). For experiments; the seed has skips.
    """

    in_channels: int = 3
    num_classes: int = 21
    base_channels: int = 64
    depth: int = 3
    batch_norm: bool = True
    pad_input: bool = False
    skip_connections: bool = True

    def __post_init__(self) -> None:
        for name in ("in_channels", "num_classes", "base_channels", "depth"):
            value = check_int(getattr(self, name), f"UNetConfig.{name}")
            object.__setattr__(self, name, value)  # a NumPy int is stored as a Python int
            if value < 1:
                raise ValueError(f"UNetConfig.{name} must be at least 1, got {value}.")
        if self.num_classes < 2:
            raise ValueError(
                f"UNetConfig.num_classes must be at least 2 (background + one class), got "
                f"{self.num_classes}. For a yes/no mask use num_classes=2."
            )
        for name in ("batch_norm", "pad_input", "skip_connections"):
            object.__setattr__(self, name, check_bool(getattr(self, name), f"UNetConfig.{name}"))

    @property
    def multiple(self) -> int:
        """What the input's height and width must be divisible by: ``2**depth``."""
        return 2**self.depth

    @property
    def n_classes(self) -> int:
        """Deprecated spelling of :attr:`num_classes` (removed in 0.3.0)."""
        warn_deprecated(
            "UNetConfig.n_classes", "UNetConfig.num_classes", removed_in=N_CLASSES_REMOVED_IN
        )
        return self.num_classes


def conv_block(in_channels: int, out_channels: int, batch_norm: bool = True) -> nn.Sequential:
    """Two 3x3 convolutions, each followed by BatchNorm (optional) and ReLU.

    ``padding=1`` keeps the height and width: (B, in_channels, H, W) -> (B, out_channels, H, W).
    A convolution followed by BatchNorm needs no bias (BatchNorm subtracts the mean and adds its
    own shift), so it has ``bias=False``, as in the seed.
    """
    if batch_norm:
        return nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    """U-Net: an encoder that halves the image ``depth`` times, a decoder that doubles it back,
    and skip connections that hand each decoder level the encoder's features of the same size.

    Build it from a :class:`UNetConfig`, from keyword overrides, or both::

        UNet()                                   # the seed: 3 -> 21 classes, 64..512 channels
        UNet(num_classes=5, base_channels=16)    # a small one for the CPU
        UNet(UNetConfig(depth=4), pad_input=True)

    Layers are named as in the seed (``enc1``, ..., ``bottleneck``, ``up3``, ``dec3``, ...,
    ``final``), so with the defaults ``state_dict`` keys, parameter count and printout are the
    seed's. The seed's ``UNet(in_channels=3, n_classes=21)`` still builds the same network,
    with a DeprecationWarning: ``n_classes`` is now spelled ``num_classes`` (removed in 0.3.0).

    Input: (B, in_channels, H, W) float tensor (normalised pixels, e.g. in [0, 1]), on the
    model's device. H and W must be divisible by ``2**depth`` unless ``pad_input`` is True.
    Output: (B, num_classes, H, W) float logits (before softmax); ``logits.argmax(1)`` is the
    (B, H, W) label map.
    """

    def __init__(self, config: UNetConfig | None = None, **overrides: object) -> None:
        super().__init__()
        if config is None:
            config = UNetConfig()
        elif not isinstance(config, UNetConfig):
            raise TypeError(
                f"config must be a UNetConfig or None, got {type(config).__name__}. "
                "Pass UNet(UNetConfig(...)) or keywords, e.g. UNet(num_classes=5)."
            )
        overrides = rename_keyword(
            overrides, "n_classes", "num_classes", where="UNet", removed_in=N_CLASSES_REMOVED_IN
        )
        fields = [f.name for f in dataclasses.fields(UNetConfig)]
        unknown = sorted(set(overrides) - set(fields))
        if unknown:
            raise TypeError(
                f"UNet got unknown option(s) {', '.join(unknown)}; valid: {', '.join(fields)}."
            )
        # the values are checked by UNetConfig.__post_init__, whatever their type here
        self.config = c = dataclasses.replace(config, **overrides)  # type: ignore[arg-type]
        width = [c.base_channels * 2**i for i in range(c.depth + 1)]  # [64, 128, 256, 512]

        # Modules are created in the seed's order, so that under the same torch.manual_seed
        # the default UNet starts from exactly the seed's random weights.
        # Encoder: enc1 .. enc{depth}
        for i in range(1, c.depth + 1):
            cin = c.in_channels if i == 1 else width[i - 2]
            self.add_module(f"enc{i}", conv_block(cin, width[i - 1], c.batch_norm))
        self.pool = nn.MaxPool2d(2)
        self.bottleneck = conv_block(width[-2], width[-1], c.batch_norm)
        # Decoder: up{depth}, dec{depth}, ..., up1, dec1. Each dec sees the up-sampled features
        # concatenated with the skip, so twice the channels it outputs (without skips: as many).
        dec_in = 2 if c.skip_connections else 1
        for i in range(c.depth, 0, -1):
            self.add_module(f"up{i}", nn.ConvTranspose2d(width[i], width[i - 1], 2, stride=2))
            self.add_module(
                f"dec{i}", conv_block(dec_in * width[i - 1], width[i - 1], c.batch_norm)
            )
        self.final = nn.Conv2d(width[0], c.num_classes, 1)

    # ------------------------------------------------------------------ forward

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, in_channels, H, W) float -> (B, num_classes, H, W) logits."""
        return self._forward(x, record=None)

    def _forward(
        self, x: torch.Tensor, record: list[tuple[str, tuple[int, ...]]] | None
    ) -> torch.Tensor:
        """The forward pass; when ``record`` is a list, append (stage, output shape) to it."""

        def note(name: str, t: torch.Tensor) -> torch.Tensor:
            if record is not None:
                record.append((name, tuple(t.shape)))
            return t

        check_input(self, x)
        c = self.config
        h, w = x.shape[-2:]
        note("input", x)
        if c.pad_input:
            x, (pad_h, pad_w) = pad_to_multiple(x, c.multiple)  # (B, C, H', W'), H' % 2**depth == 0
            if pad_h or pad_w:
                note("pad", x)

        skips = []
        for i in range(1, c.depth + 1):  # level i works at 1 / 2**(i-1) of the input size
            x = note(f"enc{i}", getattr(self, f"enc{i}")(x))  # (B, base*2**(i-1), H/2**(i-1), ..)
            if c.skip_connections:
                skips.append(x)
            x = note(f"pool{i}", self.pool(x))  # (B, base*2**(i-1), H/2**i, W/2**i)
        x = note("bottleneck", self.bottleneck(x))  # (B, base*2**depth, H/2**depth, W/2**depth)

        for i in range(c.depth, 0, -1):
            x = note(f"up{i}", getattr(self, f"up{i}")(x))  # (B, base*2**(i-1), H/2**(i-1), ..)
            if c.skip_connections:
                x = note(f"cat{i}", torch.cat([x, skips.pop()], dim=1))  # (B, base*2**i, ..) skip!
            x = note(f"dec{i}", getattr(self, f"dec{i}")(x))  # (B, base*2**(i-1), ...)
        x = note("final", self.final(x))  # (B, num_classes, H', W')

        if x.shape[-2:] != (h, w):
            x = note("crop", crop_to(x, (h, w)))  # (B, num_classes, H, W)
        return x


# ---------------------------------------------------------------------- input checks


def _size_str(h: int, w: int) -> str:
    return f"{h}x{w}"


def check_input(model: UNet, x: object) -> None:
    """Raise a ``TypeError``/``ValueError`` that says how to fix ``x`` if ``model`` can't take it.

    Checks, in order: a tensor; 4-D (B, C, H, W); a float dtype matching the weights; on the
    model's device; ``in_channels`` channels; a size the network can halve ``depth`` times (or
    ``pad_input``); and, in train mode with BatchNorm, more than one value per channel at the
    bottleneck. Called by ``UNet.forward``; cheap (no data is read).
    """
    c = model.config
    if not isinstance(x, torch.Tensor):
        hint = (
            "convert a numpy image (H, W, 3) uint8 with "
            "torch.from_numpy(img).permute(2, 0, 1).float().div(255).unsqueeze(0)"
        )
        raise TypeError(f"UNet expects a torch.Tensor, got {type(x).__name__}: {hint}.")
    shape = tuple(x.shape)
    if x.ndim != 4:
        if x.ndim == 3 and shape[0] == c.in_channels:
            fix = "add the batch axis with x.unsqueeze(0)"
        elif x.ndim == 3 and shape[-1] == c.in_channels:
            fix = "this looks like (H, W, C): use x.permute(2, 0, 1).unsqueeze(0)"
        elif x.ndim == 2:
            fix = "add the batch and channel axes with x[None, None]"
            if c.in_channels != 1:
                fix += f" and repeat the channel: x[None, None].expand(-1, {c.in_channels}, -1, -1)"
        else:
            fix = "reshape it to (batch, channels, height, width)"
        raise ValueError(
            f"UNet expects a 4-D tensor (B, C, H, W), got {x.ndim}-D with shape {shape}: {fix}."
        )
    if not x.dtype.is_floating_point:
        fix = "x.float() / 255" if x.dtype == torch.uint8 else "x.float()"
        raise TypeError(
            f"UNet expects float pixels, got dtype {x.dtype}: convert with {fix} "
            "(and normalise the same way as the training images)."
        )
    param = next(model.parameters())
    if x.dtype != param.dtype:
        raise TypeError(
            f"input dtype {x.dtype} differs from the model's weights ({param.dtype}): convert "
            f"with x.to({param.dtype}) (or the model with model.to({x.dtype}))."
        )
    if x.device != param.device:
        raise ValueError(
            f"input is on {x.device} but the model is on {param.device}: move it with "
            f"x.to('{param.device}') (or the model with model.to('{x.device}'))."
        )
    b, ch, h, w = shape
    if ch != c.in_channels:
        if shape[-1] == c.in_channels:
            fix = "this looks channels-last (B, H, W, C): use x.permute(0, 3, 1, 2)"
        elif ch == 1:
            fix = (
                f"repeat gray images with x.expand(-1, {c.in_channels}, -1, -1) "
                "or build UNet(in_channels=1)"
            )
        elif ch == 4 and c.in_channels == 3:
            fix = "drop the alpha channel with x[:, :3] or build UNet(in_channels=4)"
        else:
            fix = f"build UNet(in_channels={ch})"
        s = "" if ch == 1 else "s"
        raise ValueError(
            f"got {ch} channel{s}, expected {c.in_channels} (input shape {shape}): {fix}."
        )
    if b == 0 or h == 0 or w == 0:
        raise ValueError(f"input shape {shape} is empty: the batch, height and width must be > 0.")
    m = c.multiple
    if not c.pad_input and (h % m or w % m):
        ph, pw = -(-h // m) * m, -(-w // m) * m
        raise ValueError(
            f"input {_size_str(h, w)} is not divisible by {m} (2**depth); pad to "
            f"{_size_str(ph, pw)} (e.g. seglab.unet.pad_to_multiple) or build "
            "UNet(pad_input=True)."
        )
    bh, bw = -(-h // m), -(-w // m)  # bottleneck size (after padding, if any)
    if model.training and c.batch_norm and b * bh * bw == 1:
        raise ValueError(
            f"in train mode BatchNorm needs more than one value per channel, but a batch of 1 "
            f"image of {_size_str(h, w)} leaves a 1x1 bottleneck (depth {c.depth}): use a batch "
            f"of at least 2, images of at least {_size_str(2 * m, 2 * m)}, or model.eval() to "
            "predict."
        )


# ---------------------------------------------------------------------- padding helpers


def _pad_index(n: int, pad: int, mode: str) -> torch.Tensor:
    """Indices 0..n-1 followed by ``pad`` more that continue past the end of an axis of ``n``.

    reflect: mirror about the last pixel (..., n-2, n-1, n-2, ...), bouncing off both ends if
    the padding is longer than the axis; replicate: repeat pixel n-1.
    """
    i = torch.arange(n + pad)
    if mode == "replicate" or n == 1:  # a single pixel mirrors onto itself
        return i.clamp(max=n - 1)
    period = 2 * (n - 1)
    i = i % period
    return torch.where(i < n, i, period - i)


def pad_to_multiple(
    x: torch.Tensor, multiple: int, mode: str = "reflect"
) -> tuple[torch.Tensor, tuple[int, int]]:
    """Pad the last two axes (H, W) at the bottom and right up to multiples of ``multiple``.

    Arguments:
      x (torch.Tensor): (..., H, W), any dtype: an image (C, H, W), a batch (B, C, H, W) or a
        label map (H, W).
      multiple (int): e.g. ``2**depth`` of a U-Net (8 for the seed).
      mode (str): how to fill the new pixels: ``"reflect"`` mirrors the image about its last
        row/column (what the U-Net paper does; no artificial edge), ``"replicate"`` repeats the
        last row/column, ``"constant"`` fills zeros.

    Returns:
      tuple: ``(padded, (pad_h, pad_w))`` - padded is (..., H + pad_h, W + pad_w) with the
      original pixels at the top left; ``crop_to(padded, (H, W))`` undoes it.

    Raises:
      TypeError: ``x`` is not a tensor or ``multiple`` not an int.
      ValueError: ``x`` has fewer than 2 axes or an empty one, ``multiple < 1``, unknown mode.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"x must be a torch.Tensor (..., H, W), got {type(x).__name__}; "
            "convert a numpy array with torch.from_numpy(x)."
        )
    multiple = check_int(multiple, "multiple")
    if multiple < 1:
        raise ValueError(f"multiple must be at least 1, got {multiple}; e.g. 2**depth = 8.")
    if mode not in PAD_MODES:
        raise ValueError(f"mode must be one of {', '.join(PAD_MODES)}, got {mode!r}.")
    if x.ndim < 2 or x.shape[-1] == 0 or x.shape[-2] == 0:
        raise ValueError(
            f"x must have at least 2 axes (..., H, W) with H, W > 0, got shape {tuple(x.shape)}."
        )
    h, w = x.shape[-2:]
    pad_h, pad_w = -h % multiple, -w % multiple
    if pad_h == 0 and pad_w == 0:
        return x, (0, 0)
    if mode == "constant":
        return F.pad(x, (0, pad_w, 0, pad_h)), (pad_h, pad_w)
    rows = _pad_index(h, pad_h, mode).to(x.device)
    cols = _pad_index(w, pad_w, mode).to(x.device)
    return x.index_select(-2, rows).index_select(-1, cols), (pad_h, pad_w)


def crop_to(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Keep the top-left ``size = (H, W)`` of the last two axes of ``x`` (undoes the padding of
    :func:`pad_to_multiple`). Returns a view: (..., H, W).

    Raises:
      TypeError: ``x`` is not a tensor or ``size`` not a pair of ints.
      ValueError: ``size`` is larger than ``x`` or not positive.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor (..., H, W), got {type(x).__name__}.")
    if (
        not isinstance(size, (tuple, list, torch.Size))
        or len(size) != 2
        or not all(is_int(s) for s in size)
    ):
        raise TypeError(f"size must be a pair of ints (H, W), got {size!r}; e.g. (250, 250).")
    h, w = int(size[0]), int(size[1])
    if x.ndim < 2 or not (0 < h <= x.shape[-2] and 0 < w <= x.shape[-1]):
        raise ValueError(
            f"cannot crop a tensor of shape {tuple(x.shape)} to {_size_str(h, w)}: the size must "
            "be positive and no larger than the last two axes."
        )
    return x[..., :h, :w]


# ---------------------------------------------------------------------- inspection


def shape_trace(
    model: UNet, input_size: int | tuple[int, int] | tuple[int, int, int, int]
) -> list[tuple[str, tuple[int, ...]]]:
    """The output shape of every stage of ``model`` for an input of ``input_size``.

    Runs the model's forward pass on a copy of it on PyTorch's "meta" device, where tensors
    have shapes but no data: it costs no memory or time, even for a large input, and leaves
    ``model`` untouched. The input checks of a real call apply (try a size that is not
    divisible by ``2**depth``!), except the train-mode BatchNorm one: shapes do not depend on
    the mode, so the trace runs in eval mode.

    Arguments:
      model (UNet): the network to trace.
      input_size: ``S`` (an SxS image), ``(H, W)``, or a full ``(B, C, H, W)``; B defaults
        to 1 and C to ``model.config.in_channels``.

    Returns:
      list of ``(stage, shape)``: ``("input", (1, 3, 64, 64)), ("enc1", (1, 64, 64, 64)),
      ("pool1", ...), ..., ("bottleneck", ...), ("up3", ...), ("cat3", ...), ("dec3", ...), ...,
      ("final", (1, 21, 64, 64))`` - plus ``"pad"`` and ``"crop"`` when ``pad_input`` pads,
      and no ``"cat"`` stages when ``skip_connections`` is False.
      Print it as a table with ``for name, shape in trace: print(f"{name:<11}{shape}")``.

    Raises:
      TypeError: ``model`` is not a seglab UNet; ``input_size`` is not an int or a sequence
        of ints (a float or a bool size is a TypeError).
      ValueError: ``input_size`` has another length than 1, 2 or 4 numbers, or a size < 1;
        or the model refuses the size, as a real call would.
    """
    if not isinstance(model, UNet):
        raise TypeError(f"shape_trace needs a seglab UNet, got {type(model).__name__}.")
    given: object = (input_size, input_size) if is_int(input_size) else input_size
    wanted = f"input_size must be S, (H, W) or (B, C, H, W) positive ints, got {given!r}"
    if not isinstance(given, (tuple, list, torch.Size)) or not all(is_int(s) for s in given):
        raise TypeError(f"{wanted}; e.g. (256, 256).")
    if len(given) not in (2, 4) or not all(s > 0 for s in given):
        raise ValueError(f"{wanted}; e.g. (256, 256).")
    size = tuple(int(s) for s in given)
    if len(size) == 2:
        size = (1, model.config.in_channels, *size)
    dtype = next(model.parameters()).dtype
    # Same layers, no data; eval mode because the shapes do not depend on the mode (and a
    # batch of one tiny image is fine for a trace, though not for BatchNorm in train mode).
    twin = copy.deepcopy(model).to("meta").eval()
    record: list[tuple[str, tuple[int, ...]]] = []
    with torch.no_grad():
        twin._forward(torch.empty(size, device="meta", dtype=dtype), record)
    return record


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters (``requires_grad``) of any ``nn.Module``.

    The seed network (``UNet()``) has 7,701,461 (about 7.7 M); halving ``base_channels`` divides
    it by about 4, since most weights are (in, out, 3, 3) kernels.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"count_parameters needs a torch.nn.Module, got {type(model).__name__}.")
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
