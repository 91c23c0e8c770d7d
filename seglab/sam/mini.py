"""mini-SAM: a small Segment Anything built from ``segment_anything``'s own modules.

The official SAM encoders (ViT-B/L/H at 1024 px) take ~15 s per image on a laptop CPU and their
checkpoints weigh 375 MB to 2.5 GB. mini-SAM keeps SAM's exact structure — ``ImageEncoderViT``,
``PromptEncoder``, ``MaskDecoder`` with a ``TwoWayTransformer``, 3 multimask outputs and the IoU
head — but at 256 px input with a narrow encoder and decoder, so that:

- ``segment_anything.SamPredictor`` and ``SamAutomaticMaskGenerator`` work with it unchanged
  (they size inputs from ``sam.image_encoder.img_size``);
- its weights are a few MB and ship inside the package (``seglab/sam/weights/``).

Shapes at the default config (B = batch):

    image (B, 3, 256, 256) -> patch embed 16x16 -> tokens (B, 16, 16, embed_dim)
    -> ViT blocks (windowed + global attention) -> neck -> embedding (B, prompt_dim, 16, 16)
    decoder -> low-res mask logits (B, 3 or 1, 64, 64) and IoU predictions (B, 3 or 1)
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import torch
from segment_anything.modeling import (
    ImageEncoderViT,
    MaskDecoder,
    PromptEncoder,
    Sam,
    TwoWayTransformer,
)

from seglab._util import atomic_path

#: The mini-SAM weights that ship inside the package (written by ``seglab.sam.train_mini``).
MINI_WEIGHTS_PATH: Path = Path(__file__).with_name("weights") / "mini_sam.pt"

#: Marker stored in every mini-SAM checkpoint, so a loader can tell it from an official file.
MINI_FORMAT = "seglab-mini-sam"
MINI_FORMAT_VERSION = 1


@dataclass(frozen=True)
class MiniSamConfig:
    """Sizes of a mini-SAM.

    The defaults are the ViT mini-SAM's (the model shipped until December 2026). The shipped
    model is ``MiniSamConfig(encoder="conv", out_stride=8)``; its checkpoint stores its config,
    so ``load_sam("mini")`` needs none of this.

    Attributes:
      img_size: side of the square input the encoder sees, in pixels (images are resized so
        their longest side is this, then padded).
      patch_size: ViT patch side in pixels; the embedding grid is img_size // patch_size.
      embed_dim: width of the ViT encoder.
      depth: number of ViT blocks.
      num_heads: attention heads per ViT block.
      window_size: side of the attention windows (in tokens) of the non-global blocks.
      global_attn_indexes: blocks that attend globally instead of in windows.
      prompt_dim: width of the image embedding, prompt tokens and mask decoder.
      decoder_depth: TwoWayTransformer layers.
      decoder_mlp_dim: hidden width of the decoder's MLPs.
      decoder_heads: attention heads in the decoder.
      iou_head_hidden_dim: hidden width of the IoU-prediction head.
      encoder: ``"vit"`` (SAM's ``ImageEncoderViT``, sized by patch_size ... global_attn_indexes)
        or ``"conv"`` (:class:`seglab.sam.conv_encoder.ConvImageEncoder`, sized by conv_widths,
        conv_blocks and out_stride).
      conv_widths: channels of the conv encoder's stem and its stages at strides 4, 8 and 16.
      conv_blocks: residual blocks of the conv encoder's stages at strides 4, 8 and 16.
      out_stride: the conv encoder's output stride (8 or 16); the grid is img_size // out_stride.
      conv_attn_blocks: global-attention blocks on the conv encoder's stride-16 stage (0: none;
        files written before this field existed have none).
      conv_detail: channels of the conv encoder's detail path (stride-2 and stride-4 features
        folded into the embedding; 0: none, as in files written before this field existed).
    """

    img_size: int = 256
    patch_size: int = 16
    embed_dim: int = 128
    depth: int = 6
    num_heads: int = 4
    window_size: int = 8
    global_attn_indexes: tuple[int, ...] = field(default=(2, 5))
    prompt_dim: int = 128
    decoder_depth: int = 2
    decoder_mlp_dim: int = 512
    decoder_heads: int = 4
    iou_head_hidden_dim: int = 128
    encoder: str = "vit"
    conv_widths: tuple[int, ...] = field(default=(32, 48, 96, 160))
    conv_blocks: tuple[int, ...] = field(default=(1, 2, 3))
    out_stride: int = 16
    conv_attn_blocks: int = 0
    conv_detail: int = 0

    @property
    def grid(self) -> int:
        """Side of the image embedding grid, in tokens."""
        return self.img_size // (self.out_stride if self.encoder == "conv" else self.patch_size)

    @classmethod
    def tiny(cls, img_size: int = 64, encoder: str = "vit") -> MiniSamConfig:
        """A very small mini-SAM for tests and smoke runs (seconds, not minutes)."""
        return cls(
            img_size=img_size,
            encoder=encoder,
            conv_widths=(8, 8, 16, 16),
            conv_blocks=(1, 1, 1),
            patch_size=16,
            embed_dim=32,
            depth=2,
            num_heads=2,
            window_size=4,
            global_attn_indexes=(1,),
            prompt_dim=32,
            decoder_depth=1,
            decoder_mlp_dim=64,
            decoder_heads=2,
            iou_head_hidden_dim=32,
        )

    def to_dict(self) -> dict:
        """The config as plain JSON-friendly values (tuples become lists)."""
        d = asdict(self)
        for name in ("global_attn_indexes", "conv_widths", "conv_blocks"):
            d[name] = list(d[name])
        return d

    @classmethod
    def from_dict(cls, d: dict) -> MiniSamConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise ``TypeError``."""
        d = dict(d)
        for name in ("global_attn_indexes", "conv_widths", "conv_blocks"):
            if name in d:
                d[name] = tuple(d[name])
        return cls(**d)


