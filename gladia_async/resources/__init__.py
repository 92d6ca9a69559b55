"""API resources: each method is one request (or a few) followed by a typed decode.

Shared by the pre-recorded and live resources: `job_path()` validates a job id and
`build_body()` a request body, both before any I/O.
"""

from __future__ import annotations

import difflib
import functools
import typing
from collections.abc import Mapping
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import msgspec

from .._decode import JSON_ERRORS, decode, decoder_for
from .._errors import DecodeError, GladiaConfigError
from ..types.common import RAW_JSON_KEY, Page

__all__ = [
    "HasId",
    "JobRef",
    "build_body",
    "decode_job",
    "decode_page",
    "job_id_of",
    "job_path",
    "with_extra_body",
]


class HasId(Protocol):
    """Anything with a job `id`: CreatedJob, LiveSession, a job or its summary."""

    @property
    def id(self) -> str: ...


JobRef = str | HasId
"""A job id, or an object carrying it."""

S = TypeVar("S", bound=msgspec.Struct)
T = TypeVar("T")


def build_body(
    type_: type[S], request: S | Mapping[str, Any] | None, options: dict[str, Any], what: str
) -> S:
    """A request Struct from a ready one, a plain dict or keyword options, checked before I/O.

    An option the Struct does not know raises GladiaConfigError, with a "did you mean" hint for
    a near miss and a pointer to ``extra_body=`` otherwise (for fields newer than this client).
    `what` names the request in messages ("pre-recorded", "live").
    """
    name = type_.__name__
    if request is not None:
        if options:
            raise GladiaConfigError(f"pass a {name}, a dict or keyword options, not several")
        if isinstance(request, type_):
            return request
        if not isinstance(request, Mapping):
            raise GladiaConfigError(f"expected a {name} or a dict, not {type(request).__name__}")
        options = dict(request)
    _check_keys(type_, options, what, "")
    try:
        return msgspec.convert(options, type_)
    except msgspec.ValidationError as exc:
        raise GladiaConfigError(f"invalid {what} option: {exc}") from exc


def _check_keys(
    type_: type[msgspec.Struct], options: Mapping[Any, Any], what: str, at: str
) -> None:
    """Refuse a key `type_` does not know, in `options` and in every nested config dict (msgspec
    would drop it silently): a typo gets "did you mean", anything else a pointer to extra_body."""
    fields = type_.__struct_fields__
    for option, value in options.items():
        if option not in fields:
            hint = difflib.get_close_matches(str(option), fields, n=1)
            advice = (
                f"did you mean {at + hint[0]!r}?"
                if hint
                else "pass fields this version does not know in extra_body={...}"
            )
            raise GladiaConfigError(f"unknown {what} option {at + str(option)!r}; {advice}")
        for nested in _nested_structs(type_, option):
            if isinstance(value, Mapping):
                _check_keys(nested, value, what, f"{at}{option}.")
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, Mapping):
                        _check_keys(nested, item, what, f"{at}{option}[{i}].")


@functools.cache
def _nested_structs(type_: type[msgspec.Struct], name: str) -> tuple[type[msgspec.Struct], ...]:
    """The Struct types field `name` of `type_` may hold (directly, optionally, or in a list)."""
    hints = typing.get_type_hints(type_)
    out: list[type[msgspec.Struct]] = []
    stack = [hints[name]]
    while stack:
        hint = stack.pop()
        if isinstance(hint, type) and issubclass(hint, msgspec.Struct):
            out.append(hint)
        else:
            stack.extend(typing.get_args(hint))
    return tuple(out)


def with_extra_body(
    body: msgspec.Struct, extra_body: Mapping[str, Any] | None
) -> msgspec.Struct | dict[str, Any]:
    """`body`, with the top-level keys of `extra_body` merged over its JSON (they win).

    The escape hatch for API fields newer than this client, as in openai-python and httpx-based
    SDKs: sent as given, not validated beyond being JSON. Checked before any I/O.
    """
    if extra_body is None:
        return body
    if not isinstance(extra_body, Mapping) or not all(isinstance(k, str) for k in extra_body):
        raise GladiaConfigError("extra_body must be a mapping with str keys")
    merged: dict[str, Any] = msgspec.to_builtins(body)
    merged.update(extra_body)
    try:
        msgspec.json.encode(merged)
    except (TypeError, msgspec.EncodeError) as exc:
        raise GladiaConfigError(f"extra_body is not JSON-serialisable: {exc}") from None
    return merged


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


def decode_job(body: bytes, type_: type[T], *, url: str | None = None) -> T:
    """A job decoded from a response body, which it keeps as its ``raw_json``."""
    job = decode(body, type_, url=url)
    job.__dict__[RAW_JSON_KEY] = body
    return job


def decode_page(
    body: bytes, item_type: type[T], *, url: str | None = None, raw_json: bool = False
) -> Page[T]:
    """A list page; with `raw_json`, each item keeps a copy of its own bytes as ``raw_json``.

    That costs a second pass over the page (about 1.2x the full decode, 2x the lean one), so
    listings keep the bytes only when asked.
    """
    if not raw_json:
        return decode(body, Page[item_type], url=url)  # type: ignore[valid-type]
    page: Page[msgspec.Raw] = decode(body, Page[msgspec.Raw], url=url)
    decoder = decoder_for(item_type)
    items: list[T] = []
    for index, raw in enumerate(page.items):
        try:
            item = decoder.decode(raw)
        except JSON_ERRORS as exc:
            name = getattr(item_type, "__name__", repr(item_type))
            raise DecodeError(
                f"response does not match Page[{name}]: {exc} - at `$.items[{index}]`",
                url=url,
                detail=str(exc),
            ) from exc
        item.__dict__[RAW_JSON_KEY] = bytes(raw)
        items.append(item)
    return Page(items=items, next_url=page.next_url, first=page.first, current=page.current)
