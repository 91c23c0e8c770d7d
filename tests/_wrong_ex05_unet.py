"""Known wrong answers to exercises/05_unet.ipynb: parameters, any input size, training step,
the U-Net from scratch, the soft-Dice loss, the mIoU of a confusion matrix."""

from __future__ import annotations

import numpy as np
import torch
from _wrong_answers import wrong
from torch import nn

# ---- ex05 q1: count trainable parameters


@wrong("ex05_unet.q1", "Linear(3, 2) frozen", "a count that includes frozen parameters")
def count_includes_frozen(model):
    return sum(p.numel() for p in model.parameters())


@wrong("ex05_unet.q1", "followed by BatchNorm2d(4)", "a count of the state dict, buffers included")
def count_state_dict(model):
    return sum(t.numel() for t in model.state_dict().values())


@wrong("ex05_unet.q1", "nn.Linear(3, 2)", "the number of parameter tensors instead of values")
def count_tensors_not_values(model):
    return len([p for p in model.parameters() if p.requires_grad])


@wrong("ex05_unet.q1", "nn.Linear(3, 2)", "a count of the weights without the biases")
def count_weights_only(model):
    return sum(p.numel() for n, p in model.named_parameters() if n.endswith("weight"))


@wrong("ex05_unet.q1", "nn.Conv2d(3, 4, kernel_size=3)")
def count_first_axis_only(model):
    return sum(p.shape[0] * (p.shape[1] if p.ndim > 1 else 1) for p in model.parameters())


@wrong(
    "ex05_unet.q1",
    "a tiny U-Net",
    "a count over the layer types you listed (Linear, Conv2d, BatchNorm2d)",
)
def count_known_layer_types(model):
    from torch import nn

    total = 0
    for layer in model.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d, nn.BatchNorm2d)):
            total += sum(p.numel() for p in layer.parameters() if p.requires_grad)
    return total


# ---- ex05 q2: any input size


def _pad_run_crop(model, images, pad, crop="top-left"):
    import torch.nn.functional as F

    h, w = images.shape[-2:]
    logits = model(F.pad(images, pad, mode="reflect"))
    if crop == "none":
        return logits
    if crop == "center":
        top = (logits.shape[-2] - h) // 2
        left = (logits.shape[-1] - w) // 2
        return logits[..., top : top + h, left : left + w]
    return logits[..., :h, :w]


@wrong(
    "ex05_unet.q2",
    "a 16x16 image (already a multiple of 8)",
    "a padding by 8 - H % 8, a whole extra block when H already is a multiple",
)
def any_size_pads_a_full_multiple(model, images):
    m = 2**model.config.depth
    h, w = images.shape[-2:]
    return _pad_run_crop(model, images, (0, m - w % m, 0, m - h % m))


@wrong("ex05_unet.q2", "a 13x10 image", "height and width swapped in F.pad")
def any_size_swaps_height_and_width(model, images):
    m = 2**model.config.depth
    h, w = images.shape[-2:]
    return _pad_run_crop(model, images, (0, -h % m, 0, -w % m))


@wrong("ex05_unet.q2", "a 13x10 image", "a padding on all four sides")
def any_size_pads_on_both_sides(model, images):
    m = 2**model.config.depth
    h, w = images.shape[-2:]
    ph, pw = -h % m, -w % m
    pad = (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2)
    return _pad_run_crop(model, images, pad, crop="center")


@wrong("ex05_unet.q2", "a 13x10 image", "no crop back to H x W")
def any_size_forgets_to_crop(model, images):
    m = 2**model.config.depth
    h, w = images.shape[-2:]
    return _pad_run_crop(model, images, (0, -w % m, 0, -h % m), crop="none")


@wrong("ex05_unet.q2", "a 13x10 image")
def any_size_pads_top_left_crops_top_left(model, images):
    m = 2**model.config.depth
    h, w = images.shape[-2:]
    return _pad_run_crop(model, images, (-w % m, 0, -h % m, 0))


@wrong("ex05_unet.q2", "a depth-2 U-Net", "a multiple of 8 written in the code")
def any_size_hard_codes_eight(model, images):
    h, w = images.shape[-2:]
    return _pad_run_crop(model, images, (0, -w % 8, 0, -h % 8))


