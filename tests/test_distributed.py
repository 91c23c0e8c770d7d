"""seglab.distributed: one process does the one-process thing; two gloo ranks really talk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from seglab.distributed import (
    DistInfo,
    active,
    all_sum,
    any_rank,
    barrier,
    broadcast_object,
    gather_objects,
    process_group,
    shard,
    world_info,
)


def two_ranks(tmp_path, source: str) -> subprocess.CompletedProcess:
    """Run ``source`` (a Python program) as 2 gloo ranks under torchrun, one thread each."""
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent(source))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    return subprocess.run(
        [*cmd, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


def test_single_process_defaults(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    with process_group() as info:
        assert info == DistInfo(0, 1, 0, "")
        assert info.is_main and not info.distributed
        assert gather_objects({"a": 1}) == [{"a": 1}]
        assert shard([1, 2, 3], info) == [1, 2, 3]
        assert not active() and any_rank(True) and not any_rank(False)
        assert barrier() is None  # nothing to wait for
        assert broadcast_object({"b": 2}) == {"b": 2}
        t = torch.tensor([1.5, 2.0])
        total = all_sum(t)
        assert torch.equal(total, t) and total is not t


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
    proc = two_ranks(
        tmp_path,
        """
            import json, sys, torch
            from seglab.distributed import (
                active, all_sum, any_rank, barrier, broadcast_object, gather_objects,
                process_group, shard,
            )
            with process_group() as info:
                barrier()
                got = gather_objects({"rank": info.rank, "mine": shard(list(range(5)), info)})
                mine = torch.tensor([info.rank + 1, 10 * (info.rank + 1)], dtype=torch.int64)
                more = [
                    active(),
                    all_sum(mine).tolist(),
                    mine.tolist(),  # all_sum leaves its argument alone
                    any_rank(info.rank == 1),
                    any_rank(False),
                    broadcast_object("from 0" if info.rank == 0 else None),
                ]
                # one write per line: print() splits it, and the ranks share stdout
                result = json.dumps([info.backend, info.world_size, got, more])
                sys.stdout.write(f"RESULT {result}\\n")
            """,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [
        json.loads(x.split("RESULT ", 1)[1]) for x in proc.stdout.splitlines() if "RESULT" in x
    ]
    assert len(lines) == 2
    expected = [{"rank": 0, "mine": [0, 2, 4]}, {"rank": 1, "mine": [1, 3]}]
    assert [line[:3] for line in lines] == [["gloo", 2, expected]] * 2
    sums = [True, [3, 30]]
    assert sorted(line[3] for line in lines) == [
        [*sums, [1, 10], True, False, "from 0"],
        [*sums, [2, 20], True, False, "from 0"],
    ]


def test_a_rank_that_raises_does_not_wait_for_the_others(tmp_path):
    """A rank whose block raised leaves at once with its own error (process_group meets the
    others at a barrier only when its block ends normally), while its peer waits in a
    collective call it will never complete: torchrun then stops the job, no 30-minute hang."""
    proc = two_ranks(
        tmp_path,
        """
            import sys
            from seglab.distributed import gather_objects, process_group
            with process_group() as info:
                if info.rank == 1:
                    raise RuntimeError("rank 1 fails on purpose")
                gather_objects(info.rank)  # rank 1 never gets here
            sys.stdout.write(f"rank {info.rank} left its group\\n")
            """,
    )
    assert proc.returncode != 0
    assert "rank 1 fails on purpose" in proc.stderr
    assert "left its group" not in proc.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads thread names in /proc")
def test_leaving_the_group_stops_its_threads_after_torchvision_was_imported(tmp_path):
    """Importing torchvision (what SAM needs) inside the block once pinned the group: gloo's
    threads outlived destroy_process_group() and could abort the process at exit."""
    proc = two_ranks(
        tmp_path,
        """
            import os, sys, weakref
            import torch, torch.distributed as dist
            from seglab.distributed import all_sum, process_group

            def gloo_threads():
                names = [open(f"/proc/self/task/{t}/comm").read().strip()
                         for t in os.listdir("/proc/self/task")]
                return sorted(n for n in names if "gloo" in n)

            with process_group() as info:
                import torchvision  # noqa: F401
                all_sum(torch.ones(2))
                group = weakref.ref(dist.group.WORLD)
                during = gloo_threads()
            after = f"{gloo_threads()} {group() is None}"
            sys.stdout.write(f"RESULT {info.rank} {len(during)} {after}\\n")
            """,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = sorted(x.split("RESULT ", 1)[1] for x in proc.stdout.splitlines() if "RESULT" in x)
    assert len(results) == 2, proc.stdout
    for rank, line in enumerate(results):
        _, during, after = line.split(" ", 2)
        assert int(during) > 0  # the check sees gloo's threads while the group is open
        assert after == "[] True", f"rank {rank}: gloo threads or the group left: {after}"
