"""The course's colours in one place: the palette masks are drawn in, and the prompt colours.

:mod:`seglab.viz` draws with them (matplotlib), and :class:`seglab.widgets.SamClicker` sends
them to its browser view as synced traits (``color``, ``positive_color``, ``negative_color``,
``box_color``), so a mask, a point or a box has the same colour in a static figure and in the
widget. Colours are RGB triples of ints in [0, 255].

This module imports nothing, so both the matplotlib side and the light widget module can use it.
"""

from __future__ import annotations

RGB = tuple[int, int, int]

# Okabe & Ito (2008), "Color Universal Design", without black (invisible as an overlay on
# dark photos). Distinguishable with the common forms of colour blindness. Sky blue first: it
# is close to the blue of SAM's own figures.
PALETTE: tuple[RGB, ...] = (
    (86, 180, 233),  # sky blue
    (230, 159, 0),  # orange
    (0, 158, 115),  # bluish green
    (204, 121, 167),  # reddish purple
    (240, 228, 66),  # yellow
    (0, 114, 178),  # blue
    (213, 94, 0),  # vermillion
)
#: A positive click ("this object"): bluish green, drawn as a star.
POSITIVE_COLOR: RGB = PALETTE[2]
#: A negative click ("not this"): vermillion, drawn as an X.
NEGATIVE_COLOR: RGB = PALETTE[6]
#: A box prompt's edge: bluish green, like a positive click.
BOX_COLOR: RGB = PALETTE[2]
#: The mask of the click widget (and of show_mask's default): sky blue.
MASK_COLOR: RGB = PALETTE[0]


def palette_color(index: int) -> RGB:
    """The palette colour for ``index`` (any integer): ``PALETTE[index % len(PALETTE)]``."""
    return PALETTE[int(index) % len(PALETTE)]