@wrong("ex05_unet.q2", "a 13x10 image")
def any_size_resizes_instead(model, images):
    import torch.nn.functional as F

    m = 2**model.config.depth
    h, w = images.shape[-2:]
    size = (h + -h % m, w + -w % m)
    logits = model(F.interpolate(images, size=size, mode="bilinear", align_corners=False))
    return F.interpolate(logits, size=(h, w), mode="bilinear", align_corners=False)


@wrong("ex05_unet.q2", "wider than tall", "a padding of both sides up to the larger one")
def any_size_pads_to_a_square(model, images):
    m = 2**model.config.depth
    h, w = images.shape[-2:]
    side = max(h, w) + -max(h, w) % m
    return _pad_run_crop(model, images, (0, side - w, 0, side - h))


@wrong("ex05_unet.q2", "a batch of 2 images")
def any_size_runs_the_first_image_only(model, images):
    m = 2**model.config.depth
    h, w = images.shape[-2:]
    return _pad_run_crop(model, images[:1], (0, -w % m, 0, -h % m))  # tried with one image


# ---- ex05 q3: fix the training step

_ONLY_255 = "targets that are 1 only where a mask is 255 (masks // 255, masks == 255)"


def _step(model, optimizer, images, targets, *, order="zbs", item=True, **loss_kw):
    import torch.nn.functional as F

    loss = F.cross_entropy(model(images), targets, **loss_kw)
    for part in order:
        if part == "z":
            optimizer.zero_grad()
        elif part == "b":
            loss.backward()
        else:
            optimizer.step()
    return loss.item() if item else loss


@wrong("ex05_unet.q3", "a batch of 2 images with 0/255 masks", "the 0/255 masks used as class ids")
def step_unchanged(model, optimizer, images, masks):
    return _step(model, optimizer, images, masks.long())


