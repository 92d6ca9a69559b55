"""Typed JSON decoding: one cached msgspec Decoder per type; failures become DecodeError.

Decoding bytes straight into Structs (no intermediate dicts) is the client's main speed lever.
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar

import msgspec

from ._errors import DecodeError

__all__ = ["JSON_ERRORS", "decode", "decoder_for"]

T = TypeVar("T")

#: What a msgspec decoder raises on bad input: besides msgspec.DecodeError (and its subclass
#: ValidationError), UnicodeError for invalid UTF-8 in a string (or a str body with lone
#: surrogates) and RecursionError for nesting deeper than it can follow.
JSON_ERRORS = (msgspec.DecodeError, UnicodeError, RecursionError)


@functools.cache
def _build(type_: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(type_)


def decoder_for(type_: Any) -> msgspec.json.Decoder[Any]:
    """The msgspec JSON decoder for `type_`, built once per type and reused."""
    # Not the cached function itself: its stub wants Hashable arguments, which mypy does not
    # consider ``type[T]`` or a union to be.
    return _build(type_)


def decode(body: bytes, type_: type[T], *, url: str | None = None) -> T:
    """Decode a JSON body into `type_`; malformed or mistyped input raises DecodeError."""
    try:
        result: T = decoder_for(type_).decode(body)
    except msgspec.ValidationError as exc:
        raise DecodeError(
            f"response does not match {_name(type_)}: {exc}", url=url, detail=str(exc)
        ) from exc
    except JSON_ERRORS as exc:
        raise DecodeError(
            f"response is not valid JSON for {_name(type_)}: {exc}", url=url, detail=str(exc)
        ) from exc
    return result


def _name(type_: Any) -> str:
    return getattr(type_, "__name__", None) or repr(type_)
