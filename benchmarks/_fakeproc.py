"""Run gladia_async.testing.FakeGladia in its own process, so its CPU is not the client's.

Child: ``python -m benchmarks._fakeproc --jobs N --seconds S --latency-ms L`` prints
``URL <url>`` once serving, then serves until stdin closes or SIGTERM; a line
``delete N SEED`` on stdin deletes N jobs picked at random (answered ``OK <jobs left>``).
The same fake, with the same data and settings, serves every client a figure measures; its
job bytes are pre-encoded (``store.warm()``) before any client connects, the same for all.
Parent: ``with FakeProcess(...) as url:``, and ``fake.delete(n, seed)`` while it runs.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import signal
import subprocess
import sys
import threading
import time
from types import TracebackType

API_KEY = "bench-key"


class FakeProcess:
    """Context manager: start the fake in a subprocess, yield its URL, stop it on exit."""

    def __init__(
        self,
        *,
        jobs: int,
        seconds: float,
        latency_ms: float = 0.0,
        seed: int = 7,
        error_rate: float = 0.0,
    ) -> None:
        self.argv = [
            sys.executable,
            "-m",
            "benchmarks._fakeproc",
            "--jobs",
            str(jobs),
            "--seconds",
            str(seconds),
            "--latency-ms",
            str(latency_ms),
            "--seed",
            str(seed),
            "--error-rate",
            str(error_rate),
        ]
        self.proc: subprocess.Popen[str] | None = None
        self.startup_s = 0.0

    def __enter__(self) -> str:
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("URL "):
            self.__exit__(None, None, None)
            raise RuntimeError(f"fake server did not start: {line!r}")
        self.startup_s = time.perf_counter() - t0
        return line.split()[1]

    def delete(self, n: int, seed: int) -> int:
        """Delete ``n`` jobs picked at random (seeded) from the running fake; jobs left."""
        assert self.proc is not None and self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(f"delete {n} {seed}\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer.startswith("OK "):
            raise RuntimeError(f"fake server did not delete: {answer!r}")
        return int(answer.split()[1])

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the fake's process has used so far."""
        import psutil

        assert self.proc is not None
        t = psutil.Process(self.proc.pid).cpu_times()
        return float(t.user + t.system)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.proc is None:
            return
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
        self.proc = None


async def _serve(args: argparse.Namespace) -> None:
    from gladia_async.testing import DataSpec, FakeGladia, build_store

    spec = DataSpec(
        jobs=args.jobs,
        seed=args.seed,
        statuses={"done": 1.0 - args.error_rate, "error": args.error_rate}
        if args.error_rate
        else {"done": 1.0},
        transcript_seconds=args.seconds,
        feature_rate=0.0,
    )
    store = build_store(spec)
    store.warm()
    async with FakeGladia(api_key=API_KEY, store=store, latency_ms=args.latency_ms) as fake:
        print(f"URL {fake.url}", flush=True)
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)

        def delete(n: int, seed: int) -> None:
            for job_id in random.Random(seed).sample(store.ids(), n):
                store.remove(job_id)
            print(f"OK {len(store)}", flush=True)

        def commands() -> None:  # stdin closing (the parent exiting) also stops us
            for line in sys.stdin:
                _, n, seed = line.split()  # "delete N SEED", the only command
                loop.call_soon_threadsafe(delete, int(n), int(seed))
            loop.call_soon_threadsafe(stop.set)

        threading.Thread(target=commands, daemon=True).start()
        await stop.wait()


def main() -> int:
    """Entry point of the fake-server child process."""
    p = argparse.ArgumentParser(description="serve FakeGladia for a benchmark")
    p.add_argument("--jobs", type=int, required=True)
    p.add_argument("--seconds", type=float, required=True, help="speech per job transcript")
    p.add_argument("--latency-ms", type=float, default=0.0, help="added to every HTTP response")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--error-rate", type=float, default=0.0, help="share of jobs in error")
    args = p.parse_args()
    asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
