"""`gladia-async sync` and `export`: the report on stdout, the files readable by pyarrow, and a
sync killed with SIGKILL five times that the sixth run completes exactly."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import random
import signal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from gladia_async._cli import main
from gladia_async.testing import Fault

from ._cli_helpers import KEY, FakeThread, cli_env, run_cli, start_cli
from ._sync_helpers import store_url, table

__all__ = ["store_url"]


def argv(ft: FakeThread, *rest: str) -> list[str]:
    return ["--api-key", KEY, "--base-url", ft.url, *rest]


def test_sync_prints_the_report_then_export_writes_every_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path / 'j.db'}"
    with FakeThread(jobs=150, seed=21, transcript_seconds=3) as ft:
        assert main(argv(ft, "sync", "--db", db, "--no-progress")) == 0
        out = capsys.readouterr().out
        assert out.startswith("pre-recorded jobs: new 150, changed 0, deleted 0, unchanged 0;")
        assert " requests, " in out and " MB, " in out
        ft.call(lambda f: f.store.remove(f.store.ids()[75]))
        assert main(argv(ft, "sync", "--db", db, "--json")) == 0
        report = json.loads(capsys.readouterr().out)
        assert (report["deleted"], report["unchanged"]) == (1, 149)
        want = ft.call(lambda f: {i: f.store.job_json(i) for i in f.store.ids()})

    pq_path, jl_path, csv_path = (tmp_path / n for n in ("j.parquet", "j.jsonl", "j.csv"))
    assert main(["export", "--db", db, "--format", "parquet", "--out", str(pq_path)]) == 0
    assert main(["export", "--db", db, "--format", "jsonl", "--out", str(jl_path)]) == 0
    assert main(["export", "--db", db, "--format", "csv", "--out", str(csv_path)]) == 0
    assert "wrote 149 jobs" in capsys.readouterr().err

    table = pq.read_table(pq_path).to_pylist()
    assert [r["id"] for r in table] == list(want)  # newest first, as the API lists them
    for row in table:
        api = want[row["id"]]
        assert row["status"] == api["status"]
        assert row["created_at"].isoformat(timespec="milliseconds")[:23] == api["created_at"][:23]
        assert json.loads(row["custom_metadata"]) == api["custom_metadata"]
        if api["status"] == "done":
            assert row["billing_time"] == api["result"]["metadata"]["billing_time"]
            assert row["languages"] == api["result"]["transcription"]["languages"]
    lines = [json.loads(line) for line in jl_path.read_text().splitlines()]
    assert [r["id"] for r in lines] == list(want)
    assert set(lines[0]) == set(table[0])
    with csv_path.open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == list(want)


def test_export_filters_and_parquet_row_groups(tmp_path: Path) -> None:
    from gladia_async.sync import export

    db = f"sqlite:///{tmp_path / 'j.db'}"
    with FakeThread(jobs=120, seed=22) as ft:
        assert main(argv(ft, "sync", "--db", db)) == 0
        done = ft.call(lambda f: [i for i in f.store.ids() if f.store.jobs[i].status == "done"])

    async def go() -> int:
        return await export(db, tmp_path / "d.parquet", status="done", row_group=25)

    assert asyncio.run(go()) == len(done)
    meta = pq.ParquetFile(tmp_path / "d.parquet").metadata
    assert meta.num_rows == len(done) and meta.num_row_groups == -(-len(done) // 25)


def test_sync_lock_held_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import fcntl
    import os

    path = tmp_path / "j.db"
    fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with FakeThread(jobs=5, seed=23) as ft:
            assert main(argv(ft, "sync", "--db", f"sqlite:///{path}")) == 4
    finally:
        os.close(fd)
    assert "StoreLockedError: another sync is writing to" in capsys.readouterr().err


async def test_sigkill_five_times_then_the_sixth_run_completes(store_url: str) -> None:
    """SIGKILL the CLI sync at random points (a random request, plus a random delay: in the
    middle of a walk, a write or a window check), changing the fake in between, then run it
    once more: the table equals the API and the report counts every job as new."""
    rng = random.Random(1234)
    with FakeThread(jobs=1500, seed=24, transcript_seconds=2) as ft:
        ft.call(lambda f: f.faults.add(Fault(route="*", kind="latency", delay=0.01, times=None)))
        args = [*argv(ft, "sync", "--db", store_url, "--page-size", "20")]
        env = cli_env()
        for round_ in range(5):
            proc = await start_cli(*args, env=env)
            delay = rng.uniform(0.0, 0.05)

            def kill(f: object, pid: int = proc.pid, delay: float = delay) -> None:
                asyncio.get_running_loop().call_later(delay, os.kill, pid, signal.SIGKILL)

            request = rng.randint(3, 15)
            fault = ft.call(lambda f, n=request, k=kill: f.inject("*", "hook", on={n}, hook=k))
            await proc.communicate()
            ft.call(lambda f, x=fault: f.faults.remove(x))
            assert proc.returncode == -signal.SIGKILL, round_

            def change(f: object, r: random.Random = rng) -> None:
                store = f.store  # type: ignore[attr-defined]
                for job_id in r.sample(store.ids(), 10):
                    store.remove(job_id)
                store.add_jobs(3)

            ft.call(change)
        code, out, err = await run_cli(*args, env=env)
        assert code == 0, err
        live = ft.call(lambda f: {i: f.store.jobs[i].status for i in f.store.ids()})
    rows = await table(store_url)
    assert {i: r["status"] for i, r in rows.items() if r["deleted_at"] is None} == live
    # The first run never finished: the sixth reports from the empty table it started from.
    assert out.startswith(f"pre-recorded jobs: new {len(live)}, changed 0, deleted 0,")


def test_demo_act_two_reports_both_syncs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--jobs", "800", "--seed", "3", "--no-progress"]) == 0
    out, err = capsys.readouterr()
    act = out[out.index("act 2") :].splitlines()
    table = {line.split()[0]: line.split()[1:] for line in act[2:] if line.strip()}
    assert table["new"] == ["800", "2"]
    assert table["deleted"] == ["0", "8"]
    finished = int(err.split(" unfinished jobs finished")[0].rsplit(" ", 1)[1])
    assert table["changed"] == ["0", str(finished)] and finished > 0
    assert table["unchanged"] == ["0", str(800 - 8 - finished)]
    first_mb, second_mb = (float(x) for x in table["MB"][1:])
    assert second_mb < first_mb / 3
