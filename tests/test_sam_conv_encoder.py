"""seglab.sam.conv_encoder: a CNN image encoder that SAM's prompt encoder, mask decoder,
SamPredictor and the mini-SAM checkpoint format all take as they take the ViT."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from segment_anything import SamPredictor

from seglab.sam import load_sam
from seglab.sam.conv_encoder import ConvImageEncoder
from seglab.sam.mini import MiniSamConfig, build_mini_sam, save_mini_checkpoint


@pytest.mark.parametrize("stride", [8, 16])
def test_embedding_grid_follows_the_output_stride(stride):
    enc = ConvImageEncoder(64, (8, 8, 16, 16), (1, 1, 1), out_chans=32, out_stride=stride).eval()
    with torch.no_grad():
        y = enc(torch.zeros(2, 3, 64, 64))
    assert enc.img_size == 64
    assert y.shape == (2, 32, 64 // stride, 64 // stride)


def test_other_strides_and_encoder_names_are_refused():
    with pytest.raises(ValueError, match="out_stride must be 8 or 16, got 4"):
        ConvImageEncoder(64, out_stride=4)
    with pytest.raises(ValueError, match=r"widths needs 4 numbers .* got widths=\(8, 8\)"):
        ConvImageEncoder(64, widths=(8, 8))
    with pytest.raises(ValueError, match="encoder must be 'vit' or 'conv', got 'cnn'"):
        build_mini_sam(MiniSamConfig(encoder="cnn"))


@pytest.mark.parametrize("stride", [8, 16])
def test_sam_predictor_runs_a_conv_mini_sam_unchanged(stride):
    config = MiniSamConfig.tiny(64, "conv")
    config = MiniSamConfig.from_dict({**config.to_dict(), "out_stride": stride})
    torch.manual_seed(0)
    predictor = SamPredictor(build_mini_sam(config))
    image = np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    predictor.set_image(image)
    masks, scores, low = predictor.predict(np.array([[30, 20]]), np.array([1]))
    assert masks.shape == (3, 48, 64) and masks.dtype == bool
    assert scores.shape == (3,)
    grid = 64 // stride
    assert low.shape == (3, 4 * grid, 4 * grid)
    # the low-res logits go back in as mask_input, as in SAM's corrective clicks
    again, _, _ = predictor.predict(
        np.array([[30, 20]]), np.array([1]), mask_input=low[:1], multimask_output=False
    )
    assert again.shape == (1, 48, 64)


def test_conv_config_round_trips_and_old_configs_mean_the_vit():
    c = MiniSamConfig(encoder="conv", conv_widths=(16, 24, 48, 64), conv_blocks=(1, 1, 2))
    d = c.to_dict()
    assert d["conv_widths"] == [16, 24, 48, 64] and d["conv_blocks"] == [1, 1, 2]
    assert MiniSamConfig.from_dict(d) == c
    new_keys = ("encoder", "conv_widths", "conv_blocks", "out_stride")
    old = {k: v for k, v in MiniSamConfig().to_dict().items() if k not in new_keys}
    assert MiniSamConfig.from_dict(old).encoder == "vit"
    assert c.grid == 16 and MiniSamConfig().grid == 16


def test_a_saved_conv_mini_sam_loads_back_as_a_conv_model(tmp_path):
    config = MiniSamConfig.tiny(64, "conv")
    torch.manual_seed(1)
    sam = build_mini_sam(config)
    path = save_mini_checkpoint(sam, tmp_path / "conv.pt", config)
    loaded = load_sam(None, checkpoint=path, device="cpu")
    assert isinstance(loaded.image_encoder, ConvImageEncoder)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(
            loaded.image_encoder(x), sam.half().float().image_encoder(x), atol=2e-3, rtol=0
        )


def test_attention_blocks_let_every_cell_see_the_whole_image():
    # a change in one corner of a 128-px image: without attention, the embedding cell in the
    # opposite corner is out of the CNN's reach and stays equal; with global attention it moves
    x = torch.randn(1, 3, 128, 128)
    far = x.clone()
    far[..., :8, :8] += 5.0
    for blocks, reaches in ((0, False), (1, True)):
        torch.manual_seed(0)
        enc = ConvImageEncoder(128, (8, 8, 16, 32), (1, 1, 1), out_chans=16, attn_blocks=blocks)
        with torch.no_grad():
            a, b = enc.eval()(x)[..., -1, -1], enc(far)[..., -1, -1]
        assert (not torch.allclose(a, b, atol=1e-6)) is reaches
        assert len(enc.attn) == blocks
    with pytest.raises(ValueError, match="attn_blocks must be >= 0, got -1"):
        ConvImageEncoder(64, attn_blocks=-1)


def test_attention_blocks_are_part_of_the_config_and_the_file(tmp_path):
    config = MiniSamConfig.from_dict(
        {**MiniSamConfig.tiny(64, "conv").to_dict(), "conv_attn_blocks": 2}
    )
    assert MiniSamConfig.from_dict(config.to_dict()) == config
    old = {k: v for k, v in config.to_dict().items() if k != "conv_attn_blocks"}
    assert MiniSamConfig.from_dict(old).conv_attn_blocks == 0  # files from before: no attention
    torch.manual_seed(2)
    sam = build_mini_sam(config)
    loaded = load_sam(None, checkpoint=save_mini_checkpoint(sam, tmp_path / "a.pt", config))
    assert len(loaded.image_encoder.attn) == 2
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(
            loaded.image_encoder(x), sam.half().float().image_encoder(x), atol=2e-3, rtol=0
        )


def test_the_detail_path_starts_as_no_detail_path_and_then_adds_to_it():
    torch.manual_seed(0)
    plain = ConvImageEncoder(64, (8, 8, 16, 16), (1, 1, 1), out_chans=16).eval()
    torch.manual_seed(0)
    detailed = ConvImageEncoder(64, (8, 8, 16, 16), (1, 1, 1), out_chans=16, detail=4).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        # its last 1 x 1 convolution starts at zero: the same embedding as without the path
        torch.testing.assert_close(detailed(x), plain(x), atol=0, rtol=0)
        torch.nn.init.normal_(detailed.detail.out.weight)
        assert detailed(x).shape == (1, 16, 8, 8)
        assert (detailed(x) - plain(x)).abs().max() > 1e-2
        # one bumped pixel reaches its cell through the detail path too: the cell moves
        # otherwise than it does without the path
        bumped = x.clone()
        bumped[..., 2, 2] += 10.0
        own = (detailed(bumped) - detailed(x))[..., 0, 0].abs().max()
        gain = own - (plain(bumped) - plain(x))[..., 0, 0].abs().max()
        assert gain.abs() > 1e-3
    # stride 8: the stem's features fold 4 x 4 into a cell, the stride-4 stage's 2 x 2
    assert detailed.detail.out.in_channels == 4 * (4 * 4 + 2 * 2)
    with pytest.raises(ValueError, match="detail must be >= 0, got -1"):
        ConvImageEncoder(64, detail=-1)


def test_the_detail_path_is_part_of_the_config_and_the_file(tmp_path):
    config = MiniSamConfig.from_dict({**MiniSamConfig.tiny(64, "conv").to_dict(), "conv_detail": 4})
    old = {k: v for k, v in config.to_dict().items() if k != "conv_detail"}
    assert MiniSamConfig.from_dict(old).conv_detail == 0  # files from before: no detail path
    torch.manual_seed(3)
    sam = build_mini_sam(config)
    torch.nn.init.normal_(sam.image_encoder.detail.out.weight, std=0.1)
    loaded = load_sam(None, checkpoint=save_mini_checkpoint(sam, tmp_path / "d.pt", config))
    assert loaded.image_encoder.detail is not None
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(
            loaded.image_encoder(x), sam.half().float().image_encoder(x), atol=5e-3, rtol=0
        )
    assert build_mini_sam(MiniSamConfig.tiny(64, "conv")).image_encoder.detail is None
