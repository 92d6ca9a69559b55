"""Programmable faults and the request log of the fake API.

A Fault names a route pattern, which matching requests it hits (request numbers, a count,
a seeded probability) and what goes wrong. The request log records what clients sent.
"""

from __future__ import annotations

import fnmatch
import random
from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

__all__ = ["Fault", "FaultKind", "FaultSet", "RecordedRequest", "RequestLog"]

FaultKind = Literal[
    "latency",
    "status",
    "reset",
    "truncate",
    "malformed_json",
    "html",
    "huge",
    "foreign_next",
    "redirect",
    "hook",
    "ws_drop",
]
FAULT_KINDS: tuple[str, ...] = FaultKind.__args__  # type: ignore[attr-defined]

Hook = Callable[[Any], "Awaitable[Any] | Any"]


@dataclass(eq=False)
class Fault:
    """One programmable fault; see the gladia_async.testing docstring for every kind.

    `on`: request numbers (1-based, counted over the requests matching `route`) to hit;
    `times`: most injections (None = unlimited); `probability`: chance per eligible request,
    drawn from the fake's seeded RNG. `delay` (seconds) is slept before any kind.
    """

    route: str = "*"
    kind: FaultKind = "status"
    status: int = 503
    retry_after: float | str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    message: str | None = None
    delay: float = 0.0
    on: Collection[int] | None = None
    times: int | None = 1
    probability: float = 1.0
    size: int = 600 * 1024 * 1024
    foreign_origin: str = "http://evil.example"
    redirect_status: int = 307
    hook: Hook | None = None
    after_frames: int = 1
    close_code: int = 1011
    seen: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {FAULT_KINDS}")
        if self.kind == "hook" and self.hook is None:
            raise ValueError("a 'hook' fault needs hook=callable(fake)")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be in [0, 1]")

    @classmethod
    def rate_limit(cls, route: str = "*", *, retry_after: float | str = 1, **kw: Any) -> Fault:
        """A 429 with Retry-After (seconds)."""
        return cls(route=route, kind="status", status=429, retry_after=retry_after, **kw)

    @property
    def exhausted(self) -> bool:
        """True once `times` injections happened."""
        return self.times is not None and self.fired >= self.times

    def matches(self, route: str) -> bool:
        """Whether this fault's route pattern covers a route name."""
        return fnmatch.fnmatchcase(route, self.route)


class FaultSet:
    """The faults of one fake: add, remove, clear; picks the fault (if any) for a request."""

    def __init__(self, seed: int = 0) -> None:
        self._faults: list[Fault] = []
        self._rng = random.Random(f"faults-{seed}")

    def __iter__(self) -> Iterator[Fault]:
        return iter(list(self._faults))

    def __len__(self) -> int:
        return len(self._faults)

    def add(self, fault: Fault) -> Fault:
        """Install a fault and return it (its .seen/.fired counters update as requests come)."""
        self._faults.append(fault)
        return fault

    def remove(self, fault: Fault) -> None:
        """Uninstall a fault (no error if absent)."""
        if fault in self._faults:
            self._faults.remove(fault)

    def clear(self) -> None:
        """Uninstall every fault."""
        self._faults.clear()

    def pick(self, route: str) -> list[Fault]:
        """Count the request on every matching fault; return those that fire, in add order."""
        out = []
        for f in self._faults:
            if not f.matches(route):
                continue
            f.seen += 1
            if f.exhausted or (f.on is not None and f.seen not in f.on):
                continue
            if f.probability < 1.0 and self._rng.random() >= f.probability:
                continue
            f.fired += 1
            out.append(f)
        return out


@dataclass
class RecordedRequest:
    """One request the fake received. Headers are kept for assertions but never printed."""

    method: str
    path: str
    query: list[tuple[str, str]]
    route: str
    headers: Mapping[str, str] = field(repr=False)
    body_size: int = 0
    status: int | None = None
    fault: str | None = None

    def param(self, key: str) -> str | None:
        """The first value of a query parameter, or None."""
        return next((v for k, v in self.query if k == key), None)


class RequestLog(Sequence[RecordedRequest]):
    """Every request received, oldest first (WebSocket handshakes included, route 'live.ws')."""

    def __init__(self) -> None:
        self._items: list[RecordedRequest] = []

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i: Any) -> Any:
        return self._items[i]

    def __repr__(self) -> str:
        return f"RequestLog({len(self._items)} requests)"

    def append(self, item: RecordedRequest) -> None:
        """Record a request (used by the server)."""
        self._items.append(item)

    def for_route(self, pattern: str = "*") -> list[RecordedRequest]:
        """Requests whose route name matches an fnmatch pattern."""
        return [r for r in self._items if fnmatch.fnmatchcase(r.route, pattern)]

    def count(self, route: Any = "*") -> int:
        """How many requests matched a route pattern."""
        return len(self.for_route(route))

    @property
    def last(self) -> RecordedRequest | None:
        """The latest request, or None."""
        return self._items[-1] if self._items else None

    def clear(self) -> None:
        """Forget every recorded request."""
        self._items.clear()


# web.RequestKey is aiohttp >= 3.14; older releases take plain string keys without a warning.
if hasattr(web, "RequestKey"):
    WS_DROP: Any = web.RequestKey("ws_drop", Fault)
    FOREIGN_NEXT: Any = web.RequestKey("foreign_next", Fault)
else:  # pragma: no cover - exercised by the lowest-versions CI entry
    WS_DROP = "ws_drop"
    FOREIGN_NEXT = "foreign_next"
FAULT_KEYS = {"ws_drop": WS_DROP, "foreign_next": FOREIGN_NEXT}
