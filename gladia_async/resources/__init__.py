"""API resources: each method is one request (or a few) followed by a typed decode.

`job_path()` is shared by the pre-recorded and live resources: it validates a job id before any I/O.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .._errors import GladiaConfigError

__all__ = ["job_id_of", "job_path"]


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
