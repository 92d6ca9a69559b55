"""What every command shares: the parsed arguments, the client factory, error lines, and the
checkpoint to print when a stream stops early."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import traceback as tb
from collections.abc import Awaitable, Callable
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from .. import APIConnectionError, APIStatusError, DecodeError, GladiaError, PaginationError

if TYPE_CHECKING:
    from .. import GladiaClient

__all__ = ["Context", "ExitCode", "UsageError", "resumable"]

PROG = "gladia-async"


class ExitCode(IntEnum):
    """The process exit codes, one per kind of outcome."""

    OK = 0
    API = 1
    USAGE = 2
    CONNECTION = 3
    OTHER = 4
    INTERRUPTED = 130
    TERMINATED = 143


class UsageError(Exception):
    """A bad argument found after parsing (bad JSON, missing file): exit code 2."""


class Context:
    """One run of the command line: arguments, output streams and what to say on failure."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.stream: Any = None
        """The ListStream being consumed; its checkpoint is printed if the run stops early."""
        self.stdout_broken = False
        self.terminated = False
        self.hints: list[str] = []
        """Lines for stderr if the run stops early (e.g. the id of a job still running)."""
        self.checkpoint: Any = None
        """A checkpoint a command saved (e.g. at --max-items), used instead of the stream's."""
        self.quiet_interrupt = False
        """Set by commands (fake-server) for which Ctrl-C is the normal way to stop: exit 0."""

    # -- running -------------------------------------------------------------------------

    async def run(self, handler: Callable[[Context], Awaitable[int]]) -> int:
        """Run a command; SIGTERM cancels it like Ctrl-C so streams close and resume hints print."""
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        installed = False
        if task is not None:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signal.SIGTERM, self._terminate, task)
                installed = True
        try:
            return await handler(self)
        finally:
            if installed:
                loop.remove_signal_handler(signal.SIGTERM)

    def _terminate(self, task: asyncio.Task[Any]) -> None:
        self.terminated = True
        task.cancel()

    def client(self, **overrides: Any) -> GladiaClient:
        """A GladiaClient from the global options (env fallbacks happen in the client)."""
        kwargs: dict[str, Any] = {}
        for name in ("base_url", "timeout", "max_retries"):
            value = getattr(self.args, name, None)
            if value is not None:
                kwargs[name] = value
        kwargs.update(overrides)
        api_key = kwargs.pop("api_key", getattr(self.args, "api_key", None))
        from .. import GladiaClient

        return GladiaClient(api_key, **kwargs)

    # -- output --------------------------------------------------------------------------

    def _secret(self) -> str | None:
        key = getattr(self.args, "api_key", None) or os.environ.get("GLADIA_API_KEY")
        return key if key and len(key.strip()) >= 4 else None

    def _scrub(self, text: str) -> str:
        """One line, with the key replaced should any message ever carry it."""
        key = self._secret()
        if key:
            text = text.replace(key.strip(), "***")
        return " ".join(text.split())

    def info(self, text: str) -> None:
        """A line for people on stderr (stdout is for data)."""
        print(text, file=sys.stderr, flush=True)

    def error(
        self, text: str, exc: BaseException | None = None, *, traceback: bool = False
    ) -> None:
        """One error line on stderr: never a traceback unless asked, never the key."""
        if traceback and exc is not None:
            detail = "".join(tb.format_exception(exc))
            print(self._scrub_lines(detail), file=sys.stderr)
        print(f"{PROG}: {self._scrub(text)}", file=sys.stderr, flush=True)

    def _scrub_lines(self, text: str) -> str:
        key = self._secret()
        return text.replace(key.strip(), "***") if key else text

    def resume_token(self, exc: BaseException | None) -> str | None:
        """The checkpoint token to continue from: the exception's, else the open stream's
        (or the one a command saved); None when the command has no --resume or when resuming
        cannot help (see `resumable`)."""
        if not hasattr(self.args, "resume") or not resumable(exc):
            return None
        checkpoint = exc.checkpoint if isinstance(exc, GladiaError) else None
        if checkpoint is None:
            checkpoint = self.checkpoint
        if checkpoint is None and self.stream is not None:
            checkpoint = getattr(self.stream, "checkpoint", None)
        token = getattr(checkpoint, "token", None)
        return token if isinstance(token, str) else None

    def print_resume_hint(self, exc: BaseException | None) -> None:
        """`resume with: --resume TOKEN` on stderr when a stream stopped before its end
        (and any other hint a command left for an early stop)."""
        for hint in self.hints:
            print(hint, file=sys.stderr, flush=True)
        token = self.resume_token(exc)
        if token:
            print(f"resume with: --resume {token}", file=sys.stderr, flush=True)


def resumable(exc: BaseException | None) -> bool:
    """Whether running again from the checkpoint can succeed: after an interruption (None), a
    connection error, 408, 429 or 5xx; not after 400 (bad filter), 401, 403, 404 (wrong key
    or base URL), a refused redirect, a bad configuration or a bug, which fail again."""
    if exc is None or isinstance(exc, APIConnectionError):
        return True
    if isinstance(exc, APIStatusError):
        return exc.status >= 500 or exc.status in (408, 409, 425, 429)
    return isinstance(exc, DecodeError) and not isinstance(exc, PaginationError)
