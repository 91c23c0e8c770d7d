"""Question 4 of exercises/05_unet.ipynb: the seed's U-Net from scratch (imported by ex05_unet).

``q4`` ``build_unet(in_channels=3, num_classes=21, base_channels=64, depth=3)``: the learner
writes ``conv_block`` (two 3x3 convolutions, each followed by BatchNorm and ReLU) and
``ScratchUNet.forward`` (encoder, bottleneck, decoder with skip concatenations); the
skeleton's ``__init__`` gives every module seglab's name and creates them in seglab's order,
so the learner's ``state_dict`` has the keys and shapes of :class:`seglab.unet.UNet`'s and
``load_state_dict`` copies seglab's weights into it. ``build_unet``, one line, is the builder
the check calls (like torchvision's ``resnet18()``); the cases check the parameter count of the
default configuration (7,701,461, no forward pass), the ``state_dict`` keys and shapes, the
shape after every stage (a tiny model), and equal outputs with seglab's weights loaded (eval
mode, two tiny configurations).

A returned model is known to :class:`seglab.checks.Question` only by its random weights, so
the diagnosis is in the cases' ``verify`` rather than in :class:`seglab.checks.Mistake`
objects: forward hooks record the shape after every stage (a missing skip shows as a decoder
block that gets half its channels, bilinear up-sampling as an ``up`` module never called),
the blocks' layers are compared with seglab's, and an output that differs is compared with
seglab's variants (the halves of each concatenation swapped, average pooling, a softmax).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from seglab._check_values import describe
from seglab.checks import PLACEHOLDER_MESSAGE, Case, Question
from seglab.unet import UNet, count_parameters

__all__ = ["SEED_PARAMETERS", "ScratchUNet", "build_unet", "conv_block", "q4"]

# --------------------------------------------------------------------------- reference solutions


def conv_block(in_channels, out_channels):
    """Two 3x3 convs, each followed by BatchNorm and ReLU: (B, in, H, W) -> (B, out, H, W)."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),  # BatchNorm adds a shift
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class ScratchUNet(nn.Module):
    """The seed's U-Net from scratch, with seglab.UNet's module names (so its weights load)."""

    def __init__(self, in_channels=3, num_classes=21, base_channels=64, depth=3):
        super().__init__()
        self.depth = depth
        widths = [base_channels * 2**i for i in range(depth + 1)]  # [64, 128, 256, 512]
        for i in range(1, depth + 1):  # encoder: enc1 .. enc{depth}
            block_in = in_channels if i == 1 else widths[i - 2]
            self.add_module(f"enc{i}", conv_block(block_in, widths[i - 1]))
        self.pool = nn.MaxPool2d(2)  # halves the height and the width
        self.bottleneck = conv_block(widths[-2], widths[-1])
        for i in range(depth, 0, -1):  # decoder: up{depth}, dec{depth}, ..., up1, dec1
            self.add_module(f"up{i}", nn.ConvTranspose2d(widths[i], widths[i - 1], 2, stride=2))
            self.add_module(f"dec{i}", conv_block(2 * widths[i - 1], widths[i - 1]))  # [up, skip]
        self.final = nn.Conv2d(widths[0], num_classes, 1)  # one logit per class and pixel

    def forward(self, x):
        """(B, in_channels, H, W) -> (B, num_classes, H, W) logits; H, W divisible by 2**depth."""
        skips = []
        for i in range(1, self.depth + 1):
            x = getattr(self, f"enc{i}")(x)  # (B, widths[i-1], H / 2**(i-1), W / 2**(i-1))
            skips.append(x)  # saved before pooling, for the decoder level of the same size
            x = self.pool(x)
        x = self.bottleneck(x)  # (B, widths[depth], H / 2**depth, W / 2**depth)
        for i in range(self.depth, 0, -1):
            x = getattr(self, f"up{i}")(x)  # twice the size, half the channels
            x = torch.cat([x, skips.pop()], dim=1)  # [up, skip]: the last saved is this size
            x = getattr(self, f"dec{i}")(x)
        return self.final(x)


