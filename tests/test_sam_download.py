"""seglab.sam.download against a real local HTTP server (tests/_http_server.py), no mocks.

Each test describes the served file with a test-only ModelInfo (URL, size, SHA-256) and passes it
to download_checkpoint as it would pass "vit_b". After every failure the cache folder must be
empty: no file at the final name and no temporary file left behind.
"""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from _http_server import FileServer, closed_port_url

from seglab.sam.download import CheckpointDownloadError, download_checkpoint
from seglab.sam.registry import ModelInfo, mini_weights_path

PAYLOAD = random.Random(0).randbytes(300_000)
FILENAME = "fake_sam.pth"


def fake_model(url: str) -> ModelInfo:
    return ModelInfo(
        name="fake",
        filename=FILENAME,
        url=url,
        size_bytes=len(PAYLOAD),
        sha256=hashlib.sha256(PAYLOAD).hexdigest(),
        builder=None,
        description="a test file on a local server",
    )


@pytest.fixture
def server() -> Iterator[FileServer]:
    with FileServer(PAYLOAD, FILENAME) as s:
        yield s


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("SEGLAB_CACHE_DIR", "SEGLAB_SAM_BASE_URL", "SEGLAB_SAM_CHECKPOINT"):
        monkeypatch.delenv(var, raising=False)


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_writes_the_exact_bytes(server: FileServer, tmp_path: Path) -> None:
    path = download_checkpoint(fake_model(server.url), tmp_path, progress=False)
    assert path == tmp_path / FILENAME
    assert path.read_bytes() == PAYLOAD
    assert server.requests == 1
    assert files_in(tmp_path) == [FILENAME]  # no temporary file left


def test_download_creates_missing_folders(server: FileServer, tmp_path: Path) -> None:
    path = download_checkpoint(fake_model(server.url), tmp_path / "a" / "b", progress=False)
    assert path.read_bytes() == PAYLOAD


def test_progress_bar_in_process_does_not_break_the_download(
    server: FileServer, tmp_path: Path
) -> None:
    path = download_checkpoint(fake_model(server.url), tmp_path, progress=True)
    assert path.read_bytes() == PAYLOAD


