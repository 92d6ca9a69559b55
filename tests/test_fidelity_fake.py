"""The fake refuses what Gladia's OpenAPI document forbids (400 with the API's envelope), keeps
the quirks where REFERENCE.md says the docs win, and never answers 500 to a client's mistake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from gladia_async.testing import FakeGladia

from .test_fake import assert_envelope

KEY = {"x-gladia-key": "test-key"}
URL = "https://e.com/a.wav"


@pytest.fixture
async def fake() -> AsyncIterator[FakeGladia]:
    async with FakeGladia(api_key="test-key", jobs=0) as f:
        yield f


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def post(
    session: aiohttp.ClientSession, fake: FakeGladia, path: str, body: Any
) -> tuple[int, Any]:
    async with session.post(fake.url + path, json=body, headers=KEY) as r:
        return r.status, await r.json()


PRERECORDED_INVALID = [
    # wrong nested types
    ({"diarization_config": {"min_speakers": "two"}}, "diarization_config.min_speakers must be"),
    ({"custom_vocabulary_config": {"vocabulary": [{"value": 3}]}}, "vocabulary.0.value must be"),
    ({"subtitles_config": {"formats": "srt"}}, "subtitles_config.formats must be an array"),
    # unknown enum values
    ({"model": "solaria-9"}, "model must be one of the following values: solaria-1, solaria-3"),
    ({"summarization_config": {"type": "haiku"}}, "summarization_config.type must be one of"),
    ({"callback_config": {"url": URL, "method": "GET"}}, "callback_config.method must be one"),
    ({"subtitles_config": {"formats": ["doc"]}}, "subtitles_config.formats must only contain"),
    # out-of-range numbers
    ({"subtitles_config": {"maximum_duration": 31}}, "must not be greater than 30"),
    ({"custom_vocabulary_config": {"vocabulary": ["x"], "default_intensity": 2}}, "greater"),
    ({"diarization_config": {"number_of_speakers": 0}}, "must not be less than 1"),
    # missing nested required fields
    ({"callback_config": {"method": "POST"}}, "callback_config.url should not be empty"),
    ({"custom_spelling_config": {}}, "custom_spelling_config.spelling_dictionary should not"),
    ({"audio_to_llm_config": {"model": "x"}}, "audio_to_llm_config.prompts should not be empty"),
    # too few items
    ({"translation_config": {"target_languages": []}}, "must contain at least 1 elements"),
    ({"audio_to_llm_config": {"prompts": []}}, "must contain at least 1 elements"),
    # formats
    ({"callback_url": "not a url"}, "callback_url must be a URL address"),
]


@pytest.mark.parametrize(("extra", "message"), PRERECORDED_INVALID)
async def test_prerecorded_bodies_the_spec_forbids_get_400(
    fake: FakeGladia, session: aiohttp.ClientSession, extra: dict[str, Any], message: str
) -> None:
    status, body = await post(session, fake, "/v2/pre-recorded", {"audio_url": URL, **extra})
    assert status == 400, body
    assert_envelope(body, 400, "/v2/pre-recorded")
    assert body["message"] == "Invalid parameter(s). See validation_errors for more details."
    assert any(message in e for e in body["validation_errors"]), body["validation_errors"]
    assert not fake.store.ids()  # nothing was created


LIVE_INVALID = [
    ({"bit_depth": 12}, "bit_depth must be one of the following values: 8, 16, 24, 32"),
    ({"endpointing": 0}, "endpointing must not be less than 0.01"),
    ({"maximum_duration_without_endpointing": 61}, "must not be greater than 60"),
    ({"pre_processing": {"speech_threshold": 1.5}}, "speech_threshold must not be greater"),
    ({"realtime_processing": {"translation_config": {}}}, "target_languages should not be"),
    ({"post_processing": {"summarization_config": {"type": 1}}}, "type must be one of"),
    ({"language_config": {"code_switching": "yes"}}, "code_switching must be a boolean"),
    ({"callback": True}, "callback_config.url must be a URL address"),
]


@pytest.mark.parametrize(("body", "message"), LIVE_INVALID)
async def test_live_bodies_the_spec_forbids_get_400(
    fake: FakeGladia, session: aiohttp.ClientSession, body: dict[str, Any], message: str
) -> None:
    status, err = await post(session, fake, "/v2/live", body)
    assert status == 400, err
    assert_envelope(err, 400, "/v2/live")
    assert any(message in e for e in err["validation_errors"]), err["validation_errors"]


QUIRKS = [
    # REFERENCE section 2: where the docs win over the document, both shapes are accepted.
    (
        "/v2/pre-recorded",
        {"pii_redaction": True, "pii_redaction_config": {"entity_types": ["GDPR"]}},
    ),
    ("/v2/pre-recorded", {"pii_redaction_config": {"entity_types": "GDPR"}}),
    ("/v2/pre-recorded", {"audio_to_llm_config": {"prompts": ["Summarize"]}}),
    ("/v2/pre-recorded", {"audio_to_llm_config": {"prompts": [["Summarize"]]}}),
    ("/v2/pre-recorded", {"custom_vocabulary": ["Gladia"]}),
    ("/v2/pre-recorded", {"custom_metadata": None}),
    ("/v2/pre-recorded", {"model": "solaria-3", "brand_new_option": {"x": 1}}),
    ("/v2/live", {"model": "solaria-2"}),
    ("/v2/live", {"custom_metadata": None, "bit_depth": 16.0}),
]


@pytest.mark.parametrize(("path", "body"), QUIRKS)
async def test_documented_quirks_and_unknown_fields_are_accepted(
    fake: FakeGladia, session: aiohttp.ClientSession, path: str, body: dict[str, Any]
) -> None:
    if path == "/v2/pre-recorded":
        body = {"audio_url": URL, **body}
    status, created = await post(session, fake, path, body)
    assert status == 201, created


def multipart(head: bytes, boundary: str | None = "bb") -> tuple[bytes, str]:
    ctype = "multipart/form-data" + (f"; boundary={boundary}" if boundary is not None else "")
    return head, ctype


MALFORMED = {
    "no boundary": multipart(b"--x\r\n\r\nabc\r\n--x--\r\n", None),
    "empty boundary": multipart(b"x", ""),
    "control char in part header": multipart(
        b'--bb\r\nContent-Disposition: form-data; name="audio"; filename="a\x01.wav"\r\n\r\n'
        b"RIFF\r\n--bb--\r\n"
    ),
    "DEL in part name": multipart(
        b'--bb\r\nContent-Disposition: form-data; name="au\x7fdio"\r\n\r\nRIFF\r\n--bb--\r\n'
    ),
    "no start boundary": multipart(b"garbage"),
    "cut short": multipart(b'--bb\r\nContent-Disposition: form-data; name="audio"\r\n\r\nRIFF'),
    "nested multipart without boundary": multipart(
        b"--bb\r\nContent-Type: multipart/mixed\r\n"
        b'Content-Disposition: form-data; name="audio"\r\n\r\nRIFF\r\n--bb--\r\n'
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
async def test_malformed_multipart_is_a_400_json_error(
    fake: FakeGladia, session: aiohttp.ClientSession, case: str
) -> None:
    payload, ctype = MALFORMED[case]
    headers = {**KEY, "Content-Type": ctype}
    async with session.post(fake.url + "/v2/upload", data=payload, headers=headers) as r:
        assert r.status == 400, await r.text()
        assert r.content_type == "application/json"
        body = await r.json()
    assert_envelope(body, 400, "/v2/upload")
    assert body["validation_errors"]


@pytest.mark.parametrize("path", ["/v2/upload", "/v2/pre-recorded", "/v2/live"])
async def test_json_nested_too_deep_is_a_400(
    fake: FakeGladia, session: aiohttp.ClientSession, path: str
) -> None:
    headers = {**KEY, "Content-Type": "application/json"}
    async with session.post(fake.url + path, data=b"[" * 100_000, headers=headers) as r:
        assert r.status == 400
        assert_envelope(await r.json(), 400, path)


@pytest.mark.parametrize(
    ("path", "query", "message"),
    [
        ("/v2/transcription", "kind=podcast", "kind must only contain the following values"),
        ("/v2/pre-recorded", "limit=0", "limit must not be less than 1"),
        ("/v2/live", "offset=x", "offset must be an integer number"),
        ("/v2/pre-recorded", "status=done,finished", "status must only contain"),
        ("/v2/live", "after_date=yesterday", "after_date must be a valid ISO 8601 date string"),
    ],
)
async def test_list_queries_the_spec_forbids_get_400(
    fake: FakeGladia, session: aiohttp.ClientSession, path: str, query: str, message: str
) -> None:
    async with session.get(f"{fake.url}{path}?{query}", headers=KEY) as r:
        assert r.status == 400
        body = await r.json()
    assert_envelope(body, 400, path)
    assert any(message in e for e in body["validation_errors"]), body["validation_errors"]


async def test_live_region_is_checked_from_the_document(
    fake: FakeGladia, session: aiohttp.ClientSession
) -> None:
    async with session.post(f"{fake.url}/v2/live?region=mars", json={}, headers=KEY) as r:
        assert r.status == 400
        errors = (await r.json())["validation_errors"]
    assert errors == ["region must be one of the following values: us-west, eu-west"]
    async with session.post(f"{fake.url}/v2/live?region=eu-west", json={}, headers=KEY) as r:
        assert r.status == 201
