"""Download SAM checkpoints once, check them byte for byte, and keep them in a cache folder.

:func:`download_checkpoint` returns the path of a checkpoint that is safe to load:

- **mini** ships inside the package: its path comes back without any network access.
- **Official models** (vit_b/l/h) are fetched with pooch from Meta's server (or a mirror) into
  the cache folder (see :func:`seglab.sam.registry.get_cache_dir`).

What makes it safe:

1. pooch streams the download into a temporary file in the cache folder and moves it to its
   final name only after the checks pass; a failed or interrupted download (including Ctrl-C)
   deletes the temporary file. So a file at the final name is always a complete, checked one.
2. Before the move, the file's size must equal the known size (checked here) and its SHA-256
   the known hash (checked by pooch). A failed transfer is retried ``retries`` times, waiting
   1 s, 2 s, … between attempts; a "404 Not Found" or other permanent HTTP error is not retried.
3. A file already in the cache is trusted only if its size is right (checked on every call:
   it costs one ``stat``). With ``verify_hash=True`` its SHA-256 is checked too (that reads
   the whole file: about a second per GB from a fast disk). A cached file that fails either
   check is **renamed** to ``<filename>.corrupt`` (replacing an older one; nothing of yours is
   deleted, and seglab never reads ``.corrupt`` files), a warning says so, and a fresh copy is
   downloaded. Delete the ``.corrupt`` file to get the space back.

When the download cannot happen (offline, firewall, server error) you get one
:class:`CheckpointDownloadError` (a ``ConnectionError``, hence an ``OSError``) that names the
file, its URL, the exact path to put it at by hand, the ``SEGLAB_SAM_CHECKPOINT`` variable for a
file you already have elsewhere, and the offline way out: ``load_sam("mini")``.

Environment variables: ``SEGLAB_CACHE_DIR`` (the cache folder) and ``SEGLAB_SAM_BASE_URL`` (a
mirror that serves the official file names, e.g. ``http://fileserver.lab/sam/``).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import pooch
import requests
from tqdm.auto import tqdm

from seglab import _env
from seglab._util import check_int
from seglab.sam.registry import (
    CACHE_DIR_ENV_VAR,
    ModelInfo,
    checkpoint_path,
    get_model_info,
    human_size,
)

#: Environment variable with the base URL of a mirror serving the official file names.
BASE_URL_ENV_VAR = _env.SAM_BASE_URL.name  # "SEGLAB_SAM_BASE_URL"
#: Environment variable pointing :func:`seglab.sam.loading.load_sam` at a checkpoint file.
CHECKPOINT_ENV_VAR = _env.SAM_CHECKPOINT.name  # "SEGLAB_SAM_CHECKPOINT"

_CHUNK = 1 << 20  # stream 1 MiB at a time
_TIMEOUT_S = 30  # seconds without an answer before a connection attempt gives up
_RETRYABLE_HTTP = {408, 429}  # client errors worth retrying (timeout, rate limit)


class CheckpointDownloadError(ConnectionError):
    """A checkpoint could not be downloaded (network, server, or bytes that failed the checks).

    A subclass of ``ConnectionError`` (so also of ``OSError``). Attributes: ``model`` (name),
    ``url``, ``path`` (where the file belongs) and ``reason`` (what went wrong, in words).
    """

    def __init__(self, message: str, *, model: str, url: str, path: Path, reason: str) -> None:
        super().__init__(message)
        self.model = model
        self.url = url
        self.path = path
        self.reason = reason


class _PermanentHTTPError(Exception):
    """An HTTP error that retrying will not fix (404 …). Not a ValueError or RequestException,
    so pooch does not retry it; pooch still deletes its temporary file."""

    def __init__(self, error: requests.HTTPError) -> None:
        super().__init__(str(error))
        self.error = error


class _CheckedDownloader:
    """A pooch downloader: pooch's HTTPDownloader plus a fresh progress bar per attempt, the
    known-size check, and no retries for permanent HTTP errors."""

    def __init__(self, info: ModelInfo, progress: bool) -> None:
        self.info = info
        self.progress = progress
        self.attempts = 0

    def __call__(self, url: str, output_file: str, pooch_instance: pooch.Pooch | None) -> None:
        self.attempts += 1
        bar = None
        if self.progress:
            # tqdm.auto: a widget bar in Jupyter, a text bar on stderr elsewhere. Created with the
            # known total so the notebook widget gets the right maximum from the start.
            bar = tqdm(
                total=self.info.size_bytes, unit="B", unit_scale=True, desc=self.info.filename
            )
        http = pooch.HTTPDownloader(
            progressbar=bar if bar is not None else False, chunk_size=_CHUNK, timeout=_TIMEOUT_S
        )
        try:
            http(url, output_file, pooch_instance)
        except requests.HTTPError as error:
            status = error.response.status_code if error.response is not None else None
            if status is not None and 400 <= status < 500 and status not in _RETRYABLE_HTTP:
                raise _PermanentHTTPError(error) from error
            raise
        finally:
            if bar is not None:
                bar.close()
        size = os.path.getsize(output_file)
        if size != self.info.size_bytes:
            # A ValueError, like pooch's hash mismatch: pooch retries, then deletes the file.
            raise ValueError(
                f"received {size:,} bytes for {self.info.filename}, "
                f"expected {self.info.size_bytes:,}"
            )


def _source_url(info: ModelInfo, url: str | None) -> str:
    if url is not None:
        return url
    mirror = _env.SAM_BASE_URL.get()
    if mirror:
        return mirror.rstrip("/") + "/" + info.filename
    if info.url is None:
        raise ValueError(f"{info.name!r} ships with seglab and has no URL to download from.")
    return info.url


def _cached_file_problem(info: ModelInfo, path: Path, verify_hash: bool) -> str | None:
    """Why the file at ``path`` cannot be trusted, or None when it can."""
    size = path.stat().st_size
    if size != info.size_bytes:
        return f"has {size:,} bytes, expected {info.size_bytes:,} (an incomplete copy?)"
    if verify_hash:
        digest = pooch.file_hash(str(path), alg="sha256")
        if digest != info.sha256:
            return f"has SHA-256 {digest}, expected {info.sha256} (corrupted or a different file)"
    return None


def _reason(error: BaseException, attempts: int) -> str:
    """Say in words what went wrong in the last download attempt."""
    tries = f" ({attempts} attempt{'s' if attempts != 1 else ''})"
    if isinstance(error, _PermanentHTTPError):
        error = error.error
    if isinstance(error, requests.HTTPError) and error.response is not None:
        r = error.response
        hint = " (no file at this URL; check the URL or mirror)" if r.status_code == 404 else ""
        return f"the server answered HTTP {r.status_code} {r.reason}{hint}{tries}"
    if isinstance(error, requests.exceptions.ChunkedEncodingError):
        return f"the connection broke off in the middle of the file{tries}"
    if isinstance(error, requests.Timeout):
        return f"the server did not answer within {_TIMEOUT_S} s{tries}"
    if isinstance(error, requests.ConnectionError):
        url = error.request.url if error.request is not None else None
        host = urlsplit(url).netloc if isinstance(url, str) else "the server"
        return f"could not connect to {host} (no internet here, or a firewall or proxy){tries}"
    if isinstance(error, ValueError):  # our size check or pooch's hash check
        return f"the downloaded bytes failed the integrity check{tries}: {error}"
    return f"{type(error).__name__}: {error}{tries}"


def _download_error(
    info: ModelInfo, url: str, path: Path, error: BaseException, attempts: int
) -> CheckpointDownloadError:
    reason = _reason(error, attempts)
    message = (
        f"Could not download the SAM checkpoint {info.name!r} "
        f"({info.filename}, {human_size(info.size_bytes)}) from {url}: {reason}.\n"
        "Nothing was saved. Ways out:\n"
        f"  - get the file another way (a browser, another computer) from\n"
        f"      {url}\n"
        f"    and put it exactly here (seglab checks its size before using it):\n"
        f"      {path}\n"
        "  - if you already have the file somewhere else, point seglab at it:\n"
        f"      load_sam({info.name!r}, checkpoint='/path/to/{info.filename}')\n"
        f"    or set the environment variable {CHECKPOINT_ENV_VAR}=/path/to/{info.filename}\n"
        f"    (or pass the folder it is in as cache_dir=, or set {CACHE_DIR_ENV_VAR});\n"
        "  - work offline: the whole course runs with the small model that ships with seglab,\n"
        "      load_sam('mini')"
    )
    return CheckpointDownloadError(message, model=info.name, url=url, path=path, reason=reason)


def download_checkpoint(
    model: str | ModelInfo,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
    *,
    verify_hash: bool = False,
    url: str | None = None,
    retries: int = 2,
) -> Path:
    """Return the path of a model's checkpoint, downloading it into the cache when missing.

    Arguments:
      model (str | ModelInfo): ``"mini"``, ``"vit_b"``, ``"vit_l"`` or ``"vit_h"`` (see
        :func:`seglab.sam.registry.get_model_info` for accepted spellings), or a
        :class:`ModelInfo` describing another file (its size and SHA-256 are checked the same
        way).
      cache_dir (str | PathLike | None): the folder to keep downloads in; None means
        ``SEGLAB_CACHE_DIR`` or the system cache (see ``get_cache_dir``).
      progress (bool): show a download progress bar (a widget in Jupyter; the environment
        variable ``TQDM_DISABLE=1`` hides it everywhere).
      verify_hash (bool): also check the SHA-256 of a file that is already cached (a fresh
        download is always checked). Reads the whole file (about a second per GB).
      url (str | None): download from this URL instead of the registry's; the file must still
        have the registry's size and SHA-256. None: ``SEGLAB_SAM_BASE_URL`` + file name when
        that variable is set, else the official URL.
      retries (int): how many times to retry a failed transfer (0 = try once).

    Returns:
      Path: an existing file, complete and (at least) size-checked. For mini, the file inside
      the package; nothing is downloaded.

    Raises:
      CheckpointDownloadError: the download failed; the message says why and how to get the
        file another way. Nothing is left at the final path.
      FileNotFoundError: mini was asked for but this install of seglab lacks its weights.
      ValueError: unknown model name, or a negative ``retries``.
      TypeError: ``model`` is neither a name nor a ModelInfo, or ``retries`` is not an int
        (e.g. a bool or a float).
    """
    info = get_model_info(model)
    retries = check_int(retries, "retries", minimum=0, hint="Use e.g. retries=2.")
    path = checkpoint_path(info, cache_dir)
    if info.shipped:
        if not path.is_file():
            raise FileNotFoundError(
                f"The {info.name} weights should ship with seglab at {path}, but that file is "
                "missing: this install is incomplete. Reinstall seglab (from a git checkout: "
                "`git lfs pull` if you use Git LFS, then `pip install -e .`)."
            )
        return path

    if path.exists():
        problem = _cached_file_problem(info, path, verify_hash)
        if problem is None:
            return path
        aside = path.with_name(path.name + ".corrupt")
        os.replace(path, aside)
        warnings.warn(
            f"The cached checkpoint {path} {problem}. Renamed it to {aside.name} (delete it to "
            "free the space) and downloading a fresh copy.",
            stacklevel=2,
        )

    source = _source_url(info, url)
    downloader = _CheckedDownloader(info, progress)
    fetcher = pooch.create(
        path=path.parent,
        base_url="",
        registry={info.filename: f"sha256:{info.sha256}"},
        urls={info.filename: source},
        retry_if_failed=retries,
    )
    try:
        fetcher.fetch(info.filename, downloader=downloader)
    except (ValueError, requests.RequestException, _PermanentHTTPError) as error:
        raise _download_error(info, source, path, error, downloader.attempts) from error
    return path
