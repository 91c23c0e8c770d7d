"""seglab.distributed: one process does the one-process thing; two gloo ranks really talk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from seglab.distributed import DistInfo, gather_objects, process_group, shard, world_info


def test_single_process_defaults(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    with process_group() as info:
        assert info == DistInfo(0, 1, 0, "")
        assert info.is_main and not info.distributed
        assert gather_objects({"a": 1}) == [{"a": 1}]
        assert shard([1, 2, 3], info) == [1, 2, 3]


@pytest.mark.parametrize("world", [1, 2, 3, 5])
def test_shards_cover_every_item_once_and_differ_by_at_most_one(world):
    items = list(range(11))
    shares = [shard(items, DistInfo(r, world)) for r in range(world)]
    assert sorted(x for s in shares for x in s) == items
    assert max(map(len, shares)) - min(map(len, shares)) <= 1


def test_bad_environment_names_the_variable(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(ValueError, match="WORLD_SIZE='two'"):
        world_info()


def test_two_gloo_ranks_gather_each_others_objects(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(
        textwrap.dedent(
            """
            import json
            from seglab.distributed import gather_objects, process_group, shard
            with process_group() as info:
                got = gather_objects({"rank": info.rank, "mine": shard(list(range(5)), info)})
                print("RESULT", json.dumps([info.backend, info.world_size, got]), flush=True)
            """
        )
    )
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    env_threads = {"OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [*cmd, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env_threads},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [
        json.loads(x.split("RESULT ", 1)[1]) for x in proc.stdout.splitlines() if "RESULT" in x
    ]
    assert len(lines) == 2
    expected = [{"rank": 0, "mine": [0, 2, 4]}, {"rank": 1, "mine": [1, 3]}]
    assert all(line == ["gloo", 2, expected] for line in lines)
