"""seglab.device: device choice and its override, environment text, seeding."""

from __future__ import annotations

import platform
import random
import re
import traceback

import numpy as np
import pytest
import torch

from seglab.device import DEVICE_ENV_VAR, describe_environment, get_device, seed_everything


@pytest.fixture(autouse=True)
def _no_env_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DEVICE_ENV_VAR, raising=False)


def test_prefer_cpu_always_works() -> None:
    assert get_device("cpu") == torch.device("cpu")
    assert get_device(torch.device("cpu")) == torch.device("cpu")
    assert get_device(" CPU ") == torch.device("cpu")


def test_prefer_beats_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEVICE_ENV_VAR, "not-a-device")
    assert get_device("cpu") == torch.device("cpu")


def pretend(monkeypatch: pytest.MonkeyPatch, *, cuda: int = 0, mps: bool = False) -> None:
    """Make torch report ``cuda`` CUDA devices and MPS or not, whatever this machine has."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)


#: (CUDA devices, MPS, SEGLAB_DEVICE or None, prefer or None) -> the device get_device picks
CHOICES = {
    "cpu only": ((0, False, None, None), "cpu"),
    "a GPU": ((1, False, None, None), "cuda"),
    "two GPUs: the default one": ((2, False, None, None), "cuda"),
    "a Mac": ((0, True, None, None), "mps"),
    "cuda before mps": ((1, True, None, None), "cuda"),
    "env cpu beats a GPU": ((1, True, "cpu", None), "cpu"),
    "env mps beats cuda": ((1, True, "mps", None), "mps"),
    "env picks the second GPU": ((2, False, "cuda:1", None), "cuda:1"),
    "env is read case- and space-insensitively": ((0, True, " MPS ", None), "mps"),
    "empty env means automatic": ((1, True, "  ", None), "cuda"),
    "empty env on a Mac": ((0, True, "", None), "mps"),
    "prefer beats env": ((1, False, "cpu", "cuda"), "cuda"),
    "prefer beats a bad env": ((0, False, "not-a-device", "cpu"), "cpu"),
    "prefer a torch.device": ((2, False, None, torch.device("cuda", 1)), "cuda:1"),
}


@pytest.mark.parametrize("case", CHOICES, ids=str)
def test_the_device_chosen_on_each_pretended_machine(
    monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    (cuda, mps, env, prefer), expected = CHOICES[case]
    pretend(monkeypatch, cuda=cuda, mps=mps)
    if env is not None:
        monkeypatch.setenv(DEVICE_ENV_VAR, env)
    assert get_device(prefer) == torch.device(expected)


#: (CUDA devices, MPS, SEGLAB_DEVICE) asking for a device this machine does not have
MISSING = {
    "cuda on a CPU-only machine": (0, False, "cuda"),
    "cuda on a Mac": (0, True, "cuda:0"),
    "mps beside a GPU": (1, False, "mps"),
    "a second GPU on a one-GPU machine": (1, True, "cuda:1"),
}


@pytest.mark.parametrize("case", MISSING, ids=str)
@pytest.mark.parametrize("via", ["env", "prefer"])
def test_an_override_to_a_missing_device_is_refused(
    monkeypatch: pytest.MonkeyPatch, case: str, via: str
) -> None:
    cuda, mps, name = MISSING[case]
    pretend(monkeypatch, cuda=cuda, mps=mps)
    if via == "env":
        monkeypatch.setenv(DEVICE_ENV_VAR, name)
        with pytest.raises(ValueError) as info:
            get_device()
        assert DEVICE_ENV_VAR in str(info.value)
    else:
        monkeypatch.setenv(DEVICE_ENV_VAR, "cpu")  # prefer wins, even over a valid env
        with pytest.raises(ValueError) as info:
            get_device(name)
    assert name.split(":")[0] in str(info.value)


#: (CUDA devices, MPS) -> the names an error offers, in the order it offers them
MACHINES = {
    "cpu only": ((0, False), ["'cpu'"]),
    "one GPU": ((1, False), ["'cuda'", "'cpu'"]),
    "two GPUs": ((2, False), ["'cuda:0'", "'cuda:1'", "'cpu'"]),
    "a Mac": ((0, True), ["'mps'", "'cpu'"]),
}


def _offered(message: str) -> list[str]:
    """The device names quoted after 'This machine has' in an error message."""
    tail = message.split("This machine has", 1)[1]
    return [f"'{name}'" for name in re.findall(r"'((?:cuda|mps|cpu)(?::\d+)?)'", tail)]


def test_bad_env_var_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    pretend(monkeypatch)
    monkeypatch.setenv(DEVICE_ENV_VAR, "gpu0")
    with pytest.raises(ValueError, match=r"SEGLAB_DEVICE is 'gpu0'.*only the CPU: pass 'cpu'"):
        get_device()


@pytest.mark.parametrize("machine", MACHINES, ids=str)
@pytest.mark.parametrize("name", ["tpu", "banana", "xla", "meta", "GPU", ""])
def test_unknown_device_lists_only_what_this_machine_has(
    monkeypatch: pytest.MonkeyPatch, machine: str, name: str
) -> None:
    (cuda, mps), offered = MACHINES[machine]
    pretend(monkeypatch, cuda=cuda, mps=mps)
    with pytest.raises(ValueError, match=re.escape(f"prefer is {name!r}")) as info:
        get_device(name)
    message = str(info.value)
    assert _offered(message) == offered, message
    assert ("mps" in message) == mps and ("cuda" in message) == (cuda > 0), message


def test_unknown_device_hides_torchs_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    pretend(monkeypatch)
    with pytest.raises(ValueError) as info:
        get_device("tpu")
    assert info.value.__cause__ is None and info.value.__suppress_context__
    shown = "".join(traceback.format_exception(info.value))
    assert "privateuseone" not in shown and "RuntimeError" not in shown, shown
    assert "During handling" not in shown and "direct cause" not in shown, shown


@pytest.mark.parametrize("machine", ["cpu only", "a Mac"])
def test_missing_cuda_says_what_the_machine_has(
    monkeypatch: pytest.MonkeyPatch, machine: str
) -> None:
    (cuda, mps), offered = MACHINES[machine]
    pretend(monkeypatch, cuda=cuda, mps=mps)
    with pytest.raises(ValueError, match=r"asks for 'cuda', but this machine has no usable cuda"):
        get_device("cuda:1")
    with pytest.raises(ValueError) as info:
        get_device("cuda")
    assert _offered(str(info.value)) == offered


def test_missing_cuda_with_a_cpu_build_of_torch_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    pretend(monkeypatch)
    monkeypatch.setattr(torch.version, "cuda", None)
    monkeypatch.setattr(torch.version, "hip", None)
    with pytest.raises(ValueError, match=r"is a CPU-only build\)\. This machine has only the CPU"):
        get_device("cuda")


def test_missing_mps_off_a_mac_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    pretend(monkeypatch, cuda=1)
    monkeypatch.setattr(platform, "system", lambda: "Linux")
    with pytest.raises(ValueError, match=r"Apple silicon.*This machine has 'cuda', 'cpu'"):
        get_device("mps")


def test_pretended_gpus_are_chosen_and_indexed(monkeypatch: pytest.MonkeyPatch) -> None:
    pretend(monkeypatch, cuda=2, mps=True)
    assert get_device() == torch.device("cuda")
    assert get_device("cuda:1") == torch.device("cuda:1")
    assert get_device("mps") == torch.device("mps")
    with pytest.raises(ValueError, match=r"'cuda:2', but this machine has 2 cuda devices") as info:
        get_device("cuda:2")
    assert _offered(str(info.value)) == ["'cuda:0'", "'cuda:1'", "'mps'", "'cpu'"]
    with pytest.raises(ValueError, match=r"'mps:1', but this machine has 1 mps device"):
        get_device("mps:1")
    pretend(monkeypatch, mps=True)
    assert get_device() == torch.device("mps")


@pytest.mark.parametrize("bad", [0, 1.5, ["cpu"]])
def test_wrong_type(bad: object) -> None:
    with pytest.raises(TypeError, match=r"str or torch\.device.*This machine has"):
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
