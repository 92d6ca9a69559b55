"""`demo` (the main job against the built-in fake API) and `fake-server`."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..testing import DataSpec, FakeGladia, build_store
from ._context import Context, ExitCode, UsageError
from ._progress import make_progress, want_progress

__all__ = [
    "DEMO_KEY",
    "DemoTally",
    "cmd_demo",
    "cmd_fake_server",
    "format_summary",
    "parse_transcript_seconds",
]

DEMO_KEY = "demo-key-not-a-secret"
"""The fake API's key in the demo: a local test value, not a credential."""


@dataclass(slots=True)
class DemoTally:
    """What the demo counts while it streams: jobs by status and billed audio seconds."""

    lean: bool = False
    statuses: Counter[str] = field(default_factory=Counter)
    billed_seconds: float = 0.0
    jobs: int = 0

    def add(self, job: Any) -> None:
        """Count one job: status, and result.metadata.billing_time (lean: file.audio_duration)."""
        self.jobs += 1
        self.statuses[job.status] += 1
        seconds = None
        if not self.lean:
            result = getattr(job, "result", None)
            metadata = getattr(result, "metadata", None)
            seconds = getattr(metadata, "billing_time", None)
        if seconds is None:
            file = getattr(job, "file", None)
            seconds = getattr(file, "audio_duration", None)
        if seconds:
            self.billed_seconds += seconds


@dataclass(slots=True)
class DemoRun:
    """Numbers of one demo run, for the summary."""

    tally: DemoTally
    pages: int | None
    bytes_decoded: int | None
    wall: float
    startup: float
    page_size: int
    concurrency: int


_STATUS_ORDER = ("done", "error", "processing", "queued")


def _rate(amount: float, seconds: float) -> float:
    return amount / seconds if seconds > 0 else 0.0


def format_summary(run: DemoRun) -> str:
    """The demo's closing table: jobs by status, then the throughput figures."""
    tally = run.tally
    statuses = [s for s in _STATUS_ORDER if tally.statuses[s]] + sorted(
        s for s in tally.statuses if s not in _STATUS_ORDER
    )
    kind = "lean listing" if tally.lean else "full jobs"
    head = (
        f"gladia-async demo: {tally.jobs:,} jobs streamed through GladiaClient "
        f"({kind}, page size {run.page_size}, concurrency {run.concurrency})"
    )
    rows: list[tuple[str, str, str]] = [("status", "jobs", "")]
    for status in statuses:
        count = tally.statuses[status]
        rows.append((status, f"{count:,}", f"{100 * _rate(count, tally.jobs):5.1f}%"))
    rows.append(("total", f"{tally.jobs:,}", ""))
    rows.append(("", "", ""))
    billed = "billed audio" if not tally.lean else "audio duration"
    rows.append((billed, f"{tally.billed_seconds / 3600:,.1f}", "h"))
    rows.append(("pages", f"{run.pages:,}" if run.pages is not None else "n/a", ""))
    megabytes = None if run.bytes_decoded is None else run.bytes_decoded / 1e6
    label = "bytes received" if tally.lean else "bytes decoded"
    rows.append((label, "n/a" if megabytes is None else f"{megabytes:,.1f}", "MB"))
    rows.append(("items/s", f"{_rate(tally.jobs, run.wall):,.0f}", ""))
    rows.append(("MB/s", "n/a" if megabytes is None else f"{_rate(megabytes, run.wall):,.1f}", ""))
    rows.append(("wall time", f"{run.wall:.2f}", f"s  (+ {run.startup:.2f} s to synthesize)"))
    left = max(len(r[0]) for r in rows)
    mid = max(len(r[1]) for r in rows)
    lines = [head, ""]
    for label_, value, unit in rows:
        line = f"  {label_.ljust(left)}  {value.rjust(mid)}  {unit}" if label_ else ""
        lines.append(line.rstrip())
    return "\n".join(lines)


TranscriptSpec = float | tuple[float, float] | None


