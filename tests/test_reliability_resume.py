"""Crash and resume: a listing killed at random points and resumed from its last checkpoint
yields, over all its runs, every job exactly once and in order.

In-process, the consumer is cancelled (task.cancel, a timeout, an exception in the loop body, a
break) at seeded random points, or the stream dies of a server error (exc.checkpoint), while the
fake injects faults. Out of process, the CLI is interrupted with SIGINT (it prints its resume
token) and killed with SIGKILL (it prints nothing: the token is rebuilt from the public
Checkpoint, the listing's filters and the number of complete lines received).
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import signal
from typing import Any

import pytest

from gladia_async import Checkpoint, GladiaClient, GladiaError
from gladia_async.testing import FakeGladia

from ._cli_helpers import run_cli, start_cli
from ._reliability_helpers import fast_retry_kwargs

KEY = "resume-test-key-0000"


class Stop(Exception):
    """Raised by the loop body to abandon a run."""


async def _consume(stream: Any, got: list[str], stop_after: int | None) -> None:
    async for job in stream:
        got.append(job.id)
        if stop_after is not None and len(got) >= stop_after:
            raise Stop


async def _one_run(stream: Any, got: list[str], rng: random.Random) -> bool:
    """Consume until interrupted the way rng chooses; True when the stream ran to its end."""
    how = rng.choice(["cancel", "cancel", "timeout", "raise", "break"])
    if how == "cancel":
        task = asyncio.create_task(_consume(stream, got, None))
        for _ in range(rng.randint(0, 60)):
            await asyncio.sleep(0)
            if task.done():
                break
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return False
        return True
    if how == "timeout":
        try:
            async with asyncio.timeout(rng.uniform(0.0, 0.05)):
                await _consume(stream, got, None)
        except TimeoutError:
            return False
        return True
    try:
        await _consume(stream, got, len(got) + rng.randint(1, 150))
    except Stop:
        return False
    return True


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_cancelled_at_random_points_then_resumed(seed: int) -> None:
    rng = random.Random(seed)
    async with FakeGladia(api_key=KEY, jobs=1_000, seed=seed, transcript_seconds=0) as fake:
        fake.inject("pre_recorded.list", "status", status=503, probability=0.08, times=None)
        fake.inject("pre_recorded.list", "reset", probability=0.04, times=None)
        fake.inject("pre_recorded.list", "latency", delay=0.003, probability=0.5, times=None)
        expected = fake.store.ids()
        got: list[str] = []
        resume: Any = None
        runs = 0
        async with GladiaClient(api_key=KEY, base_url=fake.url, **fast_retry_kwargs(8)) as gladia:
            while True:
                runs += 1
                assert runs < 500, "no progress"
                stream = gladia.pre_recorded.list(
                    page_size=rng.choice([7, 20, 50]),
                    concurrency=rng.randint(1, 4),
                    resume=resume,
                )
                before = len(got)
                finished = await _one_run(stream, got, rng)
                checkpoint = stream.checkpoint
                await stream.aclose()
                # the checkpoint is exactly where the consumer stopped
                start = 0 if resume is None else _offset(resume)
                assert checkpoint.offset == start + (len(got) - before)
                if finished:
                    break
                resume = checkpoint.token if rng.random() < 0.5 else checkpoint
    assert runs > 3, "the test never interrupted the stream"
    assert len(got) == len(set(got)), "a job was yielded twice across runs"
    assert got == expected, "jobs lost or out of order across runs"


def _offset(resume: Any) -> int:
    cp = Checkpoint.from_token(resume) if isinstance(resume, str) else resume
    return int(cp.offset)


async def test_stream_killed_by_server_errors_resumes_from_exc_checkpoint() -> None:
    """No retries at all: every injected 5xx kills the stream; exc.checkpoint resumes it."""
    async with FakeGladia(api_key=KEY, jobs=800, seed=4, transcript_seconds=0) as fake:
        fake.inject("pre_recorded.list", "status", status=502, probability=0.15, times=None)
        expected = fake.store.ids()
        got: list[str] = []
        resume: Any = None
        failures = 0
        async with GladiaClient(api_key=KEY, base_url=fake.url, **fast_retry_kwargs(0)) as gladia:
            while True:
                stream = gladia.pre_recorded.list(page_size=25, concurrency=3, resume=resume)
                try:
                    async with stream:
                        async for job in stream:
                            got.append(job.id)
                    break
                except GladiaError as exc:
                    failures += 1
                    assert failures < 300
                    assert exc.checkpoint is not None
                    assert exc.checkpoint == stream.checkpoint
                    resume = exc.checkpoint.token
    assert failures > 0
    assert got == expected


# -- the CLI, interrupted and killed ----------------------------------------------------------


async def _read_lines(proc: asyncio.subprocess.Process, n: int) -> list[bytes]:
    assert proc.stdout is not None
    lines: list[bytes] = []
    async with asyncio.timeout(60):
        while len(lines) < n:
            line = await proc.stdout.readline()
            if not line:
                break
            lines.append(line)
    return lines


def _ids(lines: list[bytes]) -> list[str]:
    """Ids of the complete JSON lines (a line cut by the kill has no newline and is dropped)."""
    return [json.loads(line)["id"] for line in lines if line.endswith(b"\n") and line.strip()]


def _cli_list_args(url: str, *extra: str) -> list[str]:
    return ["list", "--api-key", KEY, "--base-url", url, "--format", "jsonl", *extra]


async def test_cli_interrupted_with_sigint_prints_a_token_that_resumes_exactly() -> None:
    async with FakeGladia(api_key=KEY, jobs=600, seed=6, transcript_seconds=0) as fake:
        # slow pages keep the listing running until SIGINT; the resumed run needs none
        slow = fake.inject("pre_recorded.list", "latency", delay=0.05, times=None)
        expected = fake.store.ids()
        proc = await start_cli(*_cli_list_args(fake.url, "--page-size", "10"))
        first = await _read_lines(proc, 57)
        proc.send_signal(signal.SIGINT)
        rest, err = await proc.communicate()
        first += rest.splitlines(keepends=True)
        assert proc.returncode == 130, (proc.returncode, err.decode())
        match = re.search(r"--resume (\S+)", err.decode())
        assert match, f"no resume token on stderr: {err.decode()!r}"
        got = _ids(first)
        assert 57 <= len(got) < len(expected)
        fake.faults.remove(slow)
        code, out, err2 = await run_cli(*_cli_list_args(fake.url, "--resume", match.group(1)))
        assert code == 0, err2
        got += _ids([line.encode() + b"\n" for line in out.splitlines()])
    assert got == expected


async def test_cli_sigkilled_at_random_points_resumes_from_lines_received() -> None:
    """SIGKILL prints nothing. The resume token is rebuilt through the public API: a Checkpoint
    with the run's filters (the pinned before_date and status were passed explicitly) and
    offset = complete lines received. Three kills, then a run to the end."""
    rng = random.Random(99)
    pin = "2100-01-01T00:00:00.000Z"
    filters = ["--before-date", pin, "--status", "done", "--status", "error"]
    async with FakeGladia(api_key=KEY, jobs=700, seed=8, transcript_seconds=0) as fake:
        slow = fake.inject("pre_recorded.list", "latency", delay=0.04, times=None)
        fake.inject("pre_recorded.list", "status", status=503, probability=0.1, times=None)
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            expected = [
                job.id
                async for job in gladia.pre_recorded.list(
                    before_date=pin, status=["done", "error"], page_size=100
                )
            ]
        assert len(expected) > 100
        got: list[str] = []
        token: str | None = None
        for kill in range(3):
            extra = [*filters, "--page-size", str(rng.choice([10, 25])), "--max-retries", "8"]
            if token is not None:
                extra = ["--resume", token, "--max-retries", "8"]
            proc = await start_cli(*_cli_list_args(fake.url, *extra))
            want = rng.randint(1, 120)
            lines = await _read_lines(proc, want)
            proc.kill()  # SIGKILL: no handler, no flush, no token
            assert proc.stdout is not None
            lines += (await proc.stdout.read()).splitlines(keepends=True)
            await proc.wait()
            assert proc.returncode == -signal.SIGKILL, f"kill {kill}: exited {proc.returncode}"
            got += _ids(lines)
            checkpoint = Checkpoint(
                path="/v2/pre-recorded",
                offset=len(got),
                page_size=25,
                status=("done", "error"),
                before_date=pin,
            )
            token = checkpoint.token
        assert token is not None
        fake.faults.remove(slow)  # slow pages only keep the killed runs from finishing first
        code, out, err = await run_cli(
            *_cli_list_args(fake.url, "--resume", token, "--max-retries", "8")
        )
        assert code == 0, err
        got += _ids([line.encode() + b"\n" for line in out.splitlines()])
    assert len(got) == len(set(got)), "a job was printed twice across the killed runs"
    assert got == expected, "jobs lost or out of order across the killed runs"
