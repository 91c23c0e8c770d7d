"""Questions of exercises/05_unet.ipynb: count parameters, any input size, a training-step bug.

- ``q1`` ``count_trainable(model)``: the number of trainable parameters of a torch module
  (what an optimizer will change): BatchNorm's running statistics are buffers, not
  parameters, and frozen weights (``requires_grad=False``) are not trained.
- ``q2`` ``predict_any_size(model, images)``: run a :class:`seglab.unet.UNet` (built without
  ``pad_input``) on images of any height and width: pad at the bottom and right up to a
  multiple of ``2**depth``, run, crop the logits back to H x W.
- ``q3`` ``fixed_train_step(model, optimizer, images, masks)``: the training step of the
  notebook feeds 0/255 PNG masks to cross-entropy as class ids; fix it so every pixel above 0
  is class 1, without touching the caller's masks.
- ``q4`` ``build_unet(...)``: the seed's U-Net from scratch (``conv_block`` and
  ``ScratchUNet.forward`` in a skeleton with seglab's module names), checked by parameter
  count, state_dict keys, the shape after every stage and equal outputs with seglab's weights
  (in :mod:`seglab.exercises._ex05_unet_scratch`).
- ``q5`` ``soft_dice_loss(logits, targets, eps=1.0)``: seglab's soft Dice loss, and ``q6``
  ``miou_from_confusion(confusion)``: the mIoU of a confusion matrix, refusing bad matrices
  (in :mod:`seglab.exercises._ex05_unet_metrics`).

The models are tiny (2-4 base channels; q4 builds the seed's size but never runs it) so every
check runs in well under a second on a CPU.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from seglab._util import is_real
from seglab.checks import Case, Mistake, Question
from seglab.exercises._ex05_unet_metrics import miou_from_confusion, q5, q6, soft_dice_loss
from seglab.exercises._ex05_unet_scratch import ScratchUNet, build_unet, conv_block, q4
from seglab.unet import UNet, pad_to_multiple

__all__ = [
    "ScratchUNet",
    "build_unet",
    "conv_block",
    "count_trainable",
    "fixed_train_step",
    "miou_from_confusion",
    "predict_any_size",
    "q1",
    "q2",
    "q3",
    "q4",
    "q5",
    "q6",
    "soft_dice_loss",
]


# --------------------------------------------------------------------------- reference solutions


def count_trainable(model):
    """Number of trainable parameters (requires_grad) of a torch module, as an int."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def predict_any_size(model, images):
    """Logits (B, K, H, W) of a U-Net for images (B, C, H, W) of any height and width."""
    multiple = 2**model.config.depth  # the U-Net halves the size `depth` times
    h, w = images.shape[-2:]
    pad_h, pad_w = -h % multiple, -w % multiple  # 0 when already a multiple
    padded = F.pad(images, (0, pad_w, 0, pad_h), mode="reflect")  # (left, right, top, bottom)
    logits = model(padded)  # (B, K, H + pad_h, W + pad_w)
    return logits[..., :h, :w]  # crop back to the input size


def fixed_train_step(model, optimizer, images, masks):
    """One training step on images (B, 3, H, W) and masks (B, H, W) uint8 (0 = background,
    anything above 0 = object); returns the loss as a float."""
    logits = model(images)  # (B, 2, H, W)
    targets = (masks > 0).long()  # class ids 0 and 1, in a new tensor
    loss = F.cross_entropy(logits, targets)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


# --------------------------------------------------------------------------- test models


