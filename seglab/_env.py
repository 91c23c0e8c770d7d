"""Every ``SEGLAB_*`` environment variable in one place: its name, what it does, its default.

seglab's modules read these variables only through this module (``DEVICE.get()``, never
``os.environ["SEGLAB_DEVICE"]``), and README.md's table of environment variables lists exactly
the rows of :data:`VARIABLES`: ``tests/test_env.py`` fails when the two disagree, when a module
of ``seglab/`` spells a variable's name itself, or when a ``SEGLAB_*`` name appears anywhere in
the repository without being defined here. :func:`markdown_table` prints the README's table.

The notebooks and the test suite use a few variables of their own (``SEGLAB_VOC``,
``SEGLAB_INSTALL``, ``SEGLAB_CHROMIUM``, ``SEGLAB_REQUIRE_BROWSER``, ``SEGLAB_COLAB``,
``SEGLAB_COLAB_PYTHON``); they are listed here too, so that one table
names every variable a learner or a maintainer can set.

A blank value (``SEGLAB_DEVICE=""`` or spaces) counts as unset. Importing this module reads
nothing; each ``get()`` reads the environment at that moment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = [
    "CACHE_DIR",
    "CHROMIUM",
    "COLAB",
    "COLAB_PYTHON",
    "DEVICE",
    "INSTALL",
    "REQUIRE_BROWSER",
    "SAM_BASE_URL",
    "SAM_CHECKPOINT",
    "SAM_MODEL",
    "VARIABLES",
    "VOC",
    "EnvVar",
    "markdown_table",
]


@dataclass(frozen=True)
class EnvVar:
    """One environment variable.

    Attributes:
      name (str): e.g. ``"SEGLAB_DEVICE"``.
      meaning (str): what it does (the README's "what it does" column, Markdown).
      default (str): what applies when it is unset (the "default" column, Markdown).
      read_by (str): who reads it (the "read by" column, Markdown).
    """

    name: str
    meaning: str
    default: str
    read_by: str

    def get(self) -> str | None:
        """The variable's value without surrounding spaces; None when it is unset or blank."""
        value = os.environ.get(self.name, "").strip()
        return value or None


SAM_MODEL = EnvVar(
    "SEGLAB_SAM_MODEL",
    "the SAM that the notebooks use: `mini`, `vit_b`, `vit_l` or `vit_h`",
    "`mini`",
    "`seglab.sam.load_sam()`, notebooks 02, 03 and 07",
)
SAM_CHECKPOINT = EnvVar(
    "SEGLAB_SAM_CHECKPOINT",
    "path to an official checkpoint you already have (no download)",
    "unset",
    "`seglab.sam.load_sam()`",
)
SAM_BASE_URL = EnvVar(
    "SEGLAB_SAM_BASE_URL",
    "a mirror that serves the official checkpoint files by name, e.g. `http://fileserver.lab/sam/`",
    "Meta's `https://dl.fbaipublicfiles.com/segment_anything/`",
    "`seglab.sam.download_checkpoint()`",
)
CACHE_DIR = EnvVar(
    "SEGLAB_CACHE_DIR",
    "where downloaded checkpoints and saved embeddings live",
    "your user cache dir (`~/.cache/seglab` on Linux)",
    "`seglab.sam.get_cache_dir()`",
)
DEVICE = EnvVar(
    "SEGLAB_DEVICE",
    "force `cpu`, `cuda`, `cuda:1` or `mps`",
    "first of cuda → mps → cpu",
    "`seglab.get_device()`",
)
VOC = EnvVar(
    "SEGLAB_VOC",
    "`1` trains notebook 06's U-Net on Pascal VOC too (downloads about 2 GB)",
    "off",
    "notebook 06",
)
CHROMIUM = EnvVar(
    "SEGLAB_CHROMIUM",
    "the Chromium that the browser tests drive",
    "`chromium` on the `PATH`",
    "the test suite",
)
REQUIRE_BROWSER = EnvVar(
    "SEGLAB_REQUIRE_BROWSER",
    "`1` makes a missing Chromium fail the browser tests instead of skipping them",
    "skip",
    "the test suite (`.ci/run` sets it)",
)
INSTALL = EnvVar(
    "SEGLAB_INSTALL",
    "what each notebook's first cell installs when seglab is missing: any pip requirement, "
    "e.g. a local checkout (`/path/to/seglab`) or a fork",
    "`seglab @ git+` the repository",
    "the install cell of every notebook (written by `make badges`)",
)
COLAB = EnvVar(
    "SEGLAB_COLAB",
    "`1` runs `tests/test_colab_like.py`, which builds a Colab-like environment (downloads a "
    "second torch)",
    "skipped",
    "the test suite (`make test-colab` sets it)",
)
COLAB_PYTHON = EnvVar(
    "SEGLAB_COLAB_PYTHON",
    "the Python that `make test-colab` builds its environment with",
    "`python3.13` (else 3.12) on the `PATH` or in pyenv",
    "`tests/test_colab_like.py`",
)

#: Every variable, in the README's order.
VARIABLES: tuple[EnvVar, ...] = (
    SAM_MODEL,
    SAM_CHECKPOINT,
    SAM_BASE_URL,
    CACHE_DIR,
    DEVICE,
    VOC,
    CHROMIUM,
    REQUIRE_BROWSER,
    INSTALL,
    COLAB,
    COLAB_PYTHON,
)

_HEADER = ("variable", "what it does", "default", "read by")


def markdown_table() -> str:
    """README.md's table of the variables, as Markdown (paste it there after a change)."""
    rows = [(f"`{v.name}`", v.meaning, v.default, v.read_by) for v in VARIABLES]
    lines = ["| " + " | ".join(_HEADER) + " |", "|" + "---|" * len(_HEADER)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