def test_progress_bar_is_shown_on_stderr(server: FileServer, tmp_path: Path) -> None:
    # The test session sets TQDM_DISABLE=1, which tqdm reads at import: use a fresh process.
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from test_sam_download import fake_model;"
        "from seglab.sam.download import download_checkpoint;"
        "download_checkpoint(fake_model(sys.argv[2]), sys.argv[3], progress=True)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TQDM_")}
    env["TQDM_MININTERVAL"] = "0"
    tests_dir = str(Path(__file__).parent)
    result = subprocess.run(
        [sys.executable, "-c", code, tests_dir, server.url, str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert FILENAME in result.stderr and "100%" in result.stderr
    assert (tmp_path / FILENAME).read_bytes() == PAYLOAD


def test_a_cached_file_is_not_downloaded_again(server: FileServer, tmp_path: Path) -> None:
    info = fake_model(server.url)
    first = download_checkpoint(info, tmp_path, progress=False)
    server.mode = "500"  # any new request would now fail
    second = download_checkpoint(info, tmp_path, progress=False)
    third = download_checkpoint(info, tmp_path, progress=False, verify_hash=True)
    assert first == second == third
    assert server.requests == 1


FAILURES = {
    # mode: (retries, expected requests, words in the reason)
    "drop": (0, 1, "broke off in the middle of the file"),
    "404": (2, 1, "HTTP 404"),  # a permanent error: not retried
    "500": (1, 2, "HTTP 500"),  # retried, then given up
    "wrong_bytes": (0, 1, "SHA256 hash of downloaded file"),
    "wrong_size": (0, 1, "received 301,000 bytes for fake_sam.pth, expected 300,000"),
}


@pytest.mark.parametrize("mode", list(FAILURES))
def test_a_failed_download_leaves_nothing_and_a_later_call_works(
    server: FileServer, tmp_path: Path, mode: str
) -> None:
    retries, n_requests, reason = FAILURES[mode]
    info = fake_model(server.url)
    server.mode = mode
    with pytest.raises(CheckpointDownloadError) as excinfo:
        download_checkpoint(info, tmp_path, progress=False, retries=retries)
    assert reason in str(excinfo.value)
    assert f"({n_requests} attempt" in excinfo.value.reason
    assert server.requests == n_requests
    assert files_in(tmp_path) == []  # nothing at the final name, no temporary file

    server.mode = "ok"
    path = download_checkpoint(info, tmp_path, progress=False)
    assert path.read_bytes() == PAYLOAD
    assert files_in(tmp_path) == [FILENAME]


def test_a_dropped_connection_is_retried(server: FileServer, tmp_path: Path) -> None:
    server.mode = "drop_once"
    path = download_checkpoint(fake_model(server.url), tmp_path, progress=False, retries=1)
    assert path.read_bytes() == PAYLOAD
    assert server.requests == 2


def test_offline_error_says_what_to_do(tmp_path: Path) -> None:
    url = closed_port_url(FILENAME)
    with pytest.raises(CheckpointDownloadError) as excinfo:
        download_checkpoint(fake_model(url), tmp_path, progress=False, retries=0)
    error = excinfo.value
    message = str(error)
    assert isinstance(error, ConnectionError) and isinstance(error, OSError)
    assert "could not connect" in message
    assert FILENAME in message and url in message
    assert str(tmp_path / FILENAME) in message  # where to put the file by hand
    assert "SEGLAB_SAM_CHECKPOINT" in message
    assert "load_sam('mini')" in message
    assert (error.model, error.url, error.path) == ("fake", url, tmp_path / FILENAME)
    assert files_in(tmp_path) == []


def test_official_model_offline_names_its_file_and_size(tmp_path: Path) -> None:
    url = closed_port_url("sam_vit_b_01ec64.pth")
    with pytest.raises(CheckpointDownloadError, match=r"sam_vit_b_01ec64\.pth, 375\.0 MB"):
        download_checkpoint("vit_b", tmp_path, progress=False, url=url, retries=0)


def test_official_model_already_cached_needs_no_network(tmp_path: Path) -> None:
    # A file of the right size at the right place is trusted without hashing (a sparse file
    # of 375 MB costs no disk). The URL points nowhere: any network use would fail.
    cached = tmp_path / "sam_vit_b_01ec64.pth"
    with open(cached, "wb") as f:
        f.truncate(375_042_383)
    path = download_checkpoint("vit_b", tmp_path, url=closed_port_url(), retries=0)
    assert path == cached


def test_corrupted_cached_file_is_caught_by_verify_hash(server: FileServer, tmp_path: Path) -> None:
    info = fake_model(server.url)
    corrupt = bytes([PAYLOAD[0] ^ 1]) + PAYLOAD[1:]  # same size, one bit flipped
    (tmp_path / FILENAME).write_bytes(corrupt)

    # Without verify_hash only the size is checked, so this file is (knowingly) trusted.
    assert download_checkpoint(info, tmp_path, progress=False) == tmp_path / FILENAME
    assert server.requests == 0

    with pytest.warns(UserWarning, match=r"SHA-256 .* Renamed it to fake_sam\.pth\.corrupt"):
        path = download_checkpoint(info, tmp_path, progress=False, verify_hash=True)
    assert path.read_bytes() == PAYLOAD
    assert (tmp_path / (FILENAME + ".corrupt")).read_bytes() == corrupt
    assert server.requests == 1


def test_wrong_size_cached_file_is_always_caught(server: FileServer, tmp_path: Path) -> None:
    (tmp_path / FILENAME).write_bytes(PAYLOAD[:1000])  # an incomplete copy
    with pytest.warns(UserWarning, match="has 1,000 bytes, expected 300,000"):
        path = download_checkpoint(fake_model(server.url), tmp_path, progress=False)
    assert path.read_bytes() == PAYLOAD
    assert files_in(tmp_path) == [FILENAME, FILENAME + ".corrupt"]


def test_bad_cached_file_and_failed_download_leaves_no_trusted_file(
    server: FileServer, tmp_path: Path
) -> None:
    (tmp_path / FILENAME).write_bytes(b"partial")
    server.mode = "404"
    with pytest.warns(UserWarning), pytest.raises(CheckpointDownloadError):
        download_checkpoint(fake_model(server.url), tmp_path, progress=False)
    assert files_in(tmp_path) == [FILENAME + ".corrupt"]


def test_mirror_base_url_from_the_environment(
    server: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = fake_model("http://official.invalid/" + FILENAME)  # never contacted
    monkeypatch.setenv("SEGLAB_SAM_BASE_URL", server.base_url.rstrip("/"))
    path = download_checkpoint(info, tmp_path, progress=False)
    assert path.read_bytes() == PAYLOAD and server.requests == 1


def test_url_argument_beats_the_mirror(
    server: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEGLAB_SAM_BASE_URL", "http://mirror.invalid/")
    info = fake_model("http://official.invalid/" + FILENAME)
    path = download_checkpoint(info, tmp_path, progress=False, url=server.url)
    assert path.read_bytes() == PAYLOAD


def test_cache_dir_from_the_environment(
    server: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEGLAB_CACHE_DIR", str(tmp_path / "env_cache"))
    path = download_checkpoint(fake_model(server.url), progress=False)
    assert path == tmp_path / "env_cache" / FILENAME and path.read_bytes() == PAYLOAD


def test_mini_needs_no_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEGLAB_SAM_BASE_URL", closed_port_url())
    shipped = mini_weights_path()
    if shipped.is_file():
        assert download_checkpoint("mini", tmp_path) == shipped
    else:
        with pytest.raises(FileNotFoundError, match=r"ship with seglab.*Reinstall"):
            download_checkpoint("mini", tmp_path)
    assert files_in(tmp_path) == []


@pytest.mark.parametrize(
    ("retries", "error", "match"),
    [
        (-1, ValueError, "retries must be an int >= 0"),
        # the wrong type is a TypeError (it was a ValueError before the one type rule)
        (1.5, TypeError, "retries must be an int, got float"),
        (True, TypeError, "retries must be an int, got bool"),
    ],
)
def test_bad_retries_is_refused(tmp_path: Path, retries: object, error, match) -> None:
    with pytest.raises(error, match=match):
        download_checkpoint(fake_model("http://x.invalid/f"), tmp_path, retries=retries)  # type: ignore[arg-type]


def test_unknown_model_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Valid names: mini, vit_b, vit_l, vit_h"):
        download_checkpoint("vit_bb", tmp_path)