def parse_transcript_seconds(text: str) -> TranscriptSpec:
    """--transcript-seconds: "realistic" (the fake's mix, up to an hour), "N" or "LOW-HIGH"."""
    text = text.strip().lower()
    if text == "realistic":
        return None
    try:
        if "-" in text:
            low, _, high = text.partition("-")
            pair = (float(low), float(high))
            if not 0 <= pair[0] <= pair[1]:
                raise ValueError(text)
            return pair
        value = float(text)
    except ValueError:
        raise UsageError(
            f"--transcript-seconds: expected realistic, N or LOW-HIGH, not {text!r}"
        ) from None
    if value < 0:
        raise UsageError("--transcript-seconds: must not be negative")
    return value


async def _synthesize(store: Any, show: bool) -> None:
    """Build every job's JSON before the clock starts, so the timing measures the client.

    Done in slices with a yield to the loop between them, so Ctrl-C stops it promptly.
    """
    ids = store.ids()
    progress = make_progress(show, total=len(ids), desc="synthesizing", unit="job")
    try:
        for start in range(0, len(ids), 250):
            chunk = ids[start : start + 250]
            for job_id in chunk:
                store.get(job_id).encoded()
            progress.update(len(chunk))
            await asyncio.sleep(0)
    finally:
        progress.close()


def _bytes_decoded(stream: Any, store: Any, complete: bool) -> int | None:
    """JSON bytes the client decoded: the stream's own count, else the fake's job bodies."""
    value = getattr(getattr(stream, "stats", None), "bytes", None)
    if isinstance(value, int):
        return value
    if not complete:
        return None
    return sum(len(store.get(job_id).encoded()) for job_id in store.ids())


async def cmd_demo(ctx: Context) -> int:
    """Seed a fake API, stream every job through GladiaClient, print the summary."""
    args = ctx.args
    transcripts = parse_transcript_seconds(args.transcript_seconds)
    show = want_progress(args.progress)
    started = time.perf_counter()
    ctx.info(
        f"synthesizing {args.jobs:,} jobs (seed {args.seed}, transcripts "
        f"{args.transcript_seconds} s) for the built-in fake Gladia API"
    )
    store = build_store(DataSpec(jobs=args.jobs, seed=args.seed, transcript_seconds=transcripts))
    await _synthesize(store, show)
    async with FakeGladia(api_key=DEMO_KEY, store=store, latency_ms=args.latency_ms) as fake:
        startup = time.perf_counter() - started
        ctx.info(f"fake API at {fake.url}, ready in {startup:.1f} s; streaming every job")
        tally = DemoTally(lean=args.lean)
        progress = make_progress(show, total=args.jobs, desc="streaming", unit="job")
        kwargs: dict[str, Any] = {"page_size": args.page_size, "concurrency": args.concurrency}
        if args.lean:
            kwargs["lean"] = True
        try:
            async with ctx.client(api_key=DEMO_KEY, base_url=fake.url) as gladia:
                stream = gladia.pre_recorded.list(**kwargs)
                ctx.stream = stream
                begin = time.perf_counter()
                async with stream:
                    async for job in stream:
                        tally.add(job)
                        progress.update()
                wall = time.perf_counter() - begin
        finally:
            progress.close()
        ctx.stream = None
        if args.sync:
            print(format_summary(_run(stream, store, tally, wall, startup, args)), flush=True)
            print(flush=True)
            print(await sync_act(ctx, fake, seed=args.seed), flush=True)
            return ExitCode.OK
    print(format_summary(_run(stream, store, tally, wall, startup, args)), flush=True)
    return ExitCode.OK


def _run(
    stream: Any, store: Any, tally: DemoTally, wall: float, startup: float, args: Any
) -> DemoRun:
    pages = getattr(getattr(stream, "stats", None), "pages", None)
    return DemoRun(
        tally=tally,
        pages=pages if isinstance(pages, int) else None,
        bytes_decoded=_bytes_decoded(stream, store, complete=tally.jobs == args.jobs),
        wall=wall,
        startup=startup,
        page_size=args.page_size,
        concurrency=args.concurrency,
    )


