"""Tests for seglab.unet.

The reference is the course's seed network, copied below unchanged (apart from formatting):
with the default config, seglab's UNet must be the same network - same printout, parameter
names and shapes, same random initial weights under the same seed, same outputs and gradients
(micrograd-style: the same computation twice, values and gradients compared). Then the parts
the seed does not have: other widths and depths, input checks with their fixes, padding.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from seglab.unet import (
    UNet,
    UNetConfig,
    count_parameters,
    crop_to,
    pad_to_multiple,
    shape_trace,
)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Run on one CPU thread: these tiny convolutions gain nothing from more, and on a shared
    machine busy threads make torch's thread pool spin (tens of times slower)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# --------------------------------------------------------------------------- the seed


class SeedUNet(torch.nn.Module):
    """U-Net: encoder (downsampling) + decoder (upsampling) with skip connections."""

    def __init__(self, in_channels: int = 3, n_classes: int = 21):
        super().__init__()
        # Encoder (backbone)
        self.enc1 = self._block(in_channels, 64)
        self.enc2 = self._block(64, 128)
        self.enc3 = self._block(128, 256)
        self.pool = torch.nn.MaxPool2d(2)
        # Bottleneck
        self.bottleneck = self._block(256, 512)
        # Decoder (upsampling with skip connections)
        self.up3 = torch.nn.ConvTranspose2d(512, 256, 2, stride=2)  # upsample 2x
        self.dec3 = self._block(512, 256)  # 256 + 256 skip = 512 input
        self.up2 = torch.nn.ConvTranspose2d(256, 128, 2, stride=2)
        self.dec2 = self._block(256, 128)
        self.up1 = torch.nn.ConvTranspose2d(128, 64, 2, stride=2)
        self.dec1 = self._block(128, 64)
        self.final = torch.nn.Conv2d(64, n_classes, 1)

    def _block(self, in_c: int, out_c: int) -> torch.nn.Sequential:
        return torch.nn.Sequential(
            torch.nn.Conv2d(in_c, out_c, 3, padding=1, bias=False),
            torch.nn.BatchNorm2d(out_c),
            torch.nn.ReLU(inplace=True),
            torch.nn.Conv2d(out_c, out_c, 3, padding=1, bias=False),
            torch.nn.BatchNorm2d(out_c),
            torch.nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(x)  # [B, 64, H, W]
        e2 = self.enc2(self.pool(e1))  # [B, 128, H/2, W/2]
        e3 = self.enc3(self.pool(e2))  # [B, 256, H/4, W/4]
        b = self.bottleneck(self.pool(e3))  # [B, 512, H/8, W/8]
        d3 = self.dec3(torch.cat([self.up3(b), e3], dim=1))  # skip!
        d2 = self.dec2(torch.cat([self.up2(d3), e2], dim=1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], dim=1))
        return self.final(d1)  # [B, n_classes, H, W]


def _randomize_batchnorm(model: torch.nn.Module, seed: int) -> None:
    """Give every BatchNorm non-trivial running stats and affine parameters, so that eval mode
    really exercises them (fresh ones are mean 0, var 1, weight 1, bias 0)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
                m.weight.copy_(torch.rand(n, generator=g) + 0.5)
                m.bias.copy_(torch.randn(n, generator=g) * 0.1)


# --------------------------------------------------------------------------- equal to the seed


def test_default_has_the_seeds_layers_names_and_parameter_count() -> None:
    ours, seed = UNet(), SeedUNet()
    # the printout, after the class name: same modules, same order, same hyper-parameters
    assert str(ours).split("\n")[1:] == str(seed).split("\n")[1:]
    ours_params = [(n, tuple(p.shape)) for n, p in ours.named_parameters()]
    seed_params = [(n, tuple(p.shape)) for n, p in seed.named_parameters()]
    assert ours_params == seed_params
    assert list(ours.state_dict()) == list(seed.state_dict())  # buffers too
    assert count_parameters(ours) == count_parameters(seed) == 7_701_461


