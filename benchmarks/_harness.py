"""Tiny benchmark harness: warm-up, N timed repeats, median, versions, ratios vs targets, --json.

Every figure is a ratio of two cases measured in the same run on the same machine, so it holds on
a noisy shared box where absolute times do not. Absolute times are printed too, for context.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.metadata
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

PACKAGES = ("gladia-async", "aiohttp", "msgspec", "pydantic", "orjson", "gladiaio-sdk", "httpx")


@dataclass
class Case:
    """One measured case: every timed run (seconds) plus free-form facts (bytes, items, ...)."""

    name: str
    runs: list[float]
    unit: str = "s"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median(self) -> float:
        """The median of the runs: the figure every ratio uses."""
        return statistics.median(self.runs)


@dataclass
class Ratio:
    """A measured ratio, its target and whether the target is met."""

    label: str
    value: float
    target: float | None
    op: str  # ">=" (at least) or "<=" (at most)
    note: str = ""

    @property
    def passed(self) -> bool | None:
        """True/False against the target, None when there is no target (context only)."""
        if self.target is None:
            return None
        return self.value >= self.target if self.op == ">=" else self.value <= self.target


def versions() -> dict[str, str]:
    """Python and library versions that matter for these figures."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def machine() -> dict[str, Any]:
    """Machine facts: cores, platform, CPU model, current load average."""
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "platform": platform.platform(),
        "cpu": model,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


def measure(
    fn: Callable[[], object],
    *,
    repeat: int,
    warmup: int = 1,
    name: str = "",
    clock: Callable[[], float] = time.perf_counter,
) -> Case:
    """Run ``fn`` ``warmup`` times untimed, then ``repeat`` times timed (GC before each)."""
    for _ in range(warmup):
        fn()
    runs = []
    for _ in range(repeat):
        gc.collect()
        t0 = clock()
        fn()
        runs.append(clock() - t0)
    return Case(name, runs)


async def ameasure(
    fn: Callable[[], Awaitable[object]], *, repeat: int, warmup: int = 1, name: str = ""
) -> Case:
    """Async variant of :func:`measure`."""
    for _ in range(warmup):
        await fn()
    runs = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        await fn()
        runs.append(time.perf_counter() - t0)
    return Case(name, runs)


def measure_rounds(
    fns: dict[str, Callable[[], object]],
    *,
    repeat: int,
    warmup: int = 1,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, Case]:
    """Time several cases in interleaved rounds (each round runs every case once, in turn).

    On a shared machine the load drifts; interleaving spreads that drift over every case
    instead of charging it to whichever case happened to run during a busy spell. For
    CPU-bound work pass ``clock=time.thread_time``: CPU time of this thread, which other
    processes competing for the cores do not inflate (wall time would).
    """
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    cases = {name: Case(name, []) for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            gc.collect()
            t0 = clock()
            fn()
            cases[name].runs.append(clock() - t0)
    return cases


async def ameasure_rounds(
    fns: dict[str, Callable[[], Awaitable[object]]], *, repeat: int, warmup: int = 1
) -> dict[str, Case]:
    """Async variant of :func:`measure_rounds`."""
    for _ in range(warmup):
        for fn in fns.values():
            await fn()
    cases = {name: Case(name, []) for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            gc.collect()
            t0 = time.perf_counter()
            await fn()
            cases[name].runs.append(time.perf_counter() - t0)
    return cases


def fmt_seconds(s: float) -> str:
    """Human-friendly duration."""
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.1f} ms"
    return f"{s * 1e6:.0f} us"


class Report:
    """Collects cases and ratios for one figure; prints a table and optionally writes JSON."""

    def __init__(self, figure: str, args: argparse.Namespace) -> None:
        self.figure = figure
        self.args = args
        self.cases: dict[str, Case] = {}
        self.ratios: list[Ratio] = []
        self.notes: list[str] = []
        self.machine_start = machine()
        self.started = time.time()
        print(f"== {figure}")
        v = versions()
        print("versions: " + ", ".join(f"{k} {val}" for k, val in v.items()))
        m = self.machine_start
        print(f"machine: nproc={m['nproc']} cpu={m['cpu']!r} loadavg={m['loadavg']}")
        print(f"mode: {'quick' if args.quick else 'full'}")
        sys.stdout.flush()

    def add(self, case: Case, **extra: Any) -> Case:
        """Record a case and print its line."""
        case.extra.update(extra)
        self.cases[case.name] = case
        if case.unit == "s":
            runs = ", ".join(fmt_seconds(r) for r in case.runs)
            line = f"  {case.name:<44} median {fmt_seconds(case.median):>10}   [{runs}]"
        else:
            line = f"  {case.name:<44} {case.median:>10.1f} {case.unit}"
        if case.extra:
            line += "  " + " ".join(f"{k}={v}" for k, v in case.extra.items())
        print(line)
        sys.stdout.flush()
        return case

    def note(self, text: str) -> None:
        """A line of context printed with the results and kept in the JSON."""
        self.notes.append(text)
        print(f"  note: {text}")

    def ratio(
        self,
        label: str,
        value: float,
        target: float | None = None,
        op: str = ">=",
        note: str = "",
    ) -> Ratio:
        """Record and print a ratio such as ``pydantic / ours = 10.3x (target >= 8x) PASS``."""
        r = Ratio(label, value, target, op, note)
        self.ratios.append(r)
        return r

    def finish(self) -> int:
        """Print the ratio table, write JSON if asked; exit status 0 (benchmarks never fail CI)."""
        print(f"-- {self.figure}: ratios (each measured in this run)")
        for r in self.ratios:
            tail = ""
            if r.target is not None:
                tail = f" (target {r.op} {r.target:g}x) {'PASS' if r.passed else 'MISS'}"
            extra = f"  [{r.note}]" if r.note else ""
            print(f"  {r.label} = {r.value:.2f}x{tail}{extra}")
        end = machine()
        print(f"loadavg at end: {end['loadavg']} (nproc={end['nproc']})")
        if self.args.json:
            out = {
                "figure": self.figure,
                "mode": "quick" if self.args.quick else "full",
                "started": self.started,
                "duration_s": round(time.time() - self.started, 2),
                "versions": versions(),
                "machine": self.machine_start,
                "loadavg_end": end["loadavg"],
                "argv": sys.argv,
                "cases": {k: {**asdict(c), "median": c.median} for k, c in self.cases.items()},
                "ratios": [{**asdict(r), "passed": r.passed} for r in self.ratios],
                "notes": self.notes,
            }
            text = json.dumps(out, indent=2)
            if self.args.json == "-":
                print(text)
            else:
                with open(self.args.json, "w", encoding="utf-8") as f:
                    f.write(text + "\n")
                print(f"json written to {self.args.json}")
        return 0


def parser(description: str) -> argparse.ArgumentParser:
    """The common command line: --quick, --repeat, --json."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="small sizes, fewer repeats (smoke run)")
    p.add_argument("--repeat", type=int, default=None, help="timed repeats per case")
    p.add_argument("--json", metavar="PATH", default=None, help="write JSON here ('-': stdout)")
    return p


def run(coro: Awaitable[int]) -> int:
    """asyncio.run for an awaitable returning an exit status."""

    async def main() -> int:
        return await coro

    return asyncio.run(main())