async def sync_act(ctx: Context, fake: FakeGladia, *, seed: int = 7) -> str:
    """Act two: mirror the fake's history into a temporary SQLite file, change the history
    (new jobs, unfinished jobs finish, deletions deep in the past), sync again; the two
    reports side by side."""
    import random
    import tempfile
    from pathlib import Path

    from ..sync import sync

    rng = random.Random(seed)
    store = fake.store
    with tempfile.TemporaryDirectory(prefix="gladia-demo-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'gladia-jobs.db'}"
        ctx.info(f"act 2: sync the history into SQLite ({url})")
        async with ctx.client(api_key=DEMO_KEY, base_url=fake.url) as gladia:
            first = await sync(gladia.pre_recorded, url)
            ids = store.ids()
            deleted = rng.sample(ids[len(ids) // 10 :], max(1, len(ids) // 100))
            for job_id in deleted:
                store.remove(job_id)
            jobs = store.jobs
            unfinished = [i for i in store.ids() if jobs[i].status in ("queued", "processing")]
            finished = rng.sample(unfinished, len(unfinished) // 2)
            for job_id in finished:
                store.set_status(job_id, rng.choice(("done", "done", "done", "error")))
            created = store.add_jobs(max(1, len(ids) // 400), transcript_seconds=30.0)
            ctx.info(
                f"changed the fake: {len(created)} new jobs, {len(finished)} unfinished jobs "
                f"finished, {len(deleted)} deleted across the history; syncing again"
            )
            second = await sync(gladia.pre_recorded, url)
    rows = [
        ("", "first sync", "second sync"),
        ("new", f"{first.new:,}", f"{second.new:,}"),
        ("changed", f"{first.changed:,}", f"{second.changed:,}"),
        ("deleted", f"{first.deleted:,}", f"{second.deleted:,}"),
        ("unchanged", f"{first.unchanged:,}", f"{second.unchanged:,}"),
        ("requests", f"{first.requests:,}", f"{second.requests:,}"),
        ("MB received", f"{first.bytes / 1e6:,.1f}", f"{second.bytes / 1e6:,.1f}"),
        ("time (s)", f"{first.seconds:.2f}", f"{second.seconds:.2f}"),
    ]
    cost = 100 * second.bytes / first.bytes if first.bytes else 0.0
    lines = [
        "gladia-async demo, act 2: a local mirror (gladia_async.sync) kept equal to the API",
        "",
    ]
    for label, a, b in rows:
        lines.append(f"  {label:<12}{a:>12}{b:>13}")
    lines += ["", f"  the second sync read {cost:.1f}% of the first one's bytes"]
    return "\n".join(lines)


async def cmd_fake_server(ctx: Context) -> int:
    """Serve the fake API until Ctrl-C (which ends it with exit code 0)."""
    args = ctx.args
    api_key = args.key
    ctx.quiet_interrupt = True
    transcripts = parse_transcript_seconds(args.transcript_seconds)
    try:
        fake = FakeGladia(
            api_key=api_key,
            jobs=args.jobs,
            seed=args.seed,
            transcript_seconds=transcripts,
            latency_ms=args.latency_ms,
            host=args.host,
            port=args.port,
        )
    except ValueError as exc:
        raise UsageError(f"fake-server: {exc}") from None
    async with fake:
        print(f"fake Gladia API at {fake.url} with {args.jobs:,} jobs", flush=True)
        print(f"API key: {api_key}", flush=True)
        print(
            f"try: GLADIA_API_URL={fake.url} GLADIA_API_KEY={api_key} "
            "gladia-async list --max-items 5 --format table",
            flush=True,
        )
        ctx.info("serving until Ctrl-C")
        await asyncio.Event().wait()
    return ExitCode.OK