def build_unet(in_channels=3, num_classes=21, base_channels=64, depth=3):
    """Your U-Net for this configuration (q4.check calls this with several)."""
    return ScratchUNet(in_channels, num_classes, base_channels, depth)


# --------------------------------------------------------------------------- q4: what seglab has

SEED_PARAMETERS = 7_701_461  # count_parameters(UNet()), the seed's configuration
_BLOCK = ("Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "BatchNorm2d", "ReLU")
_BLOCK_TEXT = "Conv2d, BatchNorm2d, ReLU, Conv2d, BatchNorm2d, ReLU"
Config = tuple[tuple[str, int], ...]  # keyword arguments of build_unet, hashable


def _seglab_unet(config: Config) -> UNet:
    """seglab's UNet with the keyword arguments of build_unet in ``config``."""
    c = dict(config)
    return UNet(
        in_channels=c.get("in_channels", 3),
        num_classes=c.get("num_classes", 21),
        base_channels=c.get("base_channels", 64),
        depth=c.get("depth", 3),
    )


@functools.cache
def _reference_shapes(config: Config) -> dict[str, tuple[int, ...]]:
    """state_dict key -> shape of seglab's UNet with this configuration."""
    with torch.random.fork_rng(devices=[]):
        model = _seglab_unet(config)
    return {key: tuple(value.shape) for key, value in model.state_dict().items()}


def _expected_stages(config: Config, size: tuple[int, ...]) -> list[tuple[str, tuple[int, ...]]]:
    """seglab.unet.shape_trace(UNet(**config), size) without "input" (computed, not run)."""
    c = dict(config)
    depth, classes = c.get("depth", 3), c.get("num_classes", 21)
    widths = [c.get("base_channels", 64) * 2**i for i in range(depth + 1)]
    b, _, h, w = size

    def at(channels: int, level: int) -> tuple[int, ...]:  # level i: 1 / 2**i of the size
        return (b, channels, h // 2**level, w // 2**level)

    stages = []
    for i in range(1, depth + 1):
        stages += [(f"enc{i}", at(widths[i - 1], i - 1)), (f"pool{i}", at(widths[i - 1], i))]
    stages.append(("bottleneck", at(widths[depth], depth)))
    for i in range(depth, 0, -1):
        up = at(widths[i - 1], i - 1)
        stages += [(f"up{i}", up), (f"cat{i}", at(2 * widths[i - 1], i - 1)), (f"dec{i}", up)]
    return [*stages, ("final", (b, classes, h, w))]


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Run tiny models on one thread: faster than several fighting for a busy CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@functools.cache
def _reference_unet(config: Config) -> UNet:
    """seglab's UNet, seeded, in eval mode, with BatchNorm statistics and affine parameters
    drawn at random (fresh ones are the identity, which would hide a missing BatchNorm)."""
    g = torch.Generator().manual_seed(5)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(5)
        model = _seglab_unet(config)
    with torch.no_grad():
        for norm in model.modules():
            if isinstance(norm, nn.BatchNorm2d):
                assert norm.running_mean is not None and norm.running_var is not None
                size = norm.num_features
                norm.running_mean.copy_(0.2 * torch.randn(size, generator=g))
                norm.running_var.copy_(0.5 + torch.rand(size, generator=g))
                norm.weight.copy_(0.5 + torch.rand(size, generator=g))
                norm.bias.copy_(0.2 * torch.randn(size, generator=g))
    return model.eval()


def _input(size: tuple[int, ...]) -> torch.Tensor:
    return torch.rand(size, generator=torch.Generator().manual_seed(sum(size)))


def _variant(net: UNet, x: torch.Tensor, *, swap: bool = False, pool: str = "max") -> torch.Tensor:
    """seglab's forward pass on ``net``'s modules with the halves of each concatenation
    swapped ([skip, up]) or average pooling instead of max pooling."""
    skips = []
    for i in range(1, net.config.depth + 1):
        x = getattr(net, f"enc{i}")(x)
        skips.append(x)
        x = F.max_pool2d(x, 2) if pool == "max" else F.avg_pool2d(x, 2)
    x = net.bottleneck(x)
    for i in range(net.config.depth, 0, -1):
        x = getattr(net, f"up{i}")(x)
        skip = skips.pop()
        x = getattr(net, f"dec{i}")(torch.cat([skip, x] if swap else [x, skip], dim=1))
    return net.final(x)


@functools.cache
def _reference_outputs(config: Config, size: tuple[int, ...]) -> dict[str, torch.Tensor]:
    """seglab's logits for the case's input, and those of the variants it recognises."""
    net, x = _reference_unet(config), _input(size)
    with torch.no_grad():
        logits = net(x)
        return {
            "seglab": logits,
            "swapped": _variant(net, x, swap=True),
            "average": _variant(net, x, pool="average"),
            "softmax": logits.softmax(dim=1),
        }


# --------------------------------------------------------------------------- q4: diagnosis


def _is_placeholder(exc: BaseException) -> bool:
    return isinstance(exc, NotImplementedError) and str(exc) == PLACEHOLDER_MESSAGE


def _block_problem(model: nn.Module, depth: int) -> str | None:
    """What is wrong with the model's conv blocks, or None when they are seglab's."""
    names = [f"enc{i}" for i in range(1, depth + 1)] + ["bottleneck"]
    for name in names + [f"dec{i}" for i in range(depth, 0, -1)]:
        block = getattr(model, name, None)
        if not isinstance(block, nn.Module):
            return f"your model has no module {name}: keep the skeleton's names and layers"
        if not isinstance(block, nn.Sequential):
            return (
                f"{name} is a {type(block).__name__}: let conv_block return an nn.Sequential of "
                f"the six layers ({_BLOCK_TEXT}), so that the weights are named as seglab's "
                f"({name}.0.weight, {name}.1.weight, ...)"
            )
        layers = tuple(type(layer).__name__ for layer in block)
        if layers != _BLOCK:
            if "BatchNorm2d" not in layers:
                fix = "there is no BatchNorm: add nn.BatchNorm2d(out_channels) after each Conv2d"
            elif layers.count("ReLU") < 2:
                fix = "a ReLU is missing: each BatchNorm2d is followed by nn.ReLU()"
            elif layers.count("Conv2d") != 2:
                fix = "a block has two 3x3 convolutions"
            else:
                fix = "the order differs: a convolution, then BatchNorm, then ReLU, twice"
            return f"conv_block builds {', '.join(layers)}; seglab's is {_BLOCK_TEXT}: {fix}"
        for conv in (block[0], block[3]):
            if conv.kernel_size != (3, 3) or conv.padding != (1, 1) or conv.stride != (1, 1):
                return (
                    f"{name}'s convolutions have kernel_size={conv.kernel_size}, "
                    f"padding={conv.padding}, stride={conv.stride}: use a 3x3 kernel with "
                    "padding=1 (and stride 1), which keeps the height and width"
                )
            if conv.bias is not None:
                return (
                    "the convolutions have a bias: pass bias=False, as seglab does; the "
                    "BatchNorm after each one subtracts the mean (a bias would be cancelled) "
                    "and adds its own shift"
                )
    return None


def _keys_problem(model: nn.Module, config: Config) -> str | None:
    """How the model's state_dict differs from seglab's (keys, then shapes), or None."""
    want = _reference_shapes(config)
    mine = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    missing = [key for key in want if key not in mine]
    extra = [key for key in mine if key not in want]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"seglab has {', '.join(missing[:3])}{' ...' * (len(missing) > 3)}")
        if extra:
            parts.append(f"yours has {', '.join(extra[:3])}{' ...' * (len(extra) > 3)} instead")
        return f"the state_dict keys differ: {'; '.join(parts)}"
    for key, shape in want.items():
        if mine[key] != shape:
            return (
                f"{key} has shape {mine[key]}, seglab's {shape}: the first convolution of a "
                "block goes from in_channels to out_channels, the second from out_channels "
                "to out_channels"
            )
    return None


def _structure_problem(model: nn.Module, config: Config) -> str | None:
    depth = dict(config).get("depth", 3)
    return _block_problem(model, depth) or _keys_problem(model, config)


def _trace(model: nn.Module, x: torch.Tensor):
    """Run ``model`` on ``x`` with hooks: ([(stage, shape), ...], output, error). The input
    of ``dec{i}`` is recorded as ``cat{i}`` (the concatenation), as seglab's shape_trace."""
    events: list[tuple[str, tuple[int, ...]]] = []
    pools = [0]

    def after(name: str):
        def hook(module: nn.Module, inputs: object, output: torch.Tensor) -> None:
            if name == "pool":
                pools[0] += 1
            label = f"pool{pools[0]}" if name == "pool" else name
            events.append((label, tuple(getattr(output, "shape", ()))))

        return hook

    def before(name: str):
        def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
            shape = tuple(getattr(inputs[0], "shape", ())) if inputs else ()
            events.append((name.replace("dec", "cat"), shape))

        return hook

    handles = []
    for name, module in model.named_children():
        if name.startswith(("enc", "up", "dec")) or name in ("pool", "bottleneck", "final"):
            if name.startswith("dec"):
                handles.append(module.register_forward_pre_hook(before(name)))
            handles.append(module.register_forward_hook(after(name)))
    output: object = None
    error: Exception | None = None
    try:
        with torch.no_grad():
            output = model(x)
    except Exception as exc:
        error = exc
    finally:
        for handle in handles:
            handle.remove()
    return events, output, error


def _stage_problem(events, expected, output, error, config: Config) -> str | None:
    """Compare the recorded stages with seglab's; what differs first, in words."""
    depth = dict(config).get("depth", 3)
    widths = [dict(config).get("base_channels", 64) * 2**i for i in range(depth + 1)]
    if error is not None and _is_placeholder(error):
        return (
            f"your forward still raises NotImplementedError({PLACEHOLDER_MESSAGE!r}): write "
            "ScratchUNet.forward, run its cell, then run this check again"
        )
    for index, (want_name, want_shape) in enumerate(expected):
        previous = events[index - 1][0] if index else "the input"
        if index >= len(events):
            if error is None:
                if want_name == "final":
                    return "self.final was never called: end with it, one logit per class"
                return f"your forward stops after {previous}; seglab's goes on with {want_name}"
            return _error_problem(error, previous, want_name)
        name, shape = events[index]
        if name != want_name:
            halved = index + 1 < len(expected) and expected[index + 1] == (name, shape)
            return _order_problem(previous, want_name, name, shape, widths, halved)
        if shape != want_shape:
            if name.startswith("cat"):
                i = int(name[3:])
                w = widths[i - 1]
                if shape[1:2] == (w,):
                    return (
                        f"dec{i} got only up{i}'s {w} channels, but takes {2 * w}: concatenate "
                        f"the skip, torch.cat([x, skip], dim=1), the output of enc{i} saved "
                        "before pooling"
                    )
            return f"after {name} the shape is {shape}, seglab's is {want_shape}"
    if error is not None:
        return _error_problem(error, expected[-1][0], "")
    if len(events) > len(expected):
        return f"your forward calls {events[len(expected)][0]} after final: final comes last"
    want = expected[-1][1]
    if not isinstance(output, torch.Tensor) or tuple(output.shape) != want:
        return f"forward returned {describe(output)}; it should return final's output, {want}"
    return None


def _order_problem(
    previous: str, want: str, name: str, shape: tuple, widths: list[int], halved: bool
) -> str:
    """The message when stage ``name`` ran where seglab runs ``want``; ``halved``: the
    stage got the size it would have had after ``want``."""
    if want.startswith("pool"):
        if halved:
            return (
                f"{previous}'s output was halved without self.pool, so its values are not "
                "those of seglab's max-pooling: use x = self.pool(x) (nn.MaxPool2d(2))"
            )
        return (
            f"{previous}'s output goes to {name} without max-pooling: x = self.pool(x) after "
            "each encoder block halves the size (save the skip before pooling)"
        )
    if want.startswith("up") and name.startswith("cat"):
        i = int(want[2:])
        return (
            f"up{i} was never called: dec{i} got {shape[1] if len(shape) > 1 else '?'} "
            f"channels instead of {2 * widths[i - 1]}. Up-sample with self.up{i}, a "
            f"ConvTranspose2d that doubles the size and halves the channels "
            f"({widths[i]} -> {widths[i - 1]}); bilinear interpolation keeps all the channels "
            "and has no weights to copy"
        )
    return f"after {previous}, seglab's forward calls {want} but yours calls {name}"


def _error_problem(error: Exception, last: str, next_stage: str) -> str:
    text = str(error)
    if isinstance(error, AttributeError) and "has no attribute" in text:
        return (
            f"your forward raised AttributeError({text!r}): use the model's own depth, "
            "range(1, self.depth + 1) for the encoder and range(self.depth, 0, -1) for the "
            "decoder, instead of writing out three levels"
        )
    if last.startswith("up") and "Sizes of tensors must match" in text:
        return (
            f"torch.cat failed after {last}: {text.splitlines()[0]} The skip joined to "
            f"{last}'s output is the encoder output of the same size, saved before pooling; "
            "the last one saved is the first one used (skips.pop())"
        )
    where = f"after {last}" if last != "the input" else "at the first stage"
    return f"your forward raised {describe(error)} {where}" + (
        f" (seglab's next stage is {next_stage})" if next_stage else ""
    )


def _not_a_model(got: object) -> str:
    return f"build_unet should return the model (an nn.Module), not {describe(got)}"


def _config(**kwargs: int) -> Config:
    return tuple(sorted(kwargs.items()))


# --------------------------------------------------------------------------- q4: cases


def _verify_count(got: object) -> str | None:
    if not isinstance(got, nn.Module):
        return _not_a_model(got)
    n = count_parameters(got)
    if n == SEED_PARAMETERS:
        return None
    why = _structure_problem(got, ()) or "compare your layers with seglab.UNet()'s"
    return f"{n:,} trainable parameters ({n - SEED_PARAMETERS:+,}): {why}"


def _verify_keys(got: object) -> str | None:
    if not isinstance(got, nn.Module):
        return _not_a_model(got)
    if _keys_problem(got, ()) is None:
        return None
    return _block_problem(got, 3) or _keys_problem(got, ())


def _verify_stages(config: Config, size: tuple[int, ...]):
    def verify(got: object) -> str | None:
        if not isinstance(got, nn.Module):
            return _not_a_model(got)
        expected = _expected_stages(config, size)
        with _one_thread():
            events, output, error = _trace(got.eval(), _input(size))
        return _stage_problem(events, expected, output, error, config)

    return verify


def _verify_outputs(config: Config, size: tuple[int, ...]):
    def verify(model: object) -> str | None:
        if not isinstance(model, nn.Module):
            return _not_a_model(model)
        reference = _reference_unet(config)
        try:
            model.load_state_dict(reference.state_dict())
        except Exception as exc:
            why = _structure_problem(model, config) or describe(exc)
            return f"seglab's weights do not load into your model: {why}"
        with _one_thread():
            events, output, error = _trace(model.eval(), _input(size))
            outputs = _reference_outputs(config, size)
        stages = _stage_problem(events, _expected_stages(config, size), output, error, config)
        if stages or not isinstance(output, torch.Tensor):  # _stage_problem checked the output
            return stages
        got_logits = output

        def same(name: str) -> bool:
            return torch.allclose(got_logits, outputs[name], rtol=1e-4, atol=1e-5)

        if same("seglab"):
            return None
        if same("swapped"):
            return (
                "the outputs are those of seglab's weights with each concatenation in the "
                "other order, torch.cat([skip, x]): seglab's is torch.cat([x, skip], dim=1). "
                "Either order makes a U-Net, but weights trained for one mean nothing to the "
                "other: dec's first convolution meets the channels in another order"
            )
        if same("softmax"):
            return (
                "your model returns probabilities (a softmax at the end): return the logits "
                "of self.final; cross-entropy and argmax take logits"
            )
        if same("average"):
            return "the outputs are those of average pooling: self.pool is max-pooling (2x2)"
        largest = float((got_logits - outputs["seglab"]).abs().max())
        why = _block_problem(model, dict(config).get("depth", 3)) or (
            "every stage has the right shape, so look at what each one does: enc -> save the "
            "skip -> pool, ..., bottleneck, then up -> torch.cat([x, skip], dim=1) -> dec, "
            "..., final"
        )
        return f"the outputs differ from seglab's (largest difference {largest:.3g}): {why}"

    return verify


def _unet_case(description: str, verify, expect_text: str, why: str, **kwargs: int) -> Case:
    return Case(description, verify=verify, expect_text=expect_text, why=why, kwargs=dict(kwargs))


_STAGES = _config(num_classes=2, base_channels=4, depth=3)
_OUTPUTS = _config(num_classes=2, base_channels=4, depth=3)
_OTHER = _config(in_channels=1, num_classes=5, base_channels=2, depth=2)

q4 = Question(
    "q4",
    "the seed's U-Net from scratch",
    [
        _unet_case(
            "the seed's configuration, build_unet(): 7,701,461 trainable parameters",
            _verify_count,
            "a model with 7,701,461 trainable parameters, as seglab.UNet()",
            why="the block is Conv2d (no bias), BatchNorm2d, ReLU, twice, as seglab's.",
        ),
        _unet_case(
            "the seed's configuration: state_dict keys and shapes of seglab.UNet()",
            _verify_keys,
            "the keys and shapes of seglab.UNet().state_dict(), so that its weights load",
            why=(
                "nn.Sequential numbers its layers, so the order Conv2d, BatchNorm2d, ReLU, "
                "Conv2d, BatchNorm2d, ReLU gives the keys enc1.0, enc1.1, enc1.3, enc1.4."
            ),
        ),
        _unet_case(
            "stage by stage: a (1, 3, 16, 24) input, base_channels=4, 2 classes",
            _verify_stages(_STAGES, (1, 3, 16, 24)),
            "the shape after every stage of seglab.unet.shape_trace, e.g. enc1 (1, 4, 16, 24), "
            "bottleneck (1, 32, 2, 3), cat3 (1, 32, 4, 6), final (1, 2, 16, 24)",
            why=(
                "each decoder level up-samples with up{i}, concatenates enc{i}'s output (saved "
                "before pooling), and runs dec{i}, which takes twice up{i}'s channels."
            ),
            num_classes=2,
            base_channels=4,
        ),
        _unet_case(
            "seglab's weights loaded (load_state_dict), eval mode: a batch of 2 16x16 images, "
            "base_channels=4, 2 classes",
            _verify_outputs(_OUTPUTS, (2, 3, 16, 16)),
            "the logits of seglab.UNet with the same weights (torch.allclose)",
            why=(
                "with the same modules and weights, the same forward pass gives the same "
                "logits: max-pool, concatenate [up, skip], return final's logits."
            ),
            num_classes=2,
            base_channels=4,
        ),
        _unet_case(
            "another configuration: depth=2, 1 input channel, 5 classes, base_channels=2, a "
            "12x20 image",
            _verify_outputs(_OTHER, (1, 1, 12, 20)),
            "the logits of seglab.UNet(in_channels=1, num_classes=5, base_channels=2, depth=2) "
            "with the same weights",
            why="the forward pass follows self.depth: loop over the levels, don't write out three.",
            in_channels=1,
            num_classes=5,
            base_channels=2,
            depth=2,
        ),
    ],
    hints=[
        "build_unet: return ScratchUNet(in_channels, num_classes, base_channels, depth). "
        "conv_block: nn.Sequential(Conv2d(in, out, 3, padding=1, bias=False), BatchNorm2d(out), "
        "ReLU(), then the same from out to out. forward: for each level, x = enc_i(x), save x, "
        "x = self.pool(x); then x = self.bottleneck(x); then for each level from the deepest, "
        "x = up_i(x), concatenate the saved skip, x = dec_i(x); finally self.final(x).",
        "getattr(self, f'enc{i}') reaches a module by name. Keep the skips in a list: "
        "skips.append(x) before pooling, torch.cat([x, skips.pop()], dim=1) in the decoder "
        "(the last saved is the first used, and it has the size of up_i's output).",
    ],
    solution=[conv_block, ScratchUNet, build_unet],
    reference=build_unet,
    on_pass=(
        "Your ScratchUNet is seglab.UNet: the same 7,701,461 parameters, names and logits, so "
        "load_state_dict copies the weights of a trained seglab.UNet into it."
    ),
)
