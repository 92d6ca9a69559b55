"""The public surface is pinned: CONTRACT.md names exist; `__all__` is unique and importable.

(ruff RUF022 keeps `__all__` sorted.)
"""

from __future__ import annotations

import re

import gladia_async
import gladia_async._errors
import gladia_async.types

CONTRACT_NAMES = {
    "GladiaClient",
    "GladiaError",
    "GladiaConfigError",
    "GladiaClientClosed",
    "APIConnectionError",
    "APITimeoutError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "UnprocessableEntityError",
    "RateLimitError",
    "InternalServerError",
    "DecodeError",
    "UnsafeURLError",
    "JobFailedError",
    "ListStream",
    "Checkpoint",
}
CONTRACT_TYPES = {
    "PreRecordedJob",
    "LiveJob",
    "Page",
    "CreatedJob",
    "UploadResult",
    "TranscriptionResult",
    "Utterance",
    "Word",
}


def test_all_is_unique_and_importable() -> None:
    for module in (gladia_async, gladia_async.types):
        names = module.__all__
        assert len(names) == len(set(names)), module.__name__
        for name in names:
            assert getattr(module, name) is not None, name


def test_contract_names_are_exported() -> None:
    assert CONTRACT_NAMES <= set(gladia_async.__all__)
    assert CONTRACT_TYPES <= set(gladia_async.types.__all__)


def test_every_error_derives_from_gladia_error() -> None:
    for name in gladia_async.__all__:
        obj = getattr(gladia_async, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert issubclass(obj, gladia_async.GladiaError), name


def test_status_errors_form_the_documented_tree() -> None:
    g = gladia_async
    for cls in (
        g.BadRequestError,
        g.AuthenticationError,
        g.PermissionDeniedError,
        g.NotFoundError,
        g.UnprocessableEntityError,
        g.RateLimitError,
        g.InternalServerError,
    ):
        assert issubclass(cls, g.APIStatusError)
    assert issubclass(g.APITimeoutError, g.APIConnectionError)
    assert issubclass(g.PaginationError, g.DecodeError)


def test_errors_docstring_tree_matches_the_classes() -> None:
    """The _errors docstring tree draws every error class under its real base, and no other."""
    drawn: dict[str, str] = {}
    parents = ["GladiaError"]
    for line in (gladia_async._errors.__doc__ or "").splitlines():
        match = re.match(r"(\W*)[├└]── (\w+)", line)
        if match:
            depth = len(match.group(1)) // 4
            del parents[depth:]
            drawn[match.group(2)] = parents[-1]
            parents.append(match.group(2))

    def subclasses(cls: type) -> list[type]:
        return [s for c in cls.__subclasses__() for s in (c, *subclasses(c))]

    real = {
        cls.__name__: next(b for b in cls.__bases__ if issubclass(b, gladia_async.GladiaError))
        for cls in subclasses(gladia_async.GladiaError)
        if cls.__module__.startswith("gladia_async.")
    }
    assert {name: base.__name__ for name, base in real.items()} == drawn


WEB_BACKEND_NAMES = {
    "EventHooks",
    "RequestEvent",
    "ResponseEvent",
    "RetryEvent",
    "PageEvent",
    "RawResponse",
    "current_attempt",
    "otel_request_hook",
}


def test_web_backend_surface() -> None:
    """Per-call options, raw responses, hooks and tracing helpers (README "In a web backend")."""
    assert WEB_BACKEND_NAMES <= set(gladia_async.__all__)
    client = gladia_async.GladiaClient
    assert callable(client.with_options) and hasattr(client, "with_raw_response")
    hooks = gladia_async.EventHooks
    assert {"on_request", "on_response", "on_retry", "on_page"} <= set(vars(hooks))
    raw = gladia_async.RawResponse
    for name in ("status", "headers", "request_id", "elapsed", "retries", "parse", "content"):
        assert hasattr(raw, name), name
    stats = gladia_async.StreamStats()
    assert stats.retries == 0 and stats.last_headers is None
