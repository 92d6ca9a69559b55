"""Fault soak: stream every job through the fake while it fails at least 10% of requests.

At random with a fixed seed the fake answers 429 + Retry-After, 500/502/503, resets the
connection, cuts bodies short (Content-Length promised, half sent) and slows pages down. Every
job must arrive exactly once, in order. The figures (requests, faults by kind, retries, wall
time) are printed; run with ``-s`` to see them:

    .venv/bin/pytest -m soak -s tests/test_reliability_soak.py      # 50,000 jobs
    .venv/bin/pytest -s tests/test_reliability_soak.py              # the short CI version

The client gets a RetryPolicy with millisecond backoff and a 1 s Retry-After cap, so retries
cost no wall time; the fake's Retry-After values are 0 or 1 second.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field

import pytest

from gladia_async import GladiaClient
from gladia_async.testing import FakeGladia

from ._reliability_helpers import fast_retry_kwargs

KEY = "soak-test-key-0000"


class RetryCounter(logging.Handler):
    """Counts the transport's "retrying ..." debug records: one per retry."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if str(record.msg).startswith("retrying"):
            self.count += 1


@dataclass
class SoakReport:
    """What a soak run did."""

    jobs: int
    page_size: int
    concurrency: int
    requests: int = 0
    pages: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    client_requests: int = 0
    retries: int = 0
    logged_retries: int = 0
    wall: float = 0.0

    @property
    def failed(self) -> int:
        """Requests answered with an injected failure (slow pages not counted)."""
        return sum(n for kind, n in self.faults.items() if not kind.startswith("latency"))

    def line(self) -> str:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.faults.items()))
        return (
            f"soak: {self.jobs:,} jobs, page_size {self.page_size}, concurrency "
            f"{self.concurrency}: {self.requests:,} requests, {sum(self.faults.values()):,} "
            f"faults injected ({kinds}); {self.failed:,} requests failed "
            f"({self.failed / self.requests:.1%}), {self.retries:,} retries "
            f"({self.logged_retries:,} by the transport's retry loop), "
            f"{self.pages:,} pages, wall {self.wall:.1f} s"
        )


def _inject(fake: FakeGladia, rate: float) -> None:
    """Faults on the list route; the failing ones add up to `rate` of requests."""
    share = rate / 7
    route = "pre_recorded.list"
    fake.inject(route, "status", status=429, retry_after=0, probability=share, times=None)
    fake.inject(route, "status", status=429, retry_after=1, probability=share / 20, times=None)
    for status in (500, 502, 503):
        fake.inject(route, "status", status=status, probability=share, times=None)
    fake.inject(route, "reset", probability=share, times=None)
    fake.inject(route, "truncate", probability=share, times=None)
    fake.inject(route, "latency", delay=0.02, probability=0.03, times=None)
    # and each kind at least once, early, whatever the dice say
    fake.inject(route, "status", status=429, retry_after=0, on={2})
    for n, status in ((3, 500), (4, 502), (5, 503)):
        fake.inject(route, "status", status=status, on={n})
    fake.inject(route, "reset", on={6})
    fake.inject(route, "truncate", on={7})


async def soak(
    jobs: int, *, page_size: int, concurrency: int, seed: int, rate: float = 0.18
) -> SoakReport:
    report = SoakReport(jobs=jobs, page_size=page_size, concurrency=concurrency)
    logger = logging.getLogger("gladia_async")
    counter = RetryCounter()
    old_level = logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    try:
        await _run(report, seed, rate, counter)
    finally:
        logger.removeHandler(counter)
        logger.setLevel(old_level)
    print("\n" + report.line())
    return report


async def _run(report: SoakReport, seed: int, rate: float, counter: RetryCounter) -> None:
    jobs, page_size, concurrency = report.jobs, report.page_size, report.concurrency
    async with FakeGladia(api_key=KEY, jobs=jobs, seed=seed, transcript_seconds=0) as fake:
        expected = fake.store.ids()
        _inject(fake, rate)
        async with GladiaClient(api_key=KEY, base_url=fake.url, **fast_retry_kwargs(10)) as gladia:
            start = time.perf_counter()
            stream = gladia.pre_recorded.list(page_size=page_size, concurrency=concurrency)
            async with stream:
                got = [job.id async for job in stream]
            report.wall = time.perf_counter() - start
        stats = stream.stats
        report.pages = stats.pages
        report.client_requests = stats.requests
        log = fake.requests.for_route("pre_recorded.list")
        report.requests = len(log)
        for request in log:
            if request.fault is not None:
                kind = request.fault
                if kind == "status" and request.status is not None:
                    kind = f"status {request.status}"
                report.faults[kind] += 1
        # every request the fake saw beyond one per page received (and the speculative ones past
        # the end) was a retry: by the transport, by aiohttp (a reset keep-alive connection) or
        # by the stream (a page still refused with 429 after the transport's retries)
        report.retries = max(0, report.requests - stats.pages - stats.wasted)
        report.logged_retries = counter.count
    assert len(got) == len(set(got)), "a job was yielded twice"
    assert got == expected, "jobs lost or out of order"
    assert report.failed / report.requests >= 0.10, report.line()


@pytest.mark.parametrize("concurrency", [1, 4])
async def test_short_soak(concurrency: int) -> None:
    """The CI version: 3,000 jobs, the same fault mix."""
    report = await soak(3_000, page_size=25, concurrency=concurrency, seed=1234 + concurrency)
    assert report.retries > 0
    for kind in ("status 429", "status 500", "status 502", "status 503", "reset", "truncate"):
        assert report.faults[kind] > 0, f"no {kind} injected: {report.line()}"


@pytest.mark.soak
@pytest.mark.parametrize(("concurrency", "page_size"), [(4, 100), (1, 100)])
async def test_soak_50k(concurrency: int, page_size: int) -> None:
    """50,000 jobs with >= 10% of requests failing: every job exactly once, in order."""
    report = await soak(50_000, page_size=page_size, concurrency=concurrency, seed=20260714)
    assert report.retries > 0