@wrong("ex05_unet.q3", "already 0/1", _ONLY_255)
def step_divides_by_255(model, optimizer, images, masks):
    return _step(model, optimizer, images, (masks // 255).long())


@wrong("ex05_unet.q3", "already 0/1", _ONLY_255)
def step_keeps_only_255(model, optimizer, images, masks):
    return _step(model, optimizer, images, (masks == 255).long())


@wrong("ex05_unet.q3", "anti-aliased edges")
def step_replaces_255_by_1(model, optimizer, images, masks):
    import torch

    return _step(model, optimizer, images, torch.where(masks == 255, 1, masks).long())


@wrong("ex05_unet.q3", "a batch of 2 images with 0/255 masks")
def step_ignores_the_object(model, optimizer, images, masks):
    return _step(model, optimizer, images, masks.long(), ignore_index=255)


@wrong(
    "ex05_unet.q3",
    "a batch of 2 images with 0/255 masks",
    "the masks turned into class ids in place",
)
def step_fixes_the_masks_in_place(model, optimizer, images, masks):
    masks[masks > 0] = 1
    return _step(model, optimizer, images, masks.long())


@wrong(
    "ex05_unet.q3",
    "gradients still hold those of a previous step",
    "a step without optimizer.zero_grad()",
)
def step_forgets_zero_grad(model, optimizer, images, masks):
    return _step(model, optimizer, images, (masks > 0).long(), order="bs")


@wrong("ex05_unet.q3", "a batch of 2 images with 0/255 masks", "a step without optimizer.step()")
def step_forgets_the_optimizer(model, optimizer, images, masks):
    return _step(model, optimizer, images, (masks > 0).long(), order="zb")


@wrong(
    "ex05_unet.q3",
    "a batch of 2 images with 0/255 masks",
    "optimizer.zero_grad() between loss.backward() and optimizer.step()",
)
def step_clears_the_gradients_before_the_step(model, optimizer, images, masks):
    return _step(model, optimizer, images, (masks > 0).long(), order="bzs")


@wrong(
    "ex05_unet.q3",
    "a batch of 2 images with 0/255 masks",
    "the loss tensor returned instead of loss.item()",
)
def step_returns_the_loss_tensor(model, optimizer, images, masks):
    return _step(model, optimizer, images, (masks > 0).long(), item=False)


# ---- ex05 q4: the seed's U-Net from scratch


def _block(cin, cout, layers="cbrcbr", bias=False, same_in=False):
    """A conv block from its layers: c = Conv2d 3x3, b = BatchNorm2d, r = ReLU."""
    out, convs = [], 0
    for kind in layers:
        if kind == "c":
            first_in = cin if convs == 0 or same_in else cout
            out.append(nn.Conv2d(first_in, cout, 3, padding=1, bias=bias))
            convs += 1
        else:
            out.append(nn.BatchNorm2d(cout) if kind == "b" else nn.ReLU())
    return nn.Sequential(*out)


def _forward(net, x, variant):
    """The U-Net's forward pass with one thing changed."""
    F = torch.nn.functional
    depth = 3 if variant == "three levels" else net.depth
    skips = []
    for i in range(1, depth + 1):
        x = getattr(net, f"enc{i}")(x)
        if variant != "skip after pool":
            skips.append(x)
        if variant == "F.avg_pool2d":
            x = F.avg_pool2d(x, 2)
        elif variant != "no pool":
            x = net.pool(x)
        if variant == "skip after pool":
            skips.append(x)
    x = net.bottleneck(x)
    for i in range(depth, 0, -1):
        if variant == "bilinear":
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        else:
            x = getattr(net, f"up{i}")(x)
        skip = skips.pop(0) if variant == "first skip first" else skips.pop()
        if variant == "swapped":
            x = torch.cat([skip, x], dim=1)
        elif variant != "no skip":
            x = torch.cat([x, skip], dim=1)
        x = getattr(net, f"dec{i}")(x)
    if variant == "no final":
        return x
    x = net.final(x)
    return x.softmax(dim=1) if variant == "softmax" else x


class _WrongUNet(nn.Module):
    def __init__(self, config, variant="", pool=nn.MaxPool2d, **block):
        super().__init__()
        in_channels, num_classes, base_channels, depth = config
        self.depth, self.variant = depth, variant
        widths = [base_channels * 2**i for i in range(depth + 1)]
        for i in range(1, depth + 1):
            cin = in_channels if i == 1 else widths[i - 2]
            self.add_module(f"enc{i}", _block(cin, widths[i - 1], **block))
        self.pool = pool(2)
        self.bottleneck = _block(widths[-2], widths[-1], **block)
        for i in range(depth, 0, -1):
            self.add_module(f"up{i}", nn.ConvTranspose2d(widths[i], widths[i - 1], 2, stride=2))
            self.add_module(f"dec{i}", _block(2 * widths[i - 1], widths[i - 1], **block))
        self.final = nn.Conv2d(widths[0], num_classes, 1)

    def forward(self, x):
        return _forward(self, x, self.variant)


def _unet(label, case, **wrong_by):
    """Register a build_unet whose U-Net has the given mistake, caught first by ``case``."""

    def build_unet(in_channels=3, num_classes=21, base_channels=64, depth=3):
        return _WrongUNet((in_channels, num_classes, base_channels, depth), **wrong_by)

    build_unet.__name__ = label
    wrong("ex05_unet.q4", case)(build_unet)


_COUNT = "7,701,461"
_KEYS = "state_dict keys and shapes"
_STAGES = "stage by stage"
_OUTPUTS = "seglab's weights loaded"

_unet("unet_convs_with_a_bias", _COUNT, bias=True)
_unet("unet_without_batchnorm", _COUNT, layers="crcr")
_unet("unet_second_conv_from_in_channels", _COUNT, same_in=True)
_unet("unet_relu_before_batchnorm", _KEYS, layers="crbcrb")
_unet("unet_no_relu_after_the_first_batchnorm", _KEYS, layers="cbcbr")
_unet("unet_without_skip_connections", _STAGES, variant="no skip")
_unet("unet_bilinear_upsampling", _STAGES, variant="bilinear")
_unet("unet_first_skip_first", _STAGES, variant="first skip first")
_unet("unet_skip_saved_after_pooling", _STAGES, variant="skip after pool")
_unet("unet_without_pooling", _STAGES, variant="no pool")
_unet("unet_average_pooling_in_forward", _STAGES, variant="F.avg_pool2d")
_unet("unet_without_the_final_conv", _STAGES, variant="no final")
_unet("unet_concatenation_swapped", _OUTPUTS, variant="swapped")
_unet("unet_block_without_its_last_relu", _OUTPUTS, layers="cbrcb")
_unet("unet_returns_probabilities", _OUTPUTS, variant="softmax")
_unet("unet_average_pool_module", _OUTPUTS, pool=nn.AvgPool2d)
_unet("unet_three_levels_written_out", "another configuration", variant="three levels")


# ---- ex05 q5: the soft-Dice loss


def _dice(logits, targets, eps=1.0, *, probs="softmax", onehot="permute", factor=2, **how):
    F = torch.nn.functional
    b, k, h, w = logits.shape
    if probs == "softmax":
        p = logits.softmax(dim=1)
    elif probs == "sigmoid":
        p = torch.sigmoid(logits)
    else:
        p = F.one_hot(logits.argmax(dim=1), k).permute(0, 3, 1, 2).float()
    t = F.one_hot(targets, k)
    if onehot == "reshape":
        t = t.reshape(b, k, h, w)
    elif onehot == "transposed":
        t = t.permute(0, 3, 2, 1)
    else:
        t = t.permute(0, 3, 1, 2)
    t = t.float()
    dims = (2, 3) if how.get("per_image") else (0, 2, 3)
    total = how.get("reduce", "sum")
    inter = getattr(p * t, total)(dims)
    union = getattr(p, total)(dims) + getattr(t, total)(dims)
    top = factor * inter + (0.0 if how.get("eps_below_only") else eps)
    loss = 1 - (top / (union + eps)).mean()
    return loss.item() if how.get("item") else loss


@wrong("ex05_unet.q5", "a confident and right prediction", "Dice without the factor 2")
def dice_without_the_factor_two(logits, targets, eps=1.0):
    return _dice(logits, targets, eps, factor=1)


@wrong(
    "ex05_unet.q5",
    "a confident and right prediction",
    "the loss returned as a Python float (.item())",
)
def dice_as_a_float(logits, targets, eps=1.0):
    return _dice(logits, targets, eps, item=True)


@wrong(
    "ex05_unet.q5",
    "a confident and right prediction",
    "hard predictions (argmax) instead of probabilities",
)
def dice_of_the_argmax(logits, targets, eps=1.0):
    return _dice(logits, targets, eps, probs="argmax")


@wrong(
    "ex05_unet.q5",
    "a confident and right prediction",
    "the one-hot targets reshaped to (B, K, H, W) instead of permuted",
)
def dice_one_hot_reshaped(logits, targets, eps=1.0):
    return _dice(logits, targets, eps, onehot="reshape")


@wrong("ex05_unet.q5", "a confident and right prediction")
def dice_one_hot_with_height_and_width_swapped(logits, targets, eps=1.0):
    return _dice(logits, targets, eps, onehot="transposed")


@wrong("ex05_unet.q5", "a confident and right prediction")
def dice_eps_only_below(logits, targets, eps=1.0):
    return _dice(logits, targets, eps, eps_below_only=True)


@wrong("ex05_unet.q5", "uncertain logits", "sigmoid instead of softmax")
def dice_of_sigmoids(logits, targets, eps=1.0):
    return _dice(logits, targets, eps, probs="sigmoid")


@wrong("ex05_unet.q5", "uncertain logits")
def dice_of_means_not_sums(logits, targets, eps=1.0):
    return _dice(logits, targets, eps, reduce="mean")


@wrong("ex05_unet.q5", "a batch of 2 images", "a Dice per image, averaged over the batch")
def dice_per_image(logits, targets, eps=1.0):
    return _dice(logits, targets, eps, per_image=True)


@wrong("ex05_unet.q5", "eps=0.5", "eps written as 1.0 in the code")
def dice_with_eps_written_out(logits, targets, eps=1.0):
    return _dice(logits, targets, 1.0)


# ---- ex05 q6: mIoU from a confusion matrix


def _checked(confusion, *, ndim=True, negative=True, zeros=True):
    confusion = np.asarray(confusion)
    if (ndim and confusion.ndim != 2) or confusion.shape[0] != confusion.shape[1]:
        raise ValueError(f"confusion must be square, got shape {confusion.shape}")
    if negative and (confusion < 0).any():
        raise ValueError("confusion holds negative counts")
    if zeros and confusion.sum() == 0:
        raise ValueError("confusion is all zeros")
    return confusion


def _per_class(confusion):
    hits = np.diag(confusion).astype(float)
    return hits, confusion.sum(axis=1), confusion.sum(axis=0)


@wrong(
    "ex05_unet.q6", "worked by hand", "a union of row + column, the true positives counted twice"
)
def miou_union_without_minus_diagonal(confusion):
    hits, rows, columns = _per_class(_checked(confusion))
    union = rows + columns
    return float((hits[union > 0] / union[union > 0]).mean())


@wrong("ex05_unet.q6", "worked by hand", "the Dice score instead of IoU")
def miou_as_dice(confusion):
    hits, rows, columns = _per_class(_checked(confusion))
    keep = rows + columns > 0
    return float((2 * hits[keep] / (rows + columns)[keep]).mean())


@wrong("ex05_unet.q6", "worked by hand", "the recall of each class (diagonal / row)")
def miou_as_recall(confusion):
    hits, rows, _ = _per_class(_checked(confusion))
    return float((hits[rows > 0] / rows[rows > 0]).mean())


@wrong("ex05_unet.q6", "worked by hand", "the pixel accuracy (diagonal sum / total)")
def miou_as_pixel_accuracy(confusion):
    confusion = _checked(confusion)
    return float(np.trace(confusion) / confusion.sum())


@wrong("ex05_unet.q6", "worked by hand")
def miou_pooled_over_classes(confusion):
    hits, rows, columns = _per_class(_checked(confusion))
    return float(hits.sum() / (rows + columns - hits).sum())


@wrong("ex05_unet.q6", "worked by hand")
def miou_weighted_by_class_frequency(confusion):
    hits, rows, columns = _per_class(_checked(confusion))
    union = rows + columns - hits
    keep = union > 0
    return float((rows[keep] * hits[keep] / union[keep]).sum() / rows.sum())


@wrong("ex05_unet.q6", "neither true nor predicted", "absent classes counted as IoU 0")
def miou_absent_class_as_zero(confusion):
    hits, rows, columns = _per_class(_checked(confusion))
    union = rows + columns - hits
    return float(np.mean([h / u if u > 0 else 0.0 for h, u in zip(hits, union, strict=True)]))


@wrong(
    "ex05_unet.q6", "neither true nor predicted", "a mean that includes the NaN of an absent class"
)
def miou_mean_with_nan(confusion):
    hits, rows, columns = _per_class(_checked(confusion))
    return float(np.mean(hits / (rows + columns - hits)))


@wrong(
    "ex05_unet.q6",
    "predicted but never true",
    "a mean over the classes present in the truth (row > 0)",
)
def miou_over_true_classes(confusion):
    hits, rows, columns = _per_class(_checked(confusion))
    keep = rows > 0
    return float((hits / (rows + columns - hits))[keep].mean())


@wrong("ex05_unet.q6", "not square", "no check of the matrix's shape")
def miou_without_checks(confusion):
    hits, rows, columns = _per_class(np.asarray(confusion))
    union = rows + columns - hits
    return float((hits[union > 0] / union[union > 0]).mean())


@wrong("ex05_unet.q6", "1-D array")
def miou_checks_the_sides_not_the_dimensions(confusion):
    hits, rows, columns = _per_class(_checked(confusion, ndim=False))
    union = rows + columns - hits
    return float((hits[union > 0] / union[union > 0]).mean())


@wrong("ex05_unet.q6", "negative count")
def miou_without_the_sign_check(confusion):
    hits, rows, columns = _per_class(_checked(confusion, negative=False))
    union = rows + columns - hits
    return float((hits[union > 0] / union[union > 0]).mean())


@wrong("ex05_unet.q6", "all-zero")
def miou_nan_for_an_empty_matrix(confusion):
    hits, rows, columns = _per_class(_checked(confusion, zeros=False))
    union = rows + columns - hits
    return float((hits[union > 0] / union[union > 0]).mean())
