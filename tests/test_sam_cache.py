"""Tests for seglab.sam.cache: keys that never confuse two images or two models, the LRU, disk."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from seglab.sam.cache import (
    CachedEmbedding,
    CacheKey,
    EmbeddingCache,
    ModelFingerprint,
    default_disk_dir,
    image_fingerprint,
    model_fingerprint,
)
from seglab.sam.mini import build_mini_sam


def _image(seed: int = 0, shape=(24, 32, 3)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def _key(model_char: str = "a", image_char: str = "b") -> CacheKey:
    return CacheKey(model_char * 64, image_char * 64)


def _entry(value: float = 1.0) -> CachedEmbedding:
    return CachedEmbedding(torch.full((1, 8, 4, 4), value), (24, 32), (12, 16))


@pytest.fixture
def sam():
    torch.manual_seed(0)
    return build_mini_sam()


# --------------------------------------------------------------------------- image fingerprint


def test_image_fingerprint_same_content_new_array_is_equal():
    image = _image()
    assert image_fingerprint(image) == image_fingerprint(image.copy())
    assert image_fingerprint(image) == image_fingerprint(np.asfortranarray(image))


def test_image_fingerprint_one_pixel_changes_it():
    image = _image()
    changed = image.copy()
    changed[5, 7, 1] ^= 1
    assert image_fingerprint(image) != image_fingerprint(changed)


def test_image_fingerprint_includes_shape():
    image = _image(shape=(4, 6, 3))
    assert image_fingerprint(image) != image_fingerprint(image.reshape(6, 4, 3))


def test_image_fingerprint_refuses_other_formats():
    with pytest.raises(TypeError, match="as_rgb_uint8"):
        image_fingerprint(_image().astype(np.float32))
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        image_fingerprint(np.zeros((4, 4), dtype=np.uint8))


# --------------------------------------------------------------------------- model fingerprint


def test_model_fingerprint_same_weights_same_value(sam):
    other = build_mini_sam()
    assert model_fingerprint(sam) != model_fingerprint(other)  # different random weights
    other.load_state_dict(sam.state_dict())
    assert model_fingerprint(sam) == model_fingerprint(other)


def test_model_fingerprint_ignores_the_decoder_but_not_pixel_stats(sam):
    before = model_fingerprint(sam)
    with torch.no_grad():
        next(sam.mask_decoder.parameters()).add_(1.0)
    assert model_fingerprint(sam) == before  # embeddings do not depend on the decoder
    with torch.no_grad():
        sam.pixel_mean.add_(1.0)
    assert model_fingerprint(sam) != before


def test_model_fingerprint_includes_encoder_input_size(sam):
    tracker = ModelFingerprint(sam)
    before = tracker.get()
    sam.image_encoder.img_size = 128  # same weights, another input size
    assert model_fingerprint(sam) != before
    assert tracker.get() == model_fingerprint(sam)


def test_tracker_hashes_once_while_nothing_changes(sam):
    tracker = ModelFingerprint(sam)
    first = tracker.get()
    assert tracker.get() == first
    assert tracker.computations == 1


@pytest.mark.parametrize(
    "edit",
    ["no_grad_add", "inference_mode_add", "optimizer_step", "load_state_dict", "replace"],
)
def test_tracker_sees_every_torch_edit_of_the_encoder(sam, edit):
    tracker = ModelFingerprint(sam)
    before = tracker.get()
    weight = sam.image_encoder.patch_embed.proj.weight
    if edit == "no_grad_add":
        with torch.no_grad():
            weight.add_(0.5)
    elif edit == "inference_mode_add":
        with torch.inference_mode():
            weight.add_(0.5)
    elif edit == "optimizer_step":
        optimizer = torch.optim.SGD(sam.image_encoder.parameters(), lr=0.1)
        weight.grad = torch.ones_like(weight)
        optimizer.step()
    elif edit == "load_state_dict":
        sam.load_state_dict(build_mini_sam().state_dict())
    else:
        sam.image_encoder.patch_embed.proj.weight = torch.nn.Parameter(weight.detach() * 2)
    after = tracker.get()
    assert after != before
    assert after == model_fingerprint(sam)
    assert tracker.computations == 2


def test_tracker_needs_refresh_after_edits_through_data(sam):
    # Documented limit: `.data` has its own version counter, so torch cannot report the edit.
    tracker = ModelFingerprint(sam)
    before = tracker.get()
    sam.image_encoder.patch_embed.proj.weight.data.add_(0.5)
    assert tracker.get() == before
    assert tracker.refresh() != before
    assert tracker.get() == model_fingerprint(sam)


# --------------------------------------------------------------------------- keys


@pytest.mark.parametrize("bad", ["a" * 63, "A" * 64, "../" + "a" * 61, 123])
def test_cache_key_must_be_hex_digests(bad):
    with pytest.raises(ValueError, match="64 lowercase hex"):
        CacheKey(bad, "b" * 64)


# --------------------------------------------------------------------------- memory LRU


def test_get_returns_what_was_put_and_counts():
    cache = EmbeddingCache(max_items=2)
    assert cache.get(_key()) is None
    entry = _entry(3.0)
    cache.put(_key(), entry)
    got = cache.get(_key())
    assert got is not None and torch.equal(got.features, entry.features)
    assert got.original_size == (24, 32) and got.input_size == (12, 16)
    stats = cache.stats
    assert (stats.hits, stats.misses, stats.items, stats.disk_hits) == (1, 1, 1, 0)


def test_put_keeps_its_own_copy():
    cache = EmbeddingCache()
    entry = _entry(1.0)
    cache.put(_key(), entry)
    entry.features.add_(100.0)  # the caller's tensor changes later
    got = cache.get(_key())
    assert got is not None and torch.equal(got.features, torch.full((1, 8, 4, 4), 1.0))


def test_lru_evicts_the_least_recently_used():
    cache = EmbeddingCache(max_items=2)
    a, b, c = _key(image_char="a"), _key(image_char="b"), _key(image_char="c")
    cache.put(a, _entry(1))
    cache.put(b, _entry(2))
    assert cache.get(a) is not None  # a is now more recent than b
    cache.put(c, _entry(3))
    assert b not in cache and a in cache and c in cache
    assert len(cache) == 2 and cache.stats.evictions == 1


def test_max_items_zero_keeps_nothing_in_memory():
    cache = EmbeddingCache(max_items=0)
    cache.put(_key(), _entry())
    assert len(cache) == 0 and cache.get(_key()) is None


def test_clear_forgets_entries_and_counters():
    cache = EmbeddingCache()
    cache.put(_key(), _entry())
    cache.get(_key())
    cache.clear()
    assert len(cache) == 0 and cache.stats.hits == 0 and cache.get(_key()) is None


def test_nbytes_and_repr():
    cache = EmbeddingCache(max_items=3)
    cache.put(_key(), _entry())
    assert cache.nbytes == 8 * 4 * 4 * 4
    assert "1/3 items" in repr(cache)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"max_items": -1}, ValueError),
        ({"max_items": 2.5}, TypeError),
        ({"max_items": True}, TypeError),
        ({"disk_dir": 3}, TypeError),
    ],
)
def test_constructor_refuses_bad_arguments(kwargs, error):
    with pytest.raises(error):
        EmbeddingCache(**kwargs)


def test_put_refuses_wrong_types():
    with pytest.raises(TypeError, match="CacheKey"):
        EmbeddingCache().put(("a", "b"), _entry())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="CachedEmbedding"):
        EmbeddingCache().put(_key(), torch.zeros(1))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- disk


def test_disk_round_trip_in_a_new_cache(tmp_path):
    first = EmbeddingCache(disk_dir=tmp_path)
    entry = _entry(7.0)
    first.put(_key(), entry)
    path = tmp_path / _key().relative_path
    assert path.is_file()
    assert not [p for p in tmp_path.rglob("*") if p.suffix == ".tmp"]  # no temporary left
    raw = torch.load(path, weights_only=True)  # plain, weights_only-loadable content
    assert raw["format"] == "seglab-sam-embedding"

    second = EmbeddingCache(disk_dir=tmp_path)
    assert _key() in second
    got = second.get(_key())
    assert got is not None and torch.equal(got.features, entry.features)
    assert got.original_size == (24, 32) and got.input_size == (12, 16)
    assert second.stats.disk_hits == 1 and len(second) == 1  # now in memory too
    assert second.get(_key()) is not None and second.stats.disk_hits == 1


@pytest.mark.parametrize(
    "damage", ["garbage", "truncated", "empty", "other_key", "not_a_dict", "bad_features"]
)
def test_corrupt_disk_entry_is_ignored_then_rewritten(tmp_path, damage):
    cache = EmbeddingCache(disk_dir=tmp_path)
    cache.put(_key(), _entry(5.0))
    path = tmp_path / _key().relative_path
    if damage == "garbage":
        path.write_bytes(b"\x00not a torch file" * 10)
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "other_key":  # a valid entry for another image, copied under this name
        cache.put(_key(image_char="c"), _entry(9.0))
        (tmp_path / _key(image_char="c").relative_path).replace(path)
    elif damage == "not_a_dict":
        torch.save([1, 2, 3], path)
    else:
        payload = torch.load(path, weights_only=True)
        payload["features"] = torch.zeros(8, 4, 4)
        torch.save(payload, path)

    fresh = EmbeddingCache(disk_dir=tmp_path)
    with pytest.warns(RuntimeWarning, match="ignoring the cached embedding"):
        assert fresh.get(_key()) is None
    assert fresh.stats.ignored_files == 1 and fresh.stats.misses == 1

    fresh.put(_key(), _entry(5.0))  # the recomputed embedding replaces the bad file
    again = EmbeddingCache(disk_dir=tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = again.get(_key())
    assert got is not None and torch.equal(got.features, torch.full((1, 8, 4, 4), 5.0))


def test_failed_disk_write_warns_keeps_memory_and_leaves_no_file(tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the cache folder should be")
    cache = EmbeddingCache(disk_dir=blocker)
    with pytest.warns(RuntimeWarning, match="could not write"):
        cache.put(_key(), _entry())
    assert cache.get(_key()) is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not_a_folder"]


def test_interrupted_disk_write_leaves_no_file(tmp_path, monkeypatch):
    def interrupted_save(*args, **kwargs):
        Path(args[1]).write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", interrupted_save)
    cache = EmbeddingCache(disk_dir=tmp_path)
    with pytest.raises(KeyboardInterrupt):
        cache.put(_key(), _entry())
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_clear_disk_removes_only_cache_entries(tmp_path):
    cache = EmbeddingCache(disk_dir=tmp_path)
    cache.put(_key(), _entry())
    cache.put(_key(model_char="c"), _entry())
    keep = tmp_path / "notes.txt"
    keep.write_text("mine")
    cache.clear(disk=True)
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]
    assert _key() not in cache


def test_default_disk_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SEGLAB_CACHE_DIR", str(tmp_path))
    assert default_disk_dir() == tmp_path / "embeddings"
    monkeypatch.delenv("SEGLAB_CACHE_DIR")
    assert default_disk_dir().name == "embeddings"
