"""Checked claims: a lesson's sentence about a result, tested against the run that produced it.

A lesson that says "the validation loss fell" is only true for the run whose output sits above
it. ``claim`` makes the sentence executable: the code cell after the sentence states the same
thing with the numbers it rests on, prints ``✔ <sentence>`` when it holds and raises
:class:`ClaimError` when it does not, so a re-run (a new seed, another torch, a learner's
changed settings) can never leave a false sentence standing silently::

    seglab.claim(
        history.val_loss[-1] < history.val_loss[0],
        "validation loss fell from {first:.2f} to {last:.2f}",
        first=history.val_loss[0],
        last=history.val_loss[-1],
    )

This module imports no NumPy, torch or IPython: ``import seglab`` stays light.
"""

from __future__ import annotations

import sys

from seglab._util import is_bool

__all__ = ["ClaimError", "claim"]

CHECK_MARK = "\N{HEAVY CHECK MARK}"


class ClaimError(Exception):
    """A lesson's claim that the run above it does not support."""


def _as_truth(condition: object) -> bool:
    """``condition`` as a Python bool; ``TypeError`` for anything that is not one truth value.

    Accepted: ``True``/``False``, NumPy bools (``(a > b).all()``) and one-element torch bool
    tensors (``(loss < 1).item()`` is clearer, but ``loss < 1`` works too). Refused: arrays with
    more than one element (their truth is ambiguous: say ``.all()`` or ``.any()``), numbers
    (``0.8`` is not a verdict) and ``None``.
    """
    if is_bool(condition):  # True/False or a NumPy bool
        return bool(condition)
    torch_module = sys.modules.get("torch")
    if (
        torch_module is not None
        and isinstance(condition, torch_module.Tensor)
        and condition.dtype == torch_module.bool
        and condition.numel() == 1
    ):
        return bool(condition.item())
    shape = getattr(condition, "shape", None)
    if shape is not None and len(shape) > 0:
        raise TypeError(
            f"claim needs one True/False, got an array of shape {tuple(shape)}: "
            "say which you mean with .all() or .any()."
        )
    raise TypeError(
        f"claim needs a comparison that is True or False (e.g. a > b), "
        f"got {type(condition).__name__} {condition!r}."
    )


def claim(condition: object, text: str, /, **values: object) -> None:
    """Check one claim a lesson makes about the output above it.

    Args:
        condition: the claim as one truth value: ``True``/``False``, a NumPy bool, or a
            one-element torch bool tensor (e.g. ``val_loss[-1] < val_loss[0]``).
        text: the sentence, as the lesson states it; ``str.format`` fields (``{a:.2f}``) are
            filled from ``values`` so the printed sentence shows the numbers it rests on.
        **values: the numbers (or any objects) named in ``text``.

    Prints ``✔ <sentence>`` (numbers filled in) when the claim holds; returns nothing, so a
    ``claim`` on a cell's last line adds no ``Out[]``.

    Raises:
        ClaimError: ``condition`` is False: the message names the sentence that no longer
            holds, with its numbers.
        TypeError: ``condition`` is not one truth value, or ``text`` is not a string.
        ValueError: ``text`` names a field that ``values`` does not give (or is empty).
    """
    if not isinstance(text, str):
        raise TypeError(f"claim's text must be a str, got {type(text).__name__} {text!r}.")
    if not text.strip():
        raise ValueError("claim's text is empty: state the sentence the check stands behind.")
    truth = _as_truth(condition)
    try:
        sentence = text.format(**values) if values else text
    except (KeyError, IndexError) as missing:
        field = missing.args[0] if isinstance(missing, KeyError) else ""
        raise ValueError(
            f"claim's text names the field {{{field}}} but no value was given for it: name "
            "every field and pass it by keyword, e.g. claim(ok, '{a:.2f}', a=a)."
        ) from None
    if not truth:
        raise ClaimError(
            f"This no longer holds: {sentence}. The lesson's text states it for the run the "
            "course was published with; if you changed the settings above, that is expected, "
            "and your run's numbers are the ones to believe."
        )
    print(f"{CHECK_MARK} {sentence}")
