"""The `gladia-async` command line (also `python -m gladia_async`).

`main(argv) -> int` parses, runs one command over the public API and maps every failure to
one line on stderr and a distinct exit code; the console script calls `sys.exit(main())`.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Sequence

from . import (
    APIConnectionError,
    APIStatusError,
    GladiaConfigError,
    GladiaError,
)
from .cli._context import Context, ExitCode, UsageError
from .cli._parser import build_parser

__all__ = ["build_parser", "main"]


class _StderrHandler(logging.Handler):
    """Writes to whatever sys.stderr is at the time of the record (test capture included)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


_HANDLER = _StderrHandler()


def _setup_logging(verbose: bool) -> None:
    """--verbose: the library's DEBUG records on stderr (the client redacts the key itself)."""
    logger = logging.getLogger("gladia_async")
    if verbose:
        logger.setLevel(logging.DEBUG)
        if _HANDLER not in logger.handlers:
            logger.addHandler(_HANDLER)
    else:
        logger.setLevel(logging.NOTSET)
        logger.removeHandler(_HANDLER)


def _exit_code(exc: BaseException) -> int:
    if isinstance(exc, GladiaConfigError | UsageError):
        return ExitCode.USAGE
    if isinstance(exc, APIStatusError):
        return ExitCode.API
    if isinstance(exc, APIConnectionError):
        return ExitCode.CONNECTION
    return ExitCode.OTHER


def _describe(exc: BaseException) -> str:
    if isinstance(exc, UsageError):
        return str(exc)
    if isinstance(exc, GladiaError):
        return f"{type(exc).__name__}: {exc}"
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}"
    return f"{type(exc).__name__}: {exc}"


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the exit flush cannot fail again."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _load_handler(spec: str) -> Callable[[Context], Awaitable[int]]:
    """Import a command's module only when it runs (the demo's fake API is not cheap to load)."""
    module_name, _, name = spec.partition(".")
    module = importlib.import_module(f".cli.{module_name}", __package__)
    handler: Callable[[Context], Awaitable[int]] = getattr(module, name)
    return handler


def _stopped(ctx: Context, what: str, code: int) -> int:
    """Ctrl-C or SIGTERM: fake-server ends quietly (0); others say so and print the checkpoint."""
    if ctx.quiet_interrupt:
        ctx.info("stopped")
        return ExitCode.OK
    ctx.error(what)
    ctx.print_resume_hint(None)
    return code


def _restore_sigint() -> None:
    """Started with SIGINT ignored (background jobs, some process managers): take Ctrl-C back,
    so an interrupt stops the command and prints where to resume."""
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    ):
        signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (the console script exits with it)."""
    _restore_sigint()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else ExitCode.USAGE
    _setup_logging(args.verbose)
    ctx = Context(args)
    try:
        code = asyncio.run(ctx.run(_load_handler(args.handler)))
    except KeyboardInterrupt:
        return _stopped(ctx, "interrupted", ExitCode.INTERRUPTED)
    except asyncio.CancelledError:
        if not ctx.terminated:
            raise
        return _stopped(ctx, "terminated", ExitCode.TERMINATED)
    except (GladiaError, UsageError, OSError) as exc:
        if isinstance(exc, BrokenPipeError):
            _silence_stdout()
            return ExitCode.OK
        ctx.error(_describe(exc), exc)
        ctx.print_resume_hint(exc)
        return _exit_code(exc)
    except Exception as exc:  # a bug: still one line, the traceback only with --verbose
        ctx.error(f"unexpected {_describe(exc)}", exc, traceback=args.verbose)
        ctx.print_resume_hint(exc)
        return ExitCode.OTHER
    if ctx.stdout_broken:
        _silence_stdout()
    return code
