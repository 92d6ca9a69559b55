"""A FakeGladia running on its own thread and loop, so tests can call the CLI's synchronous
`main()` (which runs its own event loop) against it in-process, point a subprocess at it, or
count the test loop's tasks without the server's; and helpers to run `python -m gladia_async`."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from gladia_async.testing import FakeGladia

T = TypeVar("T")

KEY = "cli-test-key-0123456789"


class FakeThread:
    """`with FakeThread(jobs=50) as ft:` -> ft.url, ft.call(lambda fake: ...)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("api_key", KEY)
        self.kwargs = kwargs
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="fake-gladia", daemon=True)
        self.ready = threading.Event()
        self.fake: FakeGladia | None = None
        self.error: BaseException | None = None
        self._stop: asyncio.Event | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to the test thread
            self.error = exc
            self.ready.set()
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with FakeGladia(**self.kwargs) as fake:
            self.fake = fake
            self.ready.set()
            await self._stop.wait()

    def __enter__(self) -> FakeThread:
        self.thread.start()
        self.ready.wait(60)
        if self.error is not None:
            raise self.error
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(30)

    @property
    def url(self) -> str:
        assert self.fake is not None
        return str(self.fake.url)

    @property
    def port(self) -> int:
        assert self.fake is not None
        return int(self.fake.port)

    def call(self, func: Callable[[FakeGladia], T]) -> T:
        """Run `func(fake)` on the fake's loop thread and return its result."""
        assert self.fake is not None
        fake = self.fake

        async def run() -> T:
            return func(fake)

        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(run(), self.loop)
        return future.result(30)

    def acall(self, func: Callable[[FakeGladia], Awaitable[T]]) -> T:
        """Await `func(fake)` on the fake's loop and return its result."""
        assert self.fake is not None
        fake = self.fake

        async def run() -> T:
            return await func(fake)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(30)


def cli_env(**extra: str) -> dict[str, str]:
    """The environment for a CLI subprocess: no inherited GLADIA_* settings, unbuffered output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLADIA_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


async def start_cli(*args: str, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    """Start `python -m gladia_async ARGS` with piped stdout/stderr and no stdin."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gladia_async",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env if env is not None else cli_env(),
    )


async def run_cli(
    *args: str, env: dict[str, str] | None = None, limit: float = 60.0
) -> tuple[int, str, str]:
    """Run `python -m gladia_async ARGS` to completion: (exit code, stdout, stderr)."""
    proc = await start_cli(*args, env=env)
    try:
        async with asyncio.timeout(limit):
            out, err = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.communicate()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")
