"""`gladia.pre_recorded`: create, get, delete, wait for and transcribe pre-recorded jobs.

Listing (`list`, `list_page`, `get_many`) comes from JobCollection; this module adds the per-job
calls. Option names and types are checked before any I/O: a typo raises GladiaConfigError.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, ClassVar

from .._decode import decode
from .._errors import GladiaConfigError, JobFailedError, WaitTimeoutError
from .._transport import Headers, Query, Transport
from ..types.lean import PreRecordedJobSummary
from ..types.pre_recorded import CreatedJob, PreRecordedJob, PreRecordedRequest
from . import JobRef, build_body, decode_job, job_path, with_extra_body
from ._listing import JobCollection
from .upload import UploadResource, UploadSource, is_url

__all__ = ["DEFAULT_MAX_POLL_INTERVAL", "DEFAULT_POLL_INTERVAL", "PreRecordedResource"]

DEFAULT_POLL_INTERVAL = 2.0
"""Seconds between the first polls of `wait()`; the interval grows 1.5x per poll ..."""
DEFAULT_MAX_POLL_INTERVAL = 30.0
"""... up to this many seconds."""


def build_request(
    request: PreRecordedRequest | Mapping[str, Any] | None, options: dict[str, Any]
) -> PreRecordedRequest:
    """A PreRecordedRequest from a ready request, a dict or keyword options, checked before I/O."""
    given = request if isinstance(request, Mapping) else options if request is None else None
    if given is not None and not given.get("audio_url"):
        raise GladiaConfigError("audio_url is required (upload a file first, or use transcribe())")
    return build_body(PreRecordedRequest, request, options, "pre-recorded")


class PreRecordedResource(JobCollection[PreRecordedJob, PreRecordedJobSummary]):
    """Pre-recorded transcription jobs (`/v2/pre-recorded`): create, wait, transcribe.

    `get`, `delete`, `download_file`, `stream_file` and the listing come from JobCollection.
    """

    _path: ClassVar[str] = "/v2/pre-recorded"
    _item_type: ClassVar[type[PreRecordedJob]] = PreRecordedJob
    _lean_type: ClassVar[type[PreRecordedJobSummary]] = PreRecordedJobSummary

    def __init__(self, transport: Transport, upload: UploadResource) -> None:
        self._transport = transport
        self._upload = upload

    async def create(
        self,
        request: PreRecordedRequest | Mapping[str, Any] | None = None,
        /,
        *,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        **options: Any,
    ) -> CreatedJob:
        """Start a job: `create(audio_url=..., diarization=True, ...)`, `create(request)` or
        `create({"audio_url": ..., ...})`.

        Keyword options are the fields of PreRecordedRequest (config blocks as Structs or dicts).
        `extra_body` keys are merged over the JSON as given: for API fields newer than this
        client. The POST is never sent twice unless the first attempt provably never left the
        machine.
        """
        body = with_extra_body(build_request(request, options), extra_body)
        resp = await self._transport.request(
            "POST",
            self._path,
            json=body,
            idempotent=False,
            extra_headers=extra_headers,
            extra_query=extra_query,
        )
        return decode(resp.body, CreatedJob, url=resp.url)

    async def wait(
        self,
        job_id: JobRef,
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        max_poll_interval: float = DEFAULT_MAX_POLL_INTERVAL,
        timeout: float | None = None,  # noqa: ASYNC109 (overall deadline, documented API)
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
    ) -> PreRecordedJob:
        """Poll until the job is `done` and return it; raise JobFailedError once it is `error`.

        The interval starts at `poll_interval` and grows 1.5x per poll up to `max_poll_interval`.
        `timeout` (seconds, None = no limit) bounds the whole wait: WaitTimeoutError (with the
        last state seen as `.job`) when it expires. Cancelling the caller stops polling at once.
        `extra_headers`/`extra_query` go with every poll.
        """
        path = job_path(self._path, job_id)
        if poll_interval <= 0 or max_poll_interval <= 0:
            raise GladiaConfigError("poll intervals must be positive")
        deadline = asyncio.timeout(timeout)
        job: PreRecordedJob | None = None
        try:
            async with deadline:
                interval = poll_interval
                while True:
                    resp = await self._transport.request(
                        "GET", path, extra_headers=extra_headers, extra_query=extra_query
                    )
                    job = decode_job(resp.body, PreRecordedJob, url=resp.url)
                    if job.status == "done":
                        return job
                    if job.status == "error":
                        raise JobFailedError(job)
                    await self._transport.sleep(interval)
                    interval = min(interval * 1.5, max(max_poll_interval, poll_interval))
        except TimeoutError:
            if not deadline.expired():
                raise
            status = job.status if job is not None else "unknown"
            raise WaitTimeoutError(
                f"job {path.rsplit('/', 1)[-1]} not finished after {timeout}s (status: {status})",
                job=job,
            ) from None

    async def transcribe(
        self,
        source: UploadSource,
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        max_poll_interval: float = DEFAULT_MAX_POLL_INTERVAL,
        timeout: float | None = None,  # noqa: ASYNC109 (bounds the wait, documented API)
        filename: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Headers | None = None,
        extra_query: Query | None = None,
        **options: Any,
    ) -> PreRecordedJob:
        """Upload `source` if it is not an http(s) URL, create a job, wait for it to be done.

        `options` are PreRecordedRequest fields and `extra_body` is passed to `create()`, both
        checked before the upload starts. `timeout` bounds the wait for the result (not the
        upload). `extra_headers`/`extra_query` go with every request (upload, create and each
        poll).
        """
        if "audio_url" in options:
            raise GladiaConfigError("transcribe() takes the audio as `source`, not audio_url=")
        with_extra_body(
            build_request(None, {**options, "audio_url": "https://placeholder.invalid"}),
            extra_body,
        )
        if is_url(source):
            assert isinstance(source, str)
            audio_url = source
        else:
            uploaded = await self._upload.upload(
                source, filename=filename, extra_headers=extra_headers, extra_query=extra_query
            )
            audio_url = uploaded.audio_url
        created = await self.create(
            audio_url=audio_url,
            extra_body=extra_body,
            extra_headers=extra_headers,
            extra_query=extra_query,
            **options,
        )
        return await self.wait(
            created.id,
            poll_interval=poll_interval,
            max_poll_interval=max_poll_interval,
            timeout=timeout,
            extra_headers=extra_headers,
            extra_query=extra_query,
        )
