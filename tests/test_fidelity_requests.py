"""Every request field of Gladia's documents is sendable: typed options, a plain dict, and
`extra_body=` for fields newer than the client; typos still get their "did you mean" hint."""

from __future__ import annotations

import json

import pytest
from aiohttp import web

import gladia_async.types
from gladia_async import GladiaClient
from gladia_async._errors import BadRequestError, GladiaConfigError
from gladia_async.types import LiveRequest, PreRecordedRequest, PreRecordedRequestParams
from gladia_async.types.errors import ErrorResponse

from ._servers import KEY, Server, fixture, json_response, serve

CREATED = b'{"id": "45463597-20b7-4af7-b3b3-f5fb778203ab", "result_url": null}'
SESSION = b'{"id": "45463597-20b7-4af7-b3b3-f5fb778203ab", "url": "wss://x.test/v2/live?t=1"}'


async def created(request: web.Request, server: Server) -> web.StreamResponse:
    return json_response(SESSION if request.path == "/v2/live" else CREATED, status=201)


def sent(server: Server, i: int = 0) -> object:
    return json.loads(server.requests[i].body)


async def test_model_dict_and_extra_body_are_sent() -> None:
    async with serve(created) as server:
        async with GladiaClient(KEY, base_url=server.url) as gladia:
            pr = gladia.pre_recorded
            await pr.create(audio_url="https://a.test/x.mp3", model="solaria-3")
            await pr.create({"audio_url": "https://a.test/x.mp3", "model": "solaria-1"})
            await pr.create(
                audio_url="https://a.test/x.mp3",
                diarization=True,
                extra_body={"numerals": True, "diarization": False},
            )
            await gladia.live.create({"model": "solaria-1", "sample_rate": 8000})
            await gladia.live.create(extra_body={"numerals": {"enabled": True}}, channels=2)
    assert sent(server, 0) == {"audio_url": "https://a.test/x.mp3", "model": "solaria-3"}
    assert sent(server, 1) == {"audio_url": "https://a.test/x.mp3", "model": "solaria-1"}
    # extra_body keys are merged over the typed JSON, and win.
    assert sent(server, 2) == {
        "audio_url": "https://a.test/x.mp3",
        "diarization": False,
        "numerals": True,
    }
    assert sent(server, 3) == {"model": "solaria-1", "sample_rate": 8000}
    assert sent(server, 4) == {"channels": 2, "numerals": {"enabled": True}}


async def test_transcribe_forwards_extra_body() -> None:
    async def api(request: web.Request, server: Server) -> web.StreamResponse:
        if request.method == "POST":
            return json_response(CREATED, status=201)
        return json_response(fixture("prerecorded_job_done.json"))

    async with serve(api) as server:
        async with GladiaClient(KEY, base_url=server.url) as gladia:
            await gladia.pre_recorded.transcribe(
                "https://a.test/x.mp3", model="solaria-3", extra_body={"numerals": True}
            )
    assert sent(server) == {
        "audio_url": "https://a.test/x.mp3",
        "model": "solaria-3",
        "numerals": True,
    }


async def test_bad_options_fail_before_io() -> None:
    gladia = GladiaClient(KEY, base_url="http://127.0.0.1:9")
    pr, live = gladia.pre_recorded, gladia.live
    with pytest.raises(GladiaConfigError, match="did you mean 'model'"):
        await pr.create(audio_url="https://a.test/x", modle="solaria-3")
    with pytest.raises(GladiaConfigError, match="did you mean 'sample_rate'"):
        await live.create({"sample_rat": 8000})
    with pytest.raises(GladiaConfigError, match="extra_body"):
        await live.create(numerals=True)
    # Nested config dicts are checked too (msgspec alone would drop an unknown nested key).
    with pytest.raises(GladiaConfigError, match=r"did you mean 'language_config\.languages'"):
        await pr.create(audio_url="https://a.test/x", language_config={"languges": ["en"]})
    with pytest.raises(GladiaConfigError, match=r"vocabulary\[1\].intensity'"):
        await pr.create(
            audio_url="https://a.test/x",
            custom_vocabulary_config={"vocabulary": ["a", {"value": "b", "intensty": 1}]},
        )
    with pytest.raises(GladiaConfigError, match=r"realtime_processing\.translation_config"):
        await live.create(realtime_processing={"translation_config": {"target_langs": ["fr"]}})
    with pytest.raises(GladiaConfigError, match="extra_body"):
        await live.create(messages_config={"receive_telepathy": True})
    with pytest.raises(GladiaConfigError, match="audio_url"):
        await pr.create({"model": "solaria-3"})
    with pytest.raises(GladiaConfigError, match="not several"):
        await pr.create({"audio_url": "https://a.test/x"}, model="solaria-3")
    with pytest.raises(GladiaConfigError, match="extra_body must be a mapping"):
        await pr.create(audio_url="https://a.test/x", extra_body=[("a", 1)])  # type: ignore[arg-type]
    with pytest.raises(GladiaConfigError, match="JSON"):
        await pr.create(audio_url="https://a.test/x", extra_body={"a": object()})
    with pytest.raises(GladiaConfigError, match="JSON"):
        await pr.transcribe("https://a.test/x", extra_body={"a": object()})
    with pytest.raises(GladiaConfigError, match="JSON"):
        async with live.connect(extra_body={"a": object()}):
            pass  # pragma: no cover
    with pytest.raises(GladiaConfigError, match="expected a LiveRequest or a dict"):
        await live.create(PreRecordedRequest(audio_url="x"))  # type: ignore[arg-type]
    await gladia.aclose()


