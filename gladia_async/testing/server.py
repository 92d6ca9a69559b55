"""FakeGladia: run the fake API on a loopback port (async context manager) and `serve()`.

``serve(host="127.0.0.1", port=8080, *, jobs=1000, seed=0, latency_ms=0.0,
api_key="test-key", allow_non_loopback=False, live_jobs=0) -> None`` is the blocking entry
point the CLI's ``fake-server`` command calls; it runs until interrupted (Ctrl-C).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiohttp import web

from .._config import is_loopback_host
from .app import build_app
from .data import DataSpec
from .faults import Fault, FaultKind, FaultSet, RequestLog
from .live_ws import LiveHub
from .store import JobRecord, Store, build_store

__all__ = ["FakeGladia", "Lifecycle", "serve"]


@dataclass(frozen=True)
class Lifecycle:
    """How created pre-recorded jobs progress: seconds queued, then processing, then done.

    `error_rate`: chance (seeded) that a job ends in `error` (with `error_code`) instead.
    `auto=False`: jobs stay queued until the test moves them with `fake.store.set_status`.
    """

    queued: float = 0.1
    processing: float = 0.4
    error_rate: float = 0.0
    error_code: int = 500
    auto: bool = True


class FakeGladia:
    """The fake Gladia API on a free loopback port; see the gladia_async.testing docstring."""

    def __init__(
        self,
        *,
        api_key: str = "test-key",
        jobs: int = 0,
        live_jobs: int = 0,
        seed: int = 0,
        transcript_seconds: float | tuple[float, float] | None = None,
        data: DataSpec | None = None,
        store: Store | None = None,
        lifecycle: Lifecycle | None = None,
        latency_ms: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        allow_non_loopback: bool = False,
        next_on_full_last_page: bool = False,
        live_utterance_seconds: float = 2.0,
        max_offset: int | None = None,
        offset_latency_ms: float = 0.0,
        before_inclusive: bool = False,
        after_inclusive: bool = False,
        oldest_first: bool = False,
        ties: int = 0,
        delete_rate: float = 0.0,
        delete_max: int | None = None,
    ) -> None:
        if not allow_non_loopback and not is_loopback_host(host):
            raise ValueError(
                f"FakeGladia binds loopback only; got host {host!r} "
                "(pass allow_non_loopback=True to override)"
            )
        if not api_key:
            raise ValueError("api_key must be a non-empty string")
        self.api_key = api_key
        self.host = host
        self.seed = seed
        self.latency_ms = latency_ms
        self.lifecycle = lifecycle or Lifecycle()
        self.next_on_full_last_page = next_on_full_last_page
        self.live_utterance_seconds = live_utterance_seconds
        self.max_offset = max_offset
        self.offset_latency_ms = offset_latency_ms
        self.before_inclusive = before_inclusive
        self.after_inclusive = after_inclusive
        self.oldest_first = oldest_first
        self.ties = ties
        self.delete_rate = delete_rate
        self.delete_max = delete_max
        self.deleted: list[str] = []
        """Ids removed by ``delete_rate`` (in order)."""
        self._delete_rng = random.Random(f"delete-{seed}")
        self._requested_port = port
        self._data = data or DataSpec(
            jobs=jobs, live_jobs=live_jobs, seed=seed, transcript_seconds=transcript_seconds
        )
        self.store: Store = store if store is not None else Store(seed=seed)
        self._generate = store is None
        self.faults = FaultSet(seed)
        self.requests = RequestLog()
        self.stats: dict[str, int] = {"requests": 0, "faults_injected": 0, "ws_connections": 0}
        self.rng = random.Random(f"fake-{seed}")
        self._lifecycle_rng = random.Random(f"lifecycle-{seed}")
        self.live = LiveHub(self)
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._timers: set[asyncio.TimerHandle] = set()

    def __repr__(self) -> str:
        state = f"url={self.url!r}" if self._runner else "stopped"
        return f"FakeGladia({state}, jobs={len(self.store)})"

    @property
    def url(self) -> str:
        """The base URL to give a client: http://127.0.0.1:PORT."""
        return f"http://{self._url_host()}:{self.port}"

    @property
    def ws_url(self) -> str:
        """The WebSocket origin: ws://127.0.0.1:PORT."""
        return f"ws://{self._url_host()}:{self.port}"

    def _url_host(self) -> str:
        host = self.host
        if host in ("0.0.0.0", ""):
            return "127.0.0.1"
        return f"[{host}]" if ":" in host else host

    def inject(self, route: str = "*", kind: FaultKind = "status", **kwargs: Any) -> Fault:
        """Shortcut for ``fake.faults.add(Fault(route=route, kind=kind, **kwargs))``."""
        return self.faults.add(Fault(route=route, kind=kind, **kwargs))

    async def start(self) -> FakeGladia:
        """Generate the data (if any) and start listening."""
        if self._runner is not None:
            return self
        if self._generate and (self._data.jobs or self._data.live_jobs):
            if self._data.jobs + self._data.live_jobs > 20_000:
                self.store = await asyncio.to_thread(build_store, self._data)
            else:
                self.store = build_store(self._data)
            self._generate = False
            if self.ties:
                self.store.tie(self.ties, seed=self.seed)
        runner = web.AppRunner(
            build_app(self), access_log=None, handle_signals=False, shutdown_timeout=0.5
        )
        await runner.setup()
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self._requested_port))
            sock.listen(128)
            sock.setblocking(False)
        except OSError:
            sock.close()
            await runner.cleanup()
            raise
        self.port = sock.getsockname()[1]
        try:
            await web.SockSite(runner, sock).start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self._runner = runner
        return self

    async def close(self) -> None:
        """Stop listening, close live sockets and cancel pending lifecycle timers."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        runner, self._runner = self._runner, None
        if runner is not None:
            await self.live.close_all()
            await runner.cleanup()

    async def __aenter__(self) -> FakeGladia:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def delete_during_list(self, kind: str) -> None:
        """``delete_rate``: before serving a list request, delete that many random finished
        jobs on average (seeded), at most ``delete_max`` in all; ids go to ``self.deleted``."""
        rate = self.delete_rate
        if rate <= 0:
            return
        rng = self._delete_rng
        n = int(rate) + (rng.random() < rate - int(rate))
        if self.delete_max is not None:
            n = min(n, self.delete_max - len(self.deleted))
        self.deleted += self.store.delete_random(n, kind, rng)

    def schedule(self, rec: JobRecord) -> None:
        """Run a created job's lifecycle: queued -> processing -> done (or error)."""
        lc = self.lifecycle
        if not lc.auto:
            return
        loop = asyncio.get_running_loop()
        fail = lc.error_rate > 0 and self._lifecycle_rng.random() < lc.error_rate

        def move(status: str) -> None:
            if self.store.get(rec.id) is rec and rec.status not in ("done", "error"):
                self.store.set_status(rec.id, status, error_code=lc.error_code)

        def later(delay: float, status: str) -> None:
            handle: asyncio.TimerHandle

            def fire() -> None:
                self._timers.discard(handle)
                move(status)

            handle = loop.call_later(delay, fire)
            self._timers.add(handle)

        later(lc.queued, "processing")
        later(lc.queued + lc.processing, "error" if fail else "done")


def serve(
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    jobs: int = 1000,
    seed: int = 0,
    latency_ms: float = 0.0,
    api_key: str = "test-key",
    allow_non_loopback: bool = False,
    live_jobs: int = 0,
) -> None:
    """Run a FakeGladia on host:port until interrupted (blocking; for `gladia-async fake-server`).

    Raises ValueError for a non-loopback host unless allow_non_loopback, OSError if the port
    is taken.
    """

    async def main() -> None:
        fake = FakeGladia(
            api_key=api_key,
            jobs=jobs,
            live_jobs=live_jobs,
            seed=seed,
            latency_ms=latency_ms,
            host=host,
            port=port,
            allow_non_loopback=allow_non_loopback,
        )
        async with fake:
            print(f"Fake Gladia API listening on {fake.url} ({len(fake.store)} jobs)", flush=True)
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
