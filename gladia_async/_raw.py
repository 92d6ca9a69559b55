"""Raw responses: `gladia.with_raw_response.pre_recorded.get(id)` returns the status, headers,
request id, timing and retry count of the call, with `.parse()` for the usual typed result.

Every method of the usual resources runs unchanged; the transport appends each 2xx response to
a context-local list while a raw call runs, and the raw wrapper reports the last one (for a
method making several requests, e.g. `wait`, the one that produced the result).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Generic, ParamSpec, TypeVar

from ._errors import DecodeError
from ._hooks import request_id_of
from ._transport import RESPONSES, Response

if TYPE_CHECKING:
    from ._client import GladiaClient

__all__ = ["ClientWithRawResponse", "RawResponse", "to_raw_response"]

P = ParamSpec("P")
T = TypeVar("T")


class RawResponse(Generic[T]):
    """The HTTP side of one call: `status`, `headers`, `request_id`, `elapsed`, `retries`, the
    body as `content`; `parse()` returns what the usual method returns (or raises its
    DecodeError: a body that does not decode still shows its headers here)."""

    __slots__ = (
        "_elapsed",
        "_error",
        "_result",
        "content",
        "headers",
        "method",
        "retries",
        "status",
        "url",
    )

    def __init__(
        self, method: str, resp: Response, result: T | None, error: DecodeError | None = None
    ) -> None:
        self.method = method
        self.url = resp.url
        self.status = resp.status
        self.headers: Mapping[str, str] = resp.headers
        """Response headers (case-insensitive)."""
        self.content = resp.body
        self.retries = resp.retries
        """Retries the transport made before this response (0: the first attempt succeeded)."""
        self._elapsed = resp.elapsed
        self._result = result
        self._error = error

    @property
    def request_id(self) -> str | None:
        """The server's request id (`x-request-id` or `x-aipi-call-id` header), if it sent one."""
        return request_id_of(self.headers)

    @property
    def elapsed(self) -> dt.timedelta:
        """From the first attempt to the end of the body: retries and backoff included."""
        return dt.timedelta(seconds=self._elapsed)

    def parse(self) -> T:
        """The typed result, as the usual (non-raw) method returns it."""
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"<RawResponse {self.method} {self.url} {self.status} retries={self.retries}>"


def to_raw_response(func: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[RawResponse[T]]]:
    """Wrap a resource method so that it returns a RawResponse around its result."""

    @functools.wraps(func)
    async def raw(*args: P.args, **kwargs: P.kwargs) -> RawResponse[T]:
        seen: list[tuple[str, Response]] = []
        token = RESPONSES.set(seen)
        try:
            result = await func(*args, **kwargs)
        except DecodeError as exc:
            if not seen:
                raise
            return RawResponse(*seen[-1], None, exc)
        finally:
            RESPONSES.reset(token)
        return RawResponse(*seen[-1], result)

    return raw


class PreRecordedWithRawResponse:
    """`gladia.with_raw_response.pre_recorded`: the request-making methods, raw."""

    def __init__(self, client: GladiaClient) -> None:
        res = client.pre_recorded
        self.create = to_raw_response(res.create)
        self.get = to_raw_response(res.get)
        self.delete = to_raw_response(res.delete)
        self.wait = to_raw_response(res.wait)
        self.transcribe = to_raw_response(res.transcribe)
        self.download_file = to_raw_response(res.download_file)
        self.list_page = to_raw_response(res.list_page)


class LiveWithRawResponse:
    """`gladia.with_raw_response.live`: the request-making REST methods, raw."""

    def __init__(self, client: GladiaClient) -> None:
        res = client.live
        self.create = to_raw_response(res.create)
        self.get = to_raw_response(res.get)
        self.delete = to_raw_response(res.delete)
        self.download_file = to_raw_response(res.download_file)
        self.list_page = to_raw_response(res.list_page)


class ClientWithRawResponse:
    """`gladia.with_raw_response`: the client's methods returning `RawResponse[T]`.

    Streams (`list`, `get_many`, `stream_file`) are not here: a ListStream reports its last
    page's headers and its retries in `stream.stats`.
    """

    def __init__(self, client: GladiaClient) -> None:
        self.pre_recorded = PreRecordedWithRawResponse(client)
        self.live = LiveWithRawResponse(client)
        self.upload = to_raw_response(client.upload.upload)
        self.upload_url = to_raw_response(client.upload.upload_url)
