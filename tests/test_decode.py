"""_decode: fixtures decode via cached decoders; bad bodies raise DecodeError with the URL."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gladia_async._decode import decode, decoder_for
from gladia_async._errors import DecodeError
from gladia_async.types.common import Page
from gladia_async.types.errors import ErrorResponse
from gladia_async.types.pre_recorded import CreatedJob, PreRecordedJob, PreRecordedRequest
from gladia_async.types.upload import UploadResult, UploadUrlRequest

from ._servers import fixture

URL = "https://api.gladia.io/v2/pre-recorded/x"

CASES = [
    ("prerecorded_job_done.json", PreRecordedJob),
    ("prerecorded_job_queued.json", PreRecordedJob),
    ("prerecorded_job_error.json", PreRecordedJob),
    ("prerecorded_init_request.json", PreRecordedRequest),
    ("prerecorded_init_response.json", CreatedJob),
    ("prerecorded_list_page.json", Page[PreRecordedJob]),
    ("prerecorded_list_last_page.json", Page[PreRecordedJob]),
    ("upload_response.json", UploadResult),
    ("upload_by_url_request.json", UploadUrlRequest),
    ("error_400_validation.json", ErrorResponse),
    ("error_401.json", ErrorResponse),
    ("error_403_not_deletable.json", ErrorResponse),
    ("error_404.json", ErrorResponse),
    ("error_422.json", ErrorResponse),
    ("error_429_assumed.json", ErrorResponse),
]


@pytest.mark.parametrize(("name", "type_"), CASES, ids=[c[0] for c in CASES])
def test_fixture_decodes(name: str, type_: type) -> None:
    body = fixture(name)
    value = decode(body, type_, url=URL)
    assert isinstance(value, getattr(type_, "__origin__", type_))
    original = msgspec.json.decode(body)
    again = msgspec.json.decode(msgspec.json.encode(value))
    if isinstance(original, dict):
        assert set(original) - {"next"} <= set(again) | {"next_url"}


def test_decoder_is_cached_per_type() -> None:
    assert decoder_for(PreRecordedJob) is decoder_for(PreRecordedJob)
    assert decoder_for(Page[PreRecordedJob]) is decoder_for(Page[PreRecordedJob])


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b'{"id": "x"', b"not json", b"[]", b'{"id": 1}', b"\xff\xfe"],
)
def test_bad_bodies_raise_decode_error_with_url(body: bytes) -> None:
    with pytest.raises(DecodeError) as info:
        decode(body, PreRecordedJob, url=URL)
    assert info.value.url == URL
    assert URL in str(info.value)
    assert info.value.detail


def test_truncated_fixture_raises_decode_error() -> None:
    body = fixture("prerecorded_job_done.json")
    with pytest.raises(DecodeError, match="PreRecordedJob"):
        decode(body[: len(body) // 2], PreRecordedJob, url=URL)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=256))
def test_arbitrary_bytes_only_raise_decode_error(body: bytes) -> None:
    try:
        decode(body, PreRecordedJob, url=URL)
    except DecodeError:
        pass


@pytest.mark.parametrize(
    "body", [b'{"unknown_field": ' + b"[" * 100_000, b'{"unknown": ' + b'{"a":' * 100_000]
)
def test_deep_nesting_raises_decode_error(body: bytes) -> None:
    with pytest.raises(DecodeError) as info:
        decode(body, PreRecordedJob, url=URL)
    assert info.value.url == URL