def test_same_seed_gives_the_seeds_initial_weights() -> None:
    torch.manual_seed(123)
    seed = SeedUNet()
    torch.manual_seed(123)
    ours = UNet()
    for (name, a), b in zip(seed.state_dict().items(), ours.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_outputs_match_the_seed_in_eval_mode() -> None:
    torch.manual_seed(0)
    seed = SeedUNet()
    _randomize_batchnorm(seed, 1)
    ours = UNet()
    ours.load_state_dict(seed.state_dict())  # strict: every key matches
    seed.eval(), ours.eval()
    x = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected = seed(x)
        got = ours(x)
    assert got.shape == expected.shape == (2, 21, 16, 16)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)

    # and the other way round: our weights into the seed
    back = SeedUNet()
    back.load_state_dict(ours.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(back.eval()(x), got, atol=1e-5, rtol=0)


def test_gradients_match_the_seed_in_train_mode() -> None:
    torch.manual_seed(0)
    seed = SeedUNet()
    _randomize_batchnorm(seed, 3)
    ours = UNet()
    ours.load_state_dict(seed.state_dict())
    g = torch.Generator().manual_seed(4)
    x = torch.randn(2, 3, 8, 8, generator=g)  # bottleneck 1x1, 2 values per channel: enough
    weights = torch.randn(2, 21, 8, 8, generator=g)  # a loss that touches every logit

    def run(model: torch.nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
        xi = x.clone().requires_grad_(True)
        out = model.train()(xi)
        (out * weights).sum().backward()
        return out.detach(), xi.grad

    out_seed, gx_seed = run(seed)
    out_ours, gx_ours = run(ours)
    torch.testing.assert_close(out_ours, out_seed, atol=1e-5, rtol=0)
    torch.testing.assert_close(gx_ours, gx_seed, atol=1e-5, rtol=1e-4)
    for (name, p_seed), p_ours in zip(seed.named_parameters(), ours.parameters(), strict=True):
        assert p_ours.grad is not None, name
        torch.testing.assert_close(p_ours.grad, p_seed.grad, atol=1e-4, rtol=1e-4, msg=name)
    # BatchNorm's running statistics moved the same way in both
    for (name, b_seed), b_ours in zip(seed.named_buffers(), ours.buffers(), strict=True):
        torch.testing.assert_close(b_ours, b_seed, atol=1e-6, rtol=1e-5, msg=name)


# --------------------------------------------------------------------------- config


def test_config_and_overrides() -> None:
    model = UNet(UNetConfig(num_classes=5), base_channels=8, depth=2)
    assert model.config == UNetConfig(num_classes=5, base_channels=8, depth=2)
    assert model.config.multiple == 4
    assert [n for n, _ in model.named_children()] == [
        "enc1", "enc2", "pool", "bottleneck", "up2", "dec2", "up1", "dec1", "final",
    ]  # fmt: skip
    assert model.bottleneck[0].out_channels == 32  # 8 * 2**2
    assert model.final.out_channels == 5
    assert model(torch.rand(2, 3, 8, 12)).shape == (2, 5, 8, 12)
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.config.depth = 4  # type: ignore[misc]


def test_config_errors_name_the_problem() -> None:
    with pytest.raises(TypeError, match=r"unknown option\(s\) classes; valid: in_channels"):
        UNet(classes=5)
    with pytest.raises(TypeError, match="config must be a UNetConfig"):
        UNet({"num_classes": 5})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="depth must be at least 1, got 0"):
        UNetConfig(depth=0)
    with pytest.raises(ValueError, match=r"num_classes must be at least 2.*num_classes=2"):
        UNetConfig(num_classes=1)
    with pytest.raises(TypeError, match="base_channels must be an int, got float"):
        UNetConfig(base_channels=8.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="pad_input must be True or False"):
        UNetConfig(pad_input=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="depth must be an int, got bool"):
        UNetConfig(depth=True)  # type: ignore[arg-type]
    numpy_config = UNetConfig(base_channels=np.int64(8), batch_norm=np.bool_(False))
    assert numpy_config == UNetConfig(base_channels=8, batch_norm=False)
    assert type(numpy_config.base_channels) is int and type(numpy_config.batch_norm) is bool


# ------------------------------------------------------------ n_classes, renamed num_classes


def test_the_seeds_n_classes_still_builds_the_same_model_with_a_warning() -> None:
    torch.manual_seed(7)
    with pytest.warns(DeprecationWarning, match=r"UNet\(n_classes=...\) .* 0\.3\.0") as record:
        old = UNet(in_channels=3, n_classes=21)  # the seed's own line
    assert len(record) == 1 and record[0].filename == __file__  # points at the caller's line
    torch.manual_seed(7)
    new = UNet(in_channels=3, num_classes=21)
    assert old.config == new.config == UNetConfig()
    assert list(old.state_dict()) == list(new.state_dict())  # exercises load state dicts
    for (name, a), b in zip(old.state_dict().items(), new.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_old_config_spellings_warn_and_mean_the_same() -> None:
    with pytest.warns(DeprecationWarning, match=r"UNetConfig\(n_classes=...\)"):
        config = UNetConfig(n_classes=5, depth=2)
    assert config == UNetConfig(num_classes=5, depth=2)
    with pytest.warns(DeprecationWarning, match="UNetConfig.n_classes is deprecated"):
        assert config.n_classes == 5
    with pytest.warns(DeprecationWarning):
        model = UNet(UNetConfig(depth=2), n_classes=4, base_channels=4)
    assert model.config.num_classes == model.final.out_channels == 4


def test_num_classes_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        config = UNetConfig(in_channels=3, num_classes=2, base_channels=4, depth=2)
        model = UNet(config, num_classes=3)
        assert model.config.num_classes == 3
        assert dataclasses.replace(config, depth=1).num_classes == 2
        assert [f.name for f in dataclasses.fields(UNetConfig)][:2] == [
            "in_channels",
            "num_classes",
        ]


def test_both_spellings_at_once_are_a_type_error() -> None:
    with pytest.raises(TypeError, match="UNet got both num_classes= and n_classes="):
        UNet(n_classes=2, num_classes=2)
    with pytest.raises(TypeError, match="UNetConfig got both num_classes= and n_classes="):
        UNetConfig(n_classes=2, num_classes=2)


def test_without_batch_norm_convolutions_get_a_bias() -> None:
    model = UNet(base_channels=4, depth=2, batch_norm=False)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(c.bias is not None for c in convs)
    # no BatchNorm, so a single tiny image trains fine
    model.train()(torch.rand(1, 3, 4, 4)).sum().backward()


def test_count_parameters_counts_trainable_only() -> None:
    model = UNet(base_channels=4, depth=1, num_classes=2)
    total = sum(p.numel() for p in model.parameters())
    assert count_parameters(model) == total
    model.enc1.requires_grad_(False)
    frozen = sum(p.numel() for p in model.enc1.parameters())
    assert frozen > 0 and count_parameters(model) == total - frozen
    with pytest.raises(TypeError, match=r"needs a torch\.nn\.Module"):
        count_parameters("unet")  # type: ignore[arg-type]


def test_skip_connections_are_on_by_default() -> None:
    assert UNetConfig().skip_connections is True
    assert UNet(base_channels=4, depth=2).dec1[0].in_channels == 8  # 4 up-sampled + 4 skipped
    with pytest.raises(TypeError, match="skip_connections must be True or False"):
        UNetConfig(skip_connections="no")  # type: ignore[arg-type]


def test_without_skips_the_decoder_sees_only_what_comes_up_from_the_bottleneck() -> None:
    torch.manual_seed(0)
    model = UNet(base_channels=4, depth=2, num_classes=3, skip_connections=False).eval()
    # each dec block's first convolution takes the up-sampled channels only (no concatenation)
    assert model.dec2[0].in_channels == 8 and model.dec1[0].in_channels == 4
    with_skips = UNet(base_channels=4, depth=2, num_classes=3)
    assert count_parameters(model) < count_parameters(with_skips)
    # what every dec block receives is exactly what its up-conv produced
    seen: dict[str, torch.Tensor] = {}
    hooks = [
        getattr(model, f"up{i}").register_forward_hook(
            lambda m, args, out, i=i: seen.__setitem__(f"up{i}", out)
        )
        for i in (1, 2)
    ] + [
        getattr(model, f"dec{i}").register_forward_pre_hook(
            lambda m, args, i=i: seen.__setitem__(f"dec{i}", args[0])
        )
        for i in (1, 2)
    ]
    x = torch.rand(2, 3, 8, 8)
    with torch.no_grad():
        out = model(x)
    for hook in hooks:
        hook.remove()
    assert out.shape == (2, 3, 8, 8)
    for i in (1, 2):
        assert seen[f"dec{i}"] is seen[f"up{i}"], f"dec{i} got more than up{i}'s output"
    # so enc1's fine detail cannot reach the output: change every value of enc1's output that
    # its max-pool drops, and the output stays bit for bit the same; with skips it changes
    for skips, same in ((False, True), (True, False)):
        net = model if not skips else with_skips.eval()
        with torch.no_grad():
            before = net(x)
            enc1 = net.enc1
            net.enc1 = torch.nn.Sequential(enc1, _LowerAllButMaxima())
            after = net(x)
            net.enc1 = enc1
        assert torch.equal(before, after) is same, f"skip_connections={skips}"


class _LowerAllButMaxima(torch.nn.Module):
    """Lowers every value of (B, C, H, W) except the maximum of each 2x2 cell, so that a 2x2
    max-pool gives exactly the same result before and after."""

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        peak = F.interpolate(F.max_pool2d(t, 2), scale_factor=2.0, mode="nearest")
        return torch.where(t == peak, t, t - 1.0 - torch.rand_like(t))


def test_shape_trace_without_skips_has_no_concatenation() -> None:
    trace = shape_trace(UNet(base_channels=4, depth=2, skip_connections=False), 8)
    assert [name for name, _ in trace] == [
        "input", "enc1", "pool1", "enc2", "pool2", "bottleneck",
        "up2", "dec2", "up1", "dec1", "final",
    ]  # fmt: skip


# --------------------------------------------------------------------------- shape_trace


def test_shape_trace_matches_the_seeds_comments() -> None:
    model = UNet()
    trace = dict(shape_trace(model, (64, 48)))
    B, H, W = 1, 64, 48
    assert trace["input"] == (B, 3, H, W)
    assert trace["enc1"] == (B, 64, H, W)
    assert trace["enc2"] == (B, 128, H // 2, W // 2)
    assert trace["enc3"] == (B, 256, H // 4, W // 4)
    assert trace["bottleneck"] == (B, 512, H // 8, W // 8)
    assert trace["cat3"] == (B, 512, H // 4, W // 4)  # 256 + 256 skip = 512 input
    assert trace["final"] == (B, 21, H, W)
    # the model itself was not touched: still on the CPU, still in train mode
    assert next(model.parameters()).device.type == "cpu" and model.training


def test_shape_trace_lists_every_stage_in_order() -> None:
    model = UNet(base_channels=4, depth=2, num_classes=3)
    assert shape_trace(model, (2, 3, 8, 8)) == [
        ("input", (2, 3, 8, 8)),
        ("enc1", (2, 4, 8, 8)),
        ("pool1", (2, 4, 4, 4)),
        ("enc2", (2, 8, 4, 4)),
        ("pool2", (2, 8, 2, 2)),
        ("bottleneck", (2, 16, 2, 2)),
        ("up2", (2, 8, 4, 4)),
        ("cat2", (2, 16, 4, 4)),
        ("dec2", (2, 8, 4, 4)),
        ("up1", (2, 4, 8, 8)),
        ("cat1", (2, 8, 8, 8)),
        ("dec1", (2, 4, 8, 8)),
        ("final", (2, 3, 8, 8)),
    ]
    # a real forward pass agrees with the trace
    assert tuple(model(torch.rand(2, 3, 8, 8)).shape) == (2, 3, 8, 8)


def test_shape_trace_of_a_padded_model_shows_pad_and_crop() -> None:
    trace = shape_trace(UNet(pad_input=True), 250)
    assert trace[0] == ("input", (1, 3, 250, 250))
    assert trace[1] == ("pad", (1, 3, 256, 256))
    assert trace[-2] == ("final", (1, 21, 256, 256))
    assert trace[-1] == ("crop", (1, 21, 250, 250))


def test_shape_trace_checks_sizes_like_a_real_call() -> None:
    with pytest.raises(ValueError, match="not divisible by 8"):
        shape_trace(UNet(), (250, 250))
    with pytest.raises(ValueError, match="input_size must be"):
        shape_trace(UNet(), (3, 64, 64))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="input_size must be"):
        shape_trace(UNet(), (0, 64))
    # the one type rule: a float or bool size is a TypeError (it was a ValueError)
    for wrong_type in ((64.0, 64), 64.0, True, "64"):
        with pytest.raises(TypeError, match="input_size must be"):
            shape_trace(UNet(), wrong_type)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="needs a seglab UNet"):
        shape_trace(torch.nn.Conv2d(3, 3, 1), 8)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- input checks


@pytest.fixture(scope="module")
def small() -> UNet:
    return UNet(base_channels=4, depth=3)


def test_wrong_size_error_computes_the_padded_size(small: UNet) -> None:
    with pytest.raises(ValueError) as err:
        small(torch.rand(1, 3, 250, 250))
    assert str(err.value) == (
        "input 250x250 is not divisible by 8 (2**depth); pad to 256x256 "
        "(e.g. seglab.unet.pad_to_multiple) or build UNet(pad_input=True)."
    )
    with pytest.raises(ValueError, match=r"input 64x30 is not divisible by 8.*pad to 64x32"):
        small(torch.rand(1, 3, 64, 30))


@pytest.mark.parametrize(
    ("x", "error", "message"),
    [
        pytest.param(
            torch.rand(3, 16, 16), ValueError, r"got 3-D.*x\.unsqueeze\(0\)", id="no-batch-axis"
        ),
        pytest.param(
            torch.rand(16, 16, 3), ValueError, r"\(H, W, C\).*permute\(2, 0, 1\)", id="hwc"
        ),
        pytest.param(torch.rand(16, 16), ValueError, r"x\[None, None\]", id="2-d"),
        pytest.param(
            torch.rand(2, 1, 16, 16),
            ValueError,
            r"got 1 channel, expected 3.*x\.expand\(-1, 3, -1, -1\) or build "
            r"UNet\(in_channels=1\)",
            id="gray",
        ),
        pytest.param(torch.rand(2, 4, 16, 16), ValueError, r"4 channels.*x\[:, :3\]", id="rgba"),
        pytest.param(
            torch.rand(2, 16, 16, 3), ValueError, r"channels-last.*permute\(0, 3, 1, 2\)", id="bhwc"
        ),
        pytest.param(
            torch.randint(0, 256, (2, 3, 16, 16), dtype=torch.uint8),
            TypeError,
            r"dtype torch\.uint8: convert with x\.float\(\) / 255",
            id="uint8",
        ),
        pytest.param(
            torch.rand(2, 3, 16, 16, dtype=torch.float64),
            TypeError,
            r"float64 differs from the model's weights \(torch\.float32\)",
            id="float64",
        ),
        pytest.param(
            torch.rand(2, 3, 16, 16).numpy(), TypeError, r"got ndarray.*from_numpy", id="numpy"
        ),
        pytest.param(torch.rand(0, 3, 16, 16), ValueError, r"is empty", id="empty"),
    ],
)
def test_bad_inputs_get_the_fix(small: UNet, x: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        small(x)


def test_batchnorm_with_a_batch_of_one() -> None:
    model = UNet(base_channels=4, depth=3).train()
    # one 16x16 image: the bottleneck is 2x2, 4 values per channel - BatchNorm works
    assert model(torch.rand(1, 3, 16, 16)).shape == (1, 21, 16, 16)
    # one 8x8 image: a 1x1 bottleneck, one value per channel - caught with the fixes
    with pytest.raises(ValueError, match=r"1x1 bottleneck.*at least 2.*16x16.*model\.eval\(\)"):
        model(torch.rand(1, 3, 8, 8))
    assert model(torch.rand(2, 3, 8, 8)).shape == (2, 21, 8, 8)  # two images: 2 values
    assert model.eval()(torch.rand(1, 3, 8, 8)).shape == (1, 21, 8, 8)  # running stats


# --------------------------------------------------------------------------- padding


@pytest.mark.parametrize("size", [(250, 250), (13, 7), (1, 1), (8, 9)])
def test_pad_input_returns_the_input_size(size: tuple[int, int]) -> None:
    model = UNet(base_channels=2, depth=3, num_classes=4, pad_input=True).eval()
    x = torch.rand(1, 3, *size)
    with torch.no_grad():
        assert model(x).shape == (1, 4, *size)


def test_pad_input_equals_pad_then_crop_by_hand() -> None:
    torch.manual_seed(0)
    padded_model = UNet(base_channels=4, depth=2, pad_input=True).eval()
    plain = UNet(padded_model.config, pad_input=False).eval()
    plain.load_state_dict(padded_model.state_dict())
    x = torch.rand(2, 3, 10, 13)
    with torch.no_grad():
        xp, (ph, pw) = pad_to_multiple(x, 4)
        assert (ph, pw) == (2, 3) and xp.shape == (2, 3, 12, 16)
        expected = crop_to(plain(xp), (10, 13))
        torch.testing.assert_close(padded_model(x), expected)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "constant"])
def test_pad_to_multiple_matches_torch_pad(mode: str) -> None:
    x = torch.rand(2, 3, 10, 13)
    got, (ph, pw) = pad_to_multiple(x, 8, mode=mode)
    assert (ph, pw) == (6, 3)
    torch.testing.assert_close(got, F.pad(x, (0, 3, 0, 6), mode=mode), atol=0, rtol=0)
    assert torch.equal(crop_to(got, (10, 13)), x)  # round trip


def test_pad_to_multiple_edge_cases() -> None:
    x = torch.arange(6).reshape(2, 3)  # an int64 label map (H, W)
    same, pads = pad_to_multiple(x, 1)
    assert same is x and pads == (0, 0)
    got, pads = pad_to_multiple(x, 8)  # longer than the axis: the mirror bounces back
    assert pads == (6, 5) and got.dtype == torch.int64
    assert got[0].tolist() == [0, 1, 2, 1, 0, 1, 2, 1]
    assert got[:, 0].tolist() == [0, 3, 0, 3, 0, 3, 0, 3]
    one, _ = pad_to_multiple(torch.tensor([[7.0]]), 4)  # a single pixel mirrors onto itself
    assert torch.equal(one, torch.full((4, 4), 7.0))
    batch = torch.rand(2, 2, 3, 5, 5)  # any number of leading axes
    assert pad_to_multiple(batch, 4)[0].shape == (2, 2, 3, 8, 8)


def test_padding_helpers_reject_bad_arguments() -> None:
    with pytest.raises(TypeError, match="from_numpy"):
        pad_to_multiple([[1, 2]], 8)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="multiple must be at least 1"):
        pad_to_multiple(torch.rand(4, 4), 0)
    with pytest.raises(ValueError, match="mode must be one of reflect, replicate, constant"):
        pad_to_multiple(torch.rand(4, 4), 8, mode="circular")
    with pytest.raises(ValueError, match=r"at least 2 axes"):
        pad_to_multiple(torch.rand(4), 8)
    with pytest.raises(ValueError, match=r"cannot crop a tensor of shape \(4, 4\) to 5x4"):
        crop_to(torch.rand(4, 4), (5, 4))
    with pytest.raises(TypeError, match="pair of ints"):
        crop_to(torch.rand(4, 4), 4)  # type: ignore[arg-type]
