"""A progress bar on stderr when tqdm is installed (the `cli` extra), and nothing otherwise.

tqdm is imported lazily so the command line works without it; the bar writes to stderr only,
so stdout stays clean for data.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import IO, Any, Protocol

__all__ = ["Progress", "make_progress", "want_progress"]


class Progress(Protocol):
    """What the commands need from a progress bar."""

    def update(self, n: int = 1) -> None: ...

    def set_postfix_str(self, text: str) -> None: ...

    def close(self) -> None: ...


class NullProgress:
    """No bar: used when progress is off or tqdm is missing."""

    def update(self, n: int = 1) -> None:
        """Count nothing."""

    def set_postfix_str(self, text: str) -> None:
        """Show nothing."""

    def close(self) -> None:
        """Nothing to close."""


class _TqdmProgress:
    """tqdm behind the Progress protocol (tqdm's own names, so this is a thin pass-through)."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar

    def update(self, n: int = 1) -> None:
        self.bar.update(n)

    def set_postfix_str(self, text: str) -> None:
        self.bar.set_postfix_str(text, refresh=False)

    def close(self) -> None:
        self.bar.close()


def want_progress(flag: bool | None, stream: IO[str] | None = None) -> bool:
    """--progress / --no-progress win; otherwise show a bar only when stderr is a terminal."""
    if flag is not None:
        return flag
    stream = stream if stream is not None else sys.stderr
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _width() -> dict[str, Any]:
    """Follow the terminal's width when it has one; else 100 columns (a pty without a size
    makes tqdm draw an empty bar)."""
    try:
        if os.get_terminal_size(sys.stderr.fileno()).columns > 0:
            return {"dynamic_ncols": True}
    except (AttributeError, ValueError, OSError):
        pass
    return {"ncols": shutil.get_terminal_size((100, 24)).columns or 100}


def make_progress(
    enabled: bool, *, total: int | None = None, desc: str = "", unit: str = "job"
) -> Progress:
    """A tqdm bar on stderr if enabled and tqdm is importable, else a NullProgress."""
    if not enabled:
        return NullProgress()
    try:
        from tqdm import tqdm
    except ImportError:
        return NullProgress()
    bar = tqdm(
        total=total,
        desc=desc or None,
        unit=unit,
        file=sys.stderr,
        mininterval=0.2,
        leave=True,
        **_width(),
    )
    return _TqdmProgress(bar)
