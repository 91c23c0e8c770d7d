"""seglab.device: device choice and its override, environment text, seeding."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from seglab.device import DEVICE_ENV_VAR, describe_environment, get_device, seed_everything


@pytest.fixture(autouse=True)
def _no_env_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DEVICE_ENV_VAR, raising=False)


def _expected_auto() -> str:
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def test_auto_picks_first_available() -> None:
    assert get_device().type == _expected_auto()


def test_prefer_cpu_always_works() -> None:
    assert get_device("cpu") == torch.device("cpu")
    assert get_device(torch.device("cpu")) == torch.device("cpu")
    assert get_device(" CPU ") == torch.device("cpu")


def test_env_var_overrides_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEVICE_ENV_VAR, "cpu")
    assert get_device() == torch.device("cpu")


def test_prefer_beats_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEVICE_ENV_VAR, "not-a-device")
    assert get_device("cpu") == torch.device("cpu")


def test_empty_env_var_means_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEVICE_ENV_VAR, "  ")
    assert get_device().type == _expected_auto()


def test_bad_env_var_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEVICE_ENV_VAR, "gpu0")
    with pytest.raises(ValueError, match=r"SEGLAB_DEVICE.*'gpu0'.*cuda, mps, cpu"):
        get_device()


@pytest.mark.parametrize("name", ["tpu", "banana", "xla"])
def test_unknown_device_lists_choices(name: str) -> None:
    with pytest.raises(ValueError, match="cuda, mps, cpu"):
        get_device(name)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_unavailable_cuda_says_what_is_available() -> None:
    with pytest.raises(ValueError, match=r"no usable cuda device \(available: .*cpu\)"):
        get_device("cuda")


@pytest.mark.parametrize("bad", [0, 1.5, ["cpu"]])
def test_wrong_type(bad: object) -> None:
    with pytest.raises(TypeError, match=r"str or torch\.device"):
        get_device(bad)  # type: ignore[arg-type]


@pytest.mark.gpu
def test_gpu_is_chosen_when_present() -> None:
    assert get_device().type in {"cuda", "mps"}


def test_describe_environment_names_what_matters() -> None:
    text = describe_environment()
    for key in ("Python:", "torch:", "segment-anything:", "GPU", "Colab:", "seglab device:"):
        assert key in text, f"{key!r} missing from:\n{text}"
    assert torch.__version__ in text


def test_seed_everything_reproduces_all_generators() -> None:
    def draw() -> tuple[float, float, torch.Tensor]:
        return random.random(), float(np.random.rand()), torch.rand(3)  # noqa: NPY002

    assert seed_everything(123) == 123
    first = draw()
    seed_everything(123)
    second = draw()
    assert first[:2] == second[:2] and torch.equal(first[2], second[2])
    seed_everything(124)
    assert draw()[0] != first[0]


@pytest.mark.parametrize("bad", [1.0, "1", True, None])
def test_seed_wrong_type(bad: object) -> None:
    with pytest.raises(TypeError, match="seed must be an int"):
        seed_everything(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [-1, 2**32])
def test_seed_out_of_range(bad: int) -> None:
    with pytest.raises(ValueError, match=r"\[0, 2\*\*32 - 1\]"):
        seed_everything(bad)