def build_mini_sam(config: MiniSamConfig | None = None) -> Sam:
    """Build an untrained mini-SAM (random weights) in eval mode on the CPU.

    Arguments:
      config (MiniSamConfig | None): sizes; None means ``MiniSamConfig()``.

    Returns:
      segment_anything.modeling.Sam: usable with ``SamPredictor`` as it is.
    """
    c = config or MiniSamConfig()
    grid = c.grid
    if c.encoder not in ("vit", "conv"):
        raise ValueError(f"MiniSamConfig.encoder must be 'vit' or 'conv', got {c.encoder!r}")
    image_encoder: torch.nn.Module
    if c.encoder == "conv":
        from seglab.sam.conv_encoder import ConvImageEncoder

        image_encoder = ConvImageEncoder(
            c.img_size,
            c.conv_widths,
            c.conv_blocks,
            c.prompt_dim,
            c.out_stride,
            c.conv_attn_blocks,
            c.conv_detail,
        )
    else:
        image_encoder = ImageEncoderViT(
            img_size=c.img_size,
            patch_size=c.patch_size,
            embed_dim=c.embed_dim,
            depth=c.depth,
            num_heads=c.num_heads,
            mlp_ratio=4,
            out_chans=c.prompt_dim,
            qkv_bias=True,
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
            use_rel_pos=True,
            window_size=c.window_size,
            global_attn_indexes=c.global_attn_indexes,
        )
    sam = Sam(
        image_encoder=image_encoder,
        prompt_encoder=PromptEncoder(
            embed_dim=c.prompt_dim,
            image_embedding_size=(grid, grid),
            input_image_size=(c.img_size, c.img_size),
            mask_in_chans=16,
        ),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=3,
            transformer=TwoWayTransformer(
                depth=c.decoder_depth,
                embedding_dim=c.prompt_dim,
                mlp_dim=c.decoder_mlp_dim,
                num_heads=c.decoder_heads,
            ),
            transformer_dim=c.prompt_dim,
            iou_head_depth=3,
            iou_head_hidden_dim=c.iou_head_hidden_dim,
        ),
        pixel_mean=[123.675, 116.28, 103.53],
        pixel_std=[58.395, 57.12, 57.375],
    )
    return sam.eval()


def atomic_torch_save(obj: object, path: Path) -> None:
    """``torch.save`` to a temporary file beside ``path``, then rename: never a half-written one."""
    with atomic_path(path, mode=0o644) as tmp:  # 0644: a checkpoint is meant to be shared
        torch.save(obj, str(tmp))


def save_mini_checkpoint(
    sam: Sam,
    path: str | os.PathLike[str],
    config: MiniSamConfig,
    meta: dict[str, object] | None = None,
) -> Path:
    """Save a mini-SAM as a small, ``weights_only``-loadable checkpoint.

    The file holds a plain dict ``{"format", "version", "config", "state_dict", "meta"}`` with
    the floating-point weights stored as float16 (half the size; mini-SAM runs in float32 after
    loading) and integer buffers (batch norm's ``num_batches_tracked``) as they are.
    It is written to a temporary file in the same folder and renamed, so an interrupted save
    never leaves a half-written checkpoint under ``path``.

    Arguments:
      sam (Sam): the model to save (any device).
      path (str | PathLike): where to write, e.g. ``runs/mini/step_1000.pt``.
      config (MiniSamConfig): the sizes ``sam`` was built with.
      meta (dict | None): plain JSON-like training information (str, int, float, list, dict).

    Returns:
      Path: the path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": MINI_FORMAT,
        "version": MINI_FORMAT_VERSION,
        "config": config.to_dict(),
        "state_dict": {
            k: v.detach().to("cpu", torch.float16 if v.is_floating_point() else v.dtype)
            for k, v in sam.state_dict().items()
        },
        "meta": dict(meta or {}),
    }
    atomic_torch_save(payload, path)
    return path
