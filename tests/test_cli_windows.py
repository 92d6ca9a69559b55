"""The command line's deep-walk parts: `count`, `list --shards/--max-depth`, and the progress
bar's total (from count) with its ETA."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from gladia_async._cli import main

from ._cli_helpers import KEY, FakeThread

pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeThread]:
    with FakeThread(jobs=230, seed=4, transcript_seconds=0) as ft:
        yield ft


def run(ft: FakeThread, *argv: str) -> int:
    return main(["--api-key", KEY, "--base-url", ft.url, *argv])


def ids_of(text: str) -> list[str]:
    return [json.loads(line)["id"] for line in text.splitlines()]


def test_count_prints_the_number(fake: FakeThread, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(fake, "count") == 0
    assert capsys.readouterr().out == "230\n"
    done = fake.call(lambda f: sum(1 for r in f.store.jobs.values() if r.status == "done"))
    assert run(fake, "count", "--status", "done", "--max-depth", "40") == 0
    assert capsys.readouterr().out == f"{done}\n"
    assert run(fake, "count", "--max-depth", "1") == 2
    assert "max-depth" in capsys.readouterr().err


def test_list_shards_yields_every_job_in_order_within_max_depth(
    fake: FakeThread, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.call(lambda f: f.requests.clear())
    argv = ["list", "--shards", "3", "--max-depth", "60", "--page-size", "20", "--lean"]
    assert run(fake, *argv) == 0
    out, err = capsys.readouterr()
    assert ids_of(out) == fake.call(lambda f: f.store.ids())
    assert err == ""
    offsets = fake.call(lambda f: [int(r.param("offset") or 0) for r in f.requests])
    assert max(offsets) <= 60


def test_progress_bar_shows_the_total_and_an_eta(
    fake: FakeThread, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("tqdm")
    assert run(fake, "list", "--progress", "--shards", "2", "--fields", "id") == 0
    err = capsys.readouterr().err
    assert "230/230" in err
    assert "<" in err  # tqdm's "[elapsed<remaining" ETA, shown only with a total
    assert run(fake, "list", "--progress", "--max-items", "50", "--fields", "id") == 0
    assert "50/50" in capsys.readouterr().err


def test_sharded_list_resumes_after_a_fatal_fault(capsys: pytest.CaptureFixture[str]) -> None:
    with FakeThread(jobs=300, seed=6, transcript_seconds=0) as ft:
        expected = ft.call(lambda f: f.store.ids())
        ft.call(lambda f: f.inject("pre_recorded.list", "status", status=500, on={12}))
        argv = ["list", "--shards", "2", "--max-depth", "80", "--page-size", "20"]
        assert run(ft, "--max-retries", "0", *argv, "--fields", "id") == 1
        out, err = capsys.readouterr()
        token = err.splitlines()[-1].split()[-1]
        assert run(ft, "list", "--fields", "id", "--resume", token) == 0
        rest = capsys.readouterr().out
    assert ids_of(out) + ids_of(rest) == expected
