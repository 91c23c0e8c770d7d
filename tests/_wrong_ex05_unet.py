"""Known wrong answers to exercises/05_unet.ipynb: parameters, any input size, training step."""

from __future__ import annotations

from _wrong_answers import wrong

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