def _unet(*, depth: int = 3, num_classes: int = 3, seed: int = 0, train: bool = False) -> UNet:
    """A tiny, seeded U-Net (the global RNG is left as it was)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = UNet(in_channels=3, num_classes=num_classes, base_channels=4, depth=depth)
    return model.train(train)


def _images(b: int, h: int, w: int, seed: int) -> torch.Tensor:
    return torch.rand(b, 3, h, w, generator=torch.Generator().manual_seed(seed))


def _seeded(build: Callable[[], nn.Module]) -> Callable[[], tuple[nn.Module]]:
    """Case arguments: the module ``build()`` makes, with the same weights on every call
    (the global RNG is left as it was), so that answers can be compared with known mistakes."""

    def args() -> tuple[nn.Module]:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            return (build(),)

    return args


def _frozen_first_layer() -> nn.Module:
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    model[0].requires_grad_(False)
    return model


# --------------------------------------------------------------------------- q2: any size


def _crop_reference(model: UNet, images: torch.Tensor, mode: str) -> torch.Tensor:
    h, w = images.shape[-2:]
    padded, _ = pad_to_multiple(images, 2**model.config.depth, mode=mode)
    with torch.no_grad():
        return model(padded)[..., :h, :w]


def _verify_any_size(got: object, model: UNet, images: torch.Tensor) -> str | None:
    if not isinstance(got, torch.Tensor):
        return f"expected the logits as a torch tensor, got {type(got).__name__}"
    b, _, h, w = images.shape
    want = (b, model.config.num_classes, h, w)
    if tuple(got.shape) != want:
        extra = ""
        if got.ndim == 4 and got.shape[-2] >= h and got.shape[-1] >= w:
            extra = ": crop the logits back to the input size, logits[..., :H, :W]"
        return f"shape {tuple(got.shape)} instead of {want}{extra}"
    model.eval()
    got = got.detach().float()
    for mode in ("reflect", "replicate", "constant"):
        if torch.allclose(got, _crop_reference(model, images, mode), rtol=1e-4, atol=1e-5):
            return None
    return (
        "the shape is right but the logits are not those of the padded image cropped back. "
        "Pad only at the bottom and the right, exactly up to the next multiple (no padding "
        "when the size already is one; F.pad takes (left, right, top, bottom)), and keep the "
        "top-left H x W of the logits"
    )


def _any_size_case(description: str, b: int, h: int, w: int, depth: int = 3, why: str = ""):
    return Case(
        description,
        lambda: (_unet(depth=depth), _images(b, h, w, seed=h * 100 + w)),
        verify=_verify_any_size,
        expect_text=(
            f"logits of shape ({b}, 3, {h}, {w}): the model's output for the image padded at "
            "the bottom and right, cropped back"
        ),
        why=why,
    )


# --------------------------------------------------------------------------- q3: training step


def _masks(kind: str) -> torch.Tensor:
    g = torch.Generator().manual_seed(7)
    on = torch.rand(2, 16, 16, generator=g) > 0.6
    if kind == "0/255":
        return on.to(torch.uint8) * 255
    if kind == "0/1":
        return on.to(torch.uint8)
    edge = torch.rand(2, 16, 16, generator=g) > 0.7  # anti-aliased edges: 128 on some pixels
    return torch.where(on, torch.where(edge, 128, 255), 0).to(torch.uint8)


def _step_setup(kind: str, stale_gradients: bool = False) -> tuple:
    model = _unet(depth=2, num_classes=2, seed=3, train=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    images = _images(2, 16, 16, seed=11)
    if stale_gradients:  # as after a previous step that was not cleared
        model(images).mean().backward()
    return model, optimizer, images, _masks(kind)


def _flat(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


@functools.cache
def _reference_step(kind: str, stale_gradients: bool) -> tuple[float, torch.Tensor, torch.Tensor]:
    """(loss, weights before, weights after) of the reference step: computed once."""
    model, optimizer, images, masks = _step_setup(kind, stale_gradients)
    before = _flat(model).clone()
    loss = fixed_train_step(model, optimizer, images, masks)
    return loss, before, _flat(model)


def _verify_step(kind: str, stale_gradients: bool):
    def verify(got: object, model: nn.Module, optimizer: object, images: object, masks: object):
        ref_loss, before, after = _reference_step(kind, stale_gradients)
        if isinstance(got, torch.Tensor):
            return "the loss came back as a tensor: return loss.item(), a Python float"
        if not is_real(got):
            return f"expected the loss as a Python float (loss.item()), got {type(got).__name__}"
        if abs(got - ref_loss) > 1e-4:
            return (
                f"the loss is {got:.4f}, but cross-entropy against class ids 0 (background) "
                f"and 1 (every pixel above 0) gives {ref_loss:.4f}"
            )
        mine = _flat(model)
        if torch.equal(mine, before):
            if all(p.grad is None or not p.grad.any() for p in model.parameters()):
                return (
                    "the loss is right but the weights did not change and the gradients are "
                    "empty: they were cleared after loss.backward(), before the step"
                )
            return "the loss is right but the weights did not change: call optimizer.step()"
        if not torch.allclose(mine, after, rtol=1e-4, atol=1e-6):
            return (
                "the loss is right but the weights after the step are not those of one step "
                "on this loss: clear old gradients (optimizer.zero_grad()) before "
                "loss.backward(), then optimizer.step() once"
            )
        return None

    return verify


def _step_case(description: str, kind: str, why: str, stale_gradients: bool = False) -> Case:
    return Case(
        description,
        lambda: _step_setup(kind, stale_gradients),
        verify=_verify_step(kind, stale_gradients),
        expect_text="one SGD step with targets (masks > 0).long(), returning loss.item()",
        why=why,
    )


# --------------------------------------------------------------------------- known mistakes


def _count(model, *, what="parameters", frozen=False, values=True, biases=True, layers=None):
    """count_trainable over the ``"state_dict"`` or the parameters (frozen ones included or
    not), counting tensors instead of ``values``, without ``biases``, or only in the modules
    of the given ``layers`` types."""
    if what == "state_dict":
        return sum(t.numel() for t in model.state_dict().values())
    modules = [model] if layers is None else [m for m in model.modules() if isinstance(m, layers)]
    params = [
        p
        for m in modules
        for name, p in m.named_parameters(recurse=layers is None)
        if (frozen or p.requires_grad) and (biases or not name.endswith("bias"))
    ]
    return sum(p.numel() for p in params) if values else len(params)


_PARAMETERS = "sum(p.numel() for p in model.parameters() if p.requires_grad)"
_COUNT_MISTAKES = [
    Mistake(
        "the number of parameter tensors instead of values",
        partial(_count, values=False),
        f"len() counts the tensors; p.numel() counts the values in one: {_PARAMETERS}.",
    ),
    Mistake(
        "a count of the weights without the biases",
        partial(_count, biases=False),
        f"Biases are trained too: count every tensor of model.parameters(), {_PARAMETERS}.",
    ),
    Mistake(
        "a count of the state dict, buffers included",
        partial(_count, what="state_dict"),
        "BatchNorm's running mean and variance are buffers, saved but not trained: count "
        f"model.parameters(), {_PARAMETERS}.",
    ),
    Mistake(
        "a count that includes frozen parameters",
        partial(_count, frozen=True),
        "A frozen parameter (requires_grad=False) is not trained: keep only those with "
        "p.requires_grad.",
    ),
    Mistake(
        "a count over the layer types you listed (Linear, Conv2d, BatchNorm2d)",
        partial(_count, layers=(nn.Linear, nn.Conv2d, nn.BatchNorm2d)),
        "model.parameters() finds the parameters of every layer, ConvTranspose2d included: "
        "no list of layer types is needed.",
    ),
]


def _any_size(model, images, *, pad="exact", swap=False, crop="top-left", multiple=None):
    """predict_any_size with another padding (``"full"``: 8 - H % 8, ``"square"``: both up
    to the larger side, ``"centered"``: all four sides), height and width swapped in F.pad,
    no crop, or a fixed multiple."""
    m = multiple or 2**model.config.depth
    h, w = images.shape[-2:]
    ph, pw = {
        "exact": (-h % m, -w % m),
        "full": (m - h % m, m - w % m),
        "square": (-max(h, w) % m + max(h, w) - h, -max(h, w) % m + max(h, w) - w),
    }.get(pad, (-h % m, -w % m))
    ph, pw = (pw, ph) if swap else (ph, pw)
    if pad == "centered":
        top, left = ph // 2, pw // 2
        logits = model(F.pad(images, (left, pw - left, top, ph - top), mode="reflect"))
        return logits[..., top : top + h, left : left + w]
    logits = model(F.pad(images, (0, pw, 0, ph), mode="reflect"))
    return logits if crop == "none" else logits[..., :h, :w]


_ANY_SIZE_MISTAKES = [
    Mistake(
        "a padding by 8 - H % 8, a whole extra block when H already is a multiple",
        partial(_any_size, pad="full"),
        "Pad by -H % multiple, which is 0 when H already is a multiple of 2**depth.",
    ),
    Mistake(
        "height and width swapped in F.pad",
        partial(_any_size, swap=True),
        "F.pad lists the last axis first: (left, right, top, bottom) = (0, pad_w, 0, pad_h).",
    ),
    Mistake(
        "no crop back to H x W",
        partial(_any_size, crop="none"),
        "Keep the top-left H x W of the logits: logits[..., :h, :w].",
    ),
    Mistake(
        "a padding on all four sides",
        partial(_any_size, pad="centered"),
        "Pad only at the bottom and the right, so that the image keeps its top-left "
        "corner and logits[..., :h, :w] is its prediction.",
    ),
    Mistake(
        "a padding of both sides up to the larger one",
        partial(_any_size, pad="square"),
        "Pad the height and the width separately, each up to its own next multiple.",
    ),
    Mistake(
        "a multiple of 8 written in the code",
        partial(_any_size, multiple=8),
        "Read it from the model: 2 ** model.config.depth (a depth-2 U-Net needs multiples of 4).",
    ),
]


def _wrong_step(model, optimizer, images, masks, *, targets="> 0", order="zbs", item=True):
    """fixed_train_step with other targets (``"raw"`` 0/255, ``"// 255"``, the same as
    == 255 on these masks, ``"in place"``) or another order of zero_grad (z), backward (b)
    and step (s)."""
    if targets == "in place":
        masks[masks > 0] = 1
    target = {
        "> 0": lambda: (masks > 0).long(),
        "// 255": lambda: (masks // 255).long(),
    }.get(targets, lambda: masks.long())()
    loss = F.cross_entropy(model(images), target)
    for step in order:
        {"z": optimizer.zero_grad, "b": loss.backward, "s": optimizer.step}[step]()
    return loss.item() if item else loss


_TARGETS = "Build class ids as a new tensor: targets = (masks > 0).long()"
_STEP_MISTAKES = [
    Mistake(
        "the 0/255 masks used as class ids",
        partial(_wrong_step, targets="raw"),
        f"{_TARGETS}; with 2 classes, 255 is no class.",
    ),
    Mistake(
        "the masks turned into class ids in place",
        partial(_wrong_step, targets="in place"),
        f"{_TARGETS}, and leave the caller's masks as they were.",
    ),
    Mistake(
        "the loss tensor returned instead of loss.item()",
        partial(_wrong_step, item=False),
        "Return loss.item(), a Python float: the tensor keeps the whole graph alive.",
    ),
    Mistake(
        "a step without optimizer.step()",
        partial(_wrong_step, order="zb"),
        "Call optimizer.step() after loss.backward(): without it the weights never change.",
    ),
    Mistake(
        "optimizer.zero_grad() between loss.backward() and optimizer.step()",
        partial(_wrong_step, order="bzs"),
        "zero_grad clears the gradients that backward has just computed, so step has "
        "nothing to apply: call optimizer.zero_grad() before loss.backward().",
    ),
    Mistake(
        "targets that are 1 only where a mask is 255 (masks // 255, masks == 255)",
        partial(_wrong_step, targets="// 255"),
        f"{_TARGETS}: // 255 and == 255 turn a 0/1 mask's 1 and an edge's 128 into 0.",
    ),
    Mistake(
        "a step without optimizer.zero_grad()",
        partial(_wrong_step, order="bs"),
        "Gradients add up in .grad from one step to the next: call optimizer.zero_grad() "
        "before loss.backward().",
    ),
]


# --------------------------------------------------------------------------- questions

q1 = Question(
    "q1",
    "count trainable parameters",
    [
        Case(
            "nn.Linear(3, 2)",
            _seeded(lambda: nn.Linear(3, 2)),
            expected=8,
            why="6 weights + 2 biases.",
        ),
        Case(
            "nn.Conv2d(3, 4, kernel_size=3)",
            _seeded(lambda: nn.Conv2d(3, 4, kernel_size=3)),
            expected=4 * 3 * 3 * 3 + 4,
            why="a conv kernel is (out, in, 3, 3), plus one bias per output channel.",
        ),
        Case(
            "a conv without bias followed by BatchNorm2d(4)",
            _seeded(lambda: nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4))),
            expected=108 + 8,
            why=(
                "BatchNorm learns a scale and a shift per channel (parameters), but its running "
                "mean and variance are buffers: in state_dict(), not in parameters()."
            ),
        ),
        Case(
            "Linear(3, 2) frozen (requires_grad=False), then Linear(2, 1)",
            _seeded(_frozen_first_layer),
            expected=3,
            why=(
                "a frozen layer (as when fine-tuning) is not trained: count only parameters "
                "with p.requires_grad."
            ),
        ),
        Case(
            "a tiny U-Net (base_channels=4, depth=2, 2 classes)",
            lambda: (_unet(depth=2, num_classes=2),),
            expected=count_trainable(_unet(depth=2, num_classes=2)),
            why=(
                "a U-Net has more kinds of layers than a list you would write (its decoder "
                "upsamples with ConvTranspose2d): model.parameters() finds them all."
            ),
        ),
    ],
    arg_names=("model",),
    hints=[
        "model.parameters() yields every weight tensor once; p.numel() is the number of "
        "values in one tensor.",
        "sum(p.numel() for p in model.parameters() if p.requires_grad)",
    ],
    solution=count_trainable,
    mistakes=_COUNT_MISTAKES,
    on_pass="seglab.unet.count_parameters does the same: the seed U-Net has 7,701,461.",
)

q2 = Question(
    "q2",
    "a U-Net for any input size",
    [
        _any_size_case(
            "a 16x16 image (already a multiple of 8)",
            1,
            16,
            16,
            why="no padding is needed: pad by -H % 8, which is 0 here, not by 8 - H % 8.",
        ),
        _any_size_case(
            "a 13x10 image",
            1,
            13,
            10,
            why="pad 13 -> 16 rows and 10 -> 16 columns, run, and keep the top-left 13x10.",
        ),
        _any_size_case(
            "a 10x21 image (wider than tall)",
            1,
            10,
            21,
            why=(
                "height and width are padded separately, 10 -> 16 and 21 -> 24, not both to "
                "24; F.pad lists the last axis (width) first."
            ),
        ),
        _any_size_case(
            "a batch of 2 images of 9x17",
            2,
            9,
            17,
            why="every image of the batch gets a prediction: (B, K, H, W) in, B predictions out.",
        ),
        _any_size_case(
            "a depth-2 U-Net (multiples of 4) and a 10x10 image",
            1,
            10,
            10,
            depth=2,
            why="the multiple is 2**depth: read the depth from model.config.depth.",
        ),
    ],
    arg_names=("model", "images"),
    hints=[
        "The U-Net halves the image model.config.depth times, so H and W must be multiples of "
        "2**depth. Pad up to the next multiple, run the model, then slice the logits back to "
        "H x W.",
        "pad_h = -h % multiple is 0 when h already is a multiple. "
        "F.pad(images, (0, pad_w, 0, pad_h), mode='reflect') pads the right and bottom; "
        "logits[..., :h, :w] crops back.",
    ],
    solution=predict_any_size,
    mistakes=_ANY_SIZE_MISTAKES,
    on_pass="UNet(pad_input=True) does this inside the model, with seglab.unet.pad_to_multiple.",
)

q3 = Question(
    "q3",
    "fix the training step",
    [
        _step_case(
            "a batch of 2 images with 0/255 masks",
            "0/255",
            why=(
                "cross-entropy reads each target pixel as a class index; with 2 classes only 0 "
                "and 1 exist, so 255 is 'out of bounds'. Turn the masks into class ids: "
                "(masks > 0).long()."
            ),
        ),
        _step_case(
            "masks that are already 0/1",
            "0/1",
            why="(masks > 0) works for 0/1 and 0/255 masks alike; masks // 255 turns 1 into 0.",
        ),
        _step_case(
            "0/255 masks with anti-aliased edges (some pixels 128)",
            "edges",
            why="every pixel above 0 is the object; masks == 255 or masks // 255 drop the edges.",
        ),
        _step_case(
            "a model whose gradients still hold those of a previous step",
            "0/255",
            stale_gradients=True,
            why="gradients add up in .grad until optimizer.zero_grad() clears them.",
        ),
    ],
    arg_names=("model", "optimizer", "images", "masks"),
    hints=[
        "Run the buggy step and read the error: which target value is out of bounds, and how "
        "many classes does the model predict?",
        "Build the targets as a new tensor, targets = (masks > 0).long(), and pass them to "
        "F.cross_entropy; keep zero_grad, backward and step as they are.",
    ],
    solution=fixed_train_step,
    mistakes=_STEP_MISTAKES,
    on_pass="seglab.train checks targets before the loss and names this mistake.",
)
