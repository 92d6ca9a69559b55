"""API resources: each method is one request (or a few) followed by a typed decode.

Shared by the pre-recorded and live resources: `job_path()` validates a job id and
`build_body()` a request body, both before any I/O.
"""

from __future__ import annotations

import difflib
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import msgspec

from .._errors import GladiaConfigError

__all__ = ["HasId", "JobRef", "build_body", "job_id_of", "job_path"]


class HasId(Protocol):
    """Anything with a job `id`: CreatedJob, LiveSession, a job or its summary."""

    @property
    def id(self) -> str: ...


JobRef = str | HasId
"""A job id, or an object carrying it."""

S = TypeVar("S", bound=msgspec.Struct)


def build_body(type_: type[S], request: S | None, options: dict[str, Any], what: str) -> S:
    """A request Struct from a ready one or keyword options; a typo gets a "did you mean" hint.

    `what` names the request in messages ("pre-recorded", "live").
    """
    name = type_.__name__
    if request is not None:
        if options:
            raise GladiaConfigError(f"pass a {name} or keyword options, not both")
        if not isinstance(request, type_):
            raise GladiaConfigError(f"expected a {name}, not {type(request).__name__}")
        return request
    fields = type_.__struct_fields__
    for option in options:
        if option not in fields:
            hint = difflib.get_close_matches(option, fields, n=1)
            suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
            raise GladiaConfigError(f"unknown {what} option {option!r}{suggestion}")
    try:
        return msgspec.convert(options, type_)
    except msgspec.ValidationError as exc:
        raise GladiaConfigError(f"invalid {what} option: {exc}") from exc


def job_id_of(job: Any) -> str:
    """The id of `job` (a str, or any object with a str `id`, e.g. CreatedJob), validated.

    Empty ids, '/', '\\', '.', '..' and control characters raise GladiaConfigError, so a
    caller-supplied id can never address another endpoint.
    """
    job_id = job if isinstance(job, str) else getattr(job, "id", None)
    if (
        not isinstance(job_id, str)
        or not job_id.strip()
        or job_id in (".", "..")
        or any(c in job_id for c in "/\\?#")
        or any(ord(c) < 0x20 or ord(c) == 0x7F for c in job_id)
    ):
        raise GladiaConfigError(f"invalid job id: {job_id!r}")
    return job_id


def job_path(base: str, job: Any, suffix: str = "") -> str:
    """`base/<quoted id><suffix>` for a validated job id, e.g. "/v2/pre-recorded/ID/file"."""
    return f"{base}/{quote(job_id_of(job), safe='')}{suffix}"
