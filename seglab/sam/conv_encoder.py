"""A small convolutional image encoder for mini-SAM: SAM's prompt encoder and mask decoder on
top of a CNN, as EdgeSAM and RepViT-SAM do for phones.

Why a CNN and not a tiny ViT: trained from scratch on a few thousand images, a ViT with 16-pixel
patches has to learn what a texture edge is from data alone, and it sees each 16 x 16 patch as
one token. Convolutions are built to find local edges and textures, so the same CPU minutes go
much further; a stride-8 output also gives the decoder twice SAM's relative mask resolution at
this input size (low-res masks 4 x the embedding grid).

Shapes (B = batch, S = ``img_size``, C = ``out_chans``):

    image (B, 3, S, S), normalised by ``Sam.preprocess``
    -> stem, stride 2 -> stages at strides 4, 8, 16 (residual 3 x 3 blocks)
    -> optionally, transformer blocks with global attention on the stride-16 grid, so that
       every cell sees the whole image (a 3 x 3 CNN's cells see only their neighbourhood)
    -> top-down fusion of the stride-16 stage into the stride-``out_stride`` one
    -> embedding (B, C, S / out_stride, S / out_stride)
    -> optionally, plus a detail path: the stem's stride-2 and the stride-4 stage's features,
       narrowed and folded into the embedding grid (``pixel_unshuffle``), so that each cell
       carries its patch's fine layout, which the mask decoder's transposed convolutions
       unfold again (HQ-SAM's early-feature fusion, kept inside SAM's one embedding tensor)
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from segment_anything.modeling.common import LayerNorm2d
from segment_anything.modeling.image_encoder import Block
from torch import nn
from torch.nn import functional as F


def _conv_bn(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True)
    )


class ResidualBlock(nn.Module):
    """Two 3 x 3 convolutions with batch norm and a skip: (B, C, H, W) -> (B, C, H, W)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = _conv_bn(channels, channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.bn2(self.conv2(self.conv1(x))))


class DetailPath(nn.Module):
    """Stride-2 and stride-4 features folded into the embedding grid: what to add to it.

    (B, c2, S/2, S/2) and (B, c4, S/4, S/4) -> narrowed to ``channels`` each (1 x 1 + GELU)
    -> ``pixel_unshuffle`` to the (S/stride x S/stride) grid, each cell holding its patch's
    (stride/2)^2 and (stride/4)^2 positions -> 1 x 1 convolution to (B, out_chans, g, g), which
    starts at zero.
    """

    def __init__(self, c2: int, c4: int, channels: int, out_chans: int, stride: int) -> None:
        super().__init__()
        self.f2, self.f4 = stride // 2, stride // 4  # folds from strides 2 and 4 to the grid
        self.narrow2 = nn.Sequential(nn.Conv2d(c2, channels, 1), nn.GELU())
        self.narrow4 = nn.Sequential(nn.Conv2d(c4, channels, 1), nn.GELU())
        self.out = nn.Conv2d(channels * (self.f2**2 + self.f4**2), out_chans, 1)
        nn.init.zeros_(self.out.weight)
        if self.out.bias is not None:  # always, with Conv2d's default bias=True; for mypy
            nn.init.zeros_(self.out.bias)

    def forward(self, s2: torch.Tensor, s4: torch.Tensor) -> torch.Tensor:
        fine = torch.cat(
            [
                F.pixel_unshuffle(self.narrow2(s2), self.f2),
                F.pixel_unshuffle(self.narrow4(s4), self.f4),
            ],
            1,
        )
        return self.out(fine)


class ConvImageEncoder(nn.Module):
    """CNN image encoder with SAM's interface (``img_size`` attribute, (B, C, g, g) output).

    Arguments:
      img_size: side S of the square input, a multiple of 16.
      widths: channels of the stem and of the stages at strides 4, 8 and 16.
      blocks: residual blocks in the stages at strides 4, 8 and 16.
      out_chans: channels C of the embedding (the decoder's width).
      out_stride: 8 or 16; the embedding grid is S / out_stride.
      attn_blocks: SAM's ViT blocks (``segment_anything.modeling.image_encoder.Block``: global
        attention with relative positions, one head per 32 channels) run on the stride-16
        stage's (S/16 x S/16) cells; 0: none.
      detail: channels each of the stride-2 and stride-4 features are narrowed to before they
        are folded into the embedding grid and added to the embedding (its last 1 x 1
        convolution starts at zero, so a model with it starts as one without); 0: no detail
        path (every file written before this argument existed).
    """

    def __init__(
        self,
        img_size: int = 256,
        widths: Sequence[int] = (32, 48, 96, 160),
        blocks: Sequence[int] = (1, 2, 3),
        out_chans: int = 128,
        out_stride: int = 8,
        attn_blocks: int = 0,
        detail: int = 0,
    ) -> None:
        super().__init__()
        if out_stride not in (8, 16):
            raise ValueError(f"out_stride must be 8 or 16, got {out_stride}")
        if attn_blocks < 0:
            raise ValueError(f"attn_blocks must be >= 0, got {attn_blocks}")
        if detail < 0:
            raise ValueError(f"detail must be >= 0, got {detail}")
        if len(widths) != 4 or len(blocks) != 3:
            raise ValueError(
                f"widths needs 4 numbers (stem, strides 4, 8, 16) and blocks 3 (strides 4, 8, "
                f"16); got widths={tuple(widths)}, blocks={tuple(blocks)}"
            )
        self.img_size = img_size
        self.out_stride = out_stride
        w0, w1, w2, w3 = widths
        self.stem = nn.Sequential(_conv_bn(3, w0, 2), _conv_bn(w0, w0))
        self.stages = nn.ModuleList()
        for c_in, c_out, n in ((w0, w1, blocks[0]), (w1, w2, blocks[1]), (w2, w3, blocks[2])):
            self.stages.append(
                nn.Sequential(_conv_bn(c_in, c_out, 2), *(ResidualBlock(c_out) for _ in range(n)))
            )
        grid16 = (img_size // 16, img_size // 16)
        self.attn = nn.ModuleList(
            Block(w3, max(1, w3 // 32), use_rel_pos=True, input_size=grid16)
            for _ in range(attn_blocks)
        )
        self.lateral = nn.Conv2d(w2 if out_stride == 8 else w3, out_chans, 1)
        self.top = nn.Conv2d(w3, out_chans, 1) if out_stride == 8 else None
        self.neck = nn.Sequential(
            nn.Conv2d(out_chans, out_chans, 3, 1, 1, bias=False),
            LayerNorm2d(out_chans),
            nn.GELU(),
            nn.Conv2d(out_chans, out_chans, 1, bias=False),
            LayerNorm2d(out_chans),
        )
        self.detail = DetailPath(w0, w1, detail, out_chans, out_stride) if detail else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) float32 normalised image -> (B, out_chans, S/out_stride, S/out_stride)."""
        x = self.stem(x)
        s4 = self.stages[0](x)
        s8 = self.stages[1](s4)
        s16 = self.stages[2](s8)
        if len(self.attn):
            t = s16.permute(0, 2, 3, 1)  # (B, S/16, S/16, C): the layout SAM's blocks take
            for block in self.attn:
                t = block(t)
            s16 = t.permute(0, 3, 1, 2)
        if self.top is None:
            y = self.lateral(s16)
        else:
            y = self.lateral(s8) + F.interpolate(self.top(s16), scale_factor=2.0, mode="nearest")
        y = self.neck(y)
        if self.detail is not None:
            y = y + self.detail(x, s4)
        return y