def test_request_structs_have_every_documented_field() -> None:
    """Each property of the vendored OpenAPI request schemas is a field of our Struct."""
    from .spec_helpers import openapi

    doc = openapi()
    schemas = doc["components"]["schemas"]
    t = gladia_async.types
    pairs = [
        ("InitTranscriptionRequest", PreRecordedRequest),
        ("PreRecordedRequestParamsResponse", PreRecordedRequestParams),
        ("StreamingRequest", LiveRequest),
        ("StreamingRequestParamsResponse", t.LiveRequestParams),
        ("CustomVocabularyEntryDTO", t.VocabularyEntry),
        ("CustomVocabularyConfigDTO", t.CustomVocabularyConfig),
        ("CallbackConfigDto", t.CallbackConfig),
        ("SubtitlesConfigDTO", t.SubtitlesConfig),
        ("DiarizationConfigDTO", t.DiarizationConfig),
        ("TranslationConfigDTO", t.TranslationConfig),
        ("SummarizationConfigDTO", t.SummarizationConfig),
        ("CustomSpellingConfigDTO", t.CustomSpellingConfig),
        ("AudioToLlmListConfigDTO", t.AudioToLlmConfig),
        ("PiiRedactionConfigDTO", t.PiiRedactionConfig),
        ("LanguageConfig", t.LanguageConfig),
        ("PreProcessingConfig", t.PreProcessingConfig),
        ("RealtimeProcessingConfig", t.RealtimeProcessingConfig),
        ("PostProcessingConfig", t.PostProcessingConfig),
        ("MessagesConfig", t.MessagesConfig),
        ("CallbackConfig", t.LiveCallbackConfig),
    ]
    for schema_name, struct in pairs:
        missing = set(schemas[schema_name]["properties"]) - set(struct.__struct_fields__)
        assert not missing, (schema_name, missing)


async def test_echoed_model_kept() -> None:
    body = json.loads(fixture("prerecorded_job_done.json"))
    body["request_params"]["model"] = "solaria-3"

    async def api(request: web.Request, server: Server) -> web.StreamResponse:
        return json_response(json.dumps(body).encode())

    async with serve(api) as server:
        async with GladiaClient(KEY, base_url=server.url) as gladia:
            job = await gladia.pre_recorded.get("45463597-20b7-4af7-b3b3-f5fb778203ab")
    assert job.request_params is not None and job.request_params.model == "solaria-3"


async def test_float_status_code_error_body_decodes() -> None:
    body = json.loads(fixture("error_400_validation.json"))
    body["statusCode"] = 400.0

    async def api(request: web.Request, server: Server) -> web.StreamResponse:
        return json_response(json.dumps(body).encode(), status=400)

    async with serve(api) as server:
        async with GladiaClient(KEY, base_url=server.url) as gladia:
            with pytest.raises(BadRequestError) as info:
                await gladia.pre_recorded.create(audio_url="https://a.test/x")
    exc = info.value
    assert isinstance(exc.body, ErrorResponse) and exc.body.status_code == 400
    assert exc.request_id == body["request_id"] and exc.message == body["message"]
