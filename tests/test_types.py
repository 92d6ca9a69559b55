"""gladia_async.types: every REST example payload decodes into its Struct and encodes back to the
same JSON; unknown fields and enum values decode; requests send only the fields that were set."""

from __future__ import annotations

import copy
import json
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gladia_async import DecodeError
from gladia_async import types as gt
from gladia_async._decode import decode, decoder_for
from gladia_async.types import (
    AudioToLlmConfig,
    CallbackConfig,
    ChapterizationBlock,
    CreatedJob,
    CustomVocabularyConfig,
    ErrorResponse,
    LanguageConfig,
    LiveJob,
    LiveRequest,
    LiveSession,
    MessagesConfig,
    NamedEntityRecognitionBlock,
    Page,
    PiiRedactionConfig,
    PreRecordedJob,
    PreRecordedRequest,
    PreRecordedRequestParams,
    RealtimeProcessingConfig,
    SentimentAnalysisBlock,
    StructuredDataExtractionBlock,
    TranscriptionResult,
    TranslationConfig,
    UploadResult,
    UploadUrlRequest,
    VocabularyEntry,
    common,
    errors,
    live,
    pre_recorded,
    upload,
)

from ._servers import FIXTURES, fixture

# Fixture file (stem) -> the type it decodes into.
FIXTURE_TYPES: dict[str, Any] = {
    "upload_response": UploadResult,
    "upload_by_url_request": UploadUrlRequest,
    "prerecorded_init_request": PreRecordedRequest,
    "prerecorded_init_response": CreatedJob,
    "prerecorded_job_done": PreRecordedJob,
    "prerecorded_job_queued": PreRecordedJob,
    "prerecorded_job_error": PreRecordedJob,
    "prerecorded_list_page": Page[PreRecordedJob],
    "prerecorded_list_last_page": Page[PreRecordedJob],
    "live_init_request": LiveRequest,
    "live_init_response": LiveSession,
    "live_job_done": LiveJob,
    "live_list_page": Page[LiveJob],
    "error_400_validation": ErrorResponse,
    "error_401": ErrorResponse,
    "error_403_not_deletable": ErrorResponse,
    "error_404": ErrorResponse,
    "error_422": ErrorResponse,
    "error_429_assumed": ErrorResponse,
}

# Keys a decode -> encode round trip may add, always with a null value, because the Struct encodes
# every field and the example payload left the key out (see the gladia_async.types docstring):
# the legacy NER ``entity`` next to ``results``, and ``validation_errors`` on non-400 errors.
ALLOWED_ADDED_NULL_KEYS = frozenset({"entity", "validation_errors"})


def load(stem: str) -> bytes:
    return fixture(f"{stem}.json")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def compare(original: Any, encoded: Any, path: str = "$") -> list[str]:
    """Check that ``encoded`` holds everything ``original`` holds, with equal values.

    Returns the paths of keys present only in ``encoded``; each must have a null value. JSON
    ints and floats compare by value (a float field re-encodes ``1`` as ``1.0``); every other
    value must keep its JSON type (so ``true`` never matches ``1``).
    """
    if _is_number(original) and _is_number(encoded):
        assert original == encoded, f"{path}: {original!r} != {encoded!r}"
        return []
    assert type(original) is type(encoded), f"{path}: {original!r} became {encoded!r}"
    added: list[str] = []
    if isinstance(original, dict):
        for key, value in original.items():
            assert key in encoded, f"{path}.{key}: lost in the round trip"
            added += compare(value, encoded[key], f"{path}.{key}")
        for key in encoded.keys() - original.keys():
            assert encoded[key] is None, f"{path}.{key}: added with value {encoded[key]!r}"
            added.append(f"{path}.{key}")
    elif isinstance(original, list):
        assert len(original) == len(encoded), f"{path}: length changed"
        for index, (left, right) in enumerate(zip(original, encoded, strict=True)):
            added += compare(left, right, f"{path}[{index}]")
    else:
        assert original == encoded, f"{path}: {original!r} != {encoded!r}"
    return added


def round_trip(stem: str) -> tuple[Any, list[str]]:
    """Decode a fixture into its type, encode it back, compare; return (object, added paths)."""
    raw = load(stem)
    obj = decoder_for(FIXTURE_TYPES[stem]).decode(raw)
    encoded = json.loads(msgspec.json.encode(obj))
    if isinstance(obj, Page):
        # Page.offset is filled in by the client; the API never sends it.
        assert encoded.pop("offset") == obj.offset == 0
    return obj, compare(json.loads(raw), encoded)


def test_fixture_table_covers_every_rest_example() -> None:
    patterns = ("upload_*", "prerecorded_*", "live_init_*", "live_job_done", "live_list_page")
    found = {p.stem for pattern in (*patterns, "error_*") for p in FIXTURES.glob(f"{pattern}.json")}
    assert found == set(FIXTURE_TYPES)


@pytest.mark.parametrize("stem", sorted(FIXTURE_TYPES))
def test_fixture_round_trip(stem: str) -> None:
    obj, added = round_trip(stem)
    assert isinstance(obj, Page | FIXTURE_TYPES[stem])
    unexpected = [p for p in added if p.rsplit(".", 1)[-1] not in ALLOWED_ADDED_NULL_KEYS]
    assert unexpected == []


@pytest.mark.parametrize(
    "stem",
    [
        "upload_response",
        "prerecorded_init_request",
        "prerecorded_job_queued",
        "prerecorded_job_error",
        "live_init_request",
        "live_init_response",
        "error_400_validation",
    ],
)
def test_fixture_round_trip_is_exact(stem: str) -> None:
    """Payloads without a legacy or client-side field come back key for key."""
    _, added = round_trip(stem)
    assert added == []


def test_comparison_detects_lost_and_changed_values() -> None:
    """The round-trip check can fail: a lost key, a changed value, a non-null extra key."""
    with pytest.raises(AssertionError, match="lost"):
        compare({"a": None}, {})
    with pytest.raises(AssertionError):
        compare({"a": [1, 2]}, {"a": [1, 3]})
    with pytest.raises(AssertionError):
        compare({"a": True}, {"a": 1})
    with pytest.raises(AssertionError, match="added"):
        compare({}, {"a": 0})
    assert compare({"a": 1}, {"a": 1.0, "b": None}) == ["$.b"]


def test_done_job_decodes_into_typed_blocks() -> None:
    job = decoder_for(PreRecordedJob).decode(load("prerecorded_job_done"))
    assert job.status == "done" and job.kind == "pre-recorded"
    assert job.created_at == "2026-07-14T09:12:03.481Z"
    result = job.result
    assert result is not None and result.transcription is not None
    assert result.metadata.number_of_distinct_channels == 1
    utterance = result.transcription.utterances[1]
    assert utterance.speaker == 1 and utterance.words[0].word == "Thanks"
    assert result.named_entity_recognition is not None
    assert result.named_entity_recognition.results is not None
    assert result.named_entity_recognition.results[0].entity_type == "NAME_GIVEN"
    assert result.audio_to_llm is not None and result.audio_to_llm.results is not None
    answer = result.audio_to_llm.results[0].results
    assert answer is not None and answer.prompt == "List the action items"
    assert result.translation is not None and result.translation.results is not None
    assert result.translation.results[0].languages == ["fr"]
    # Docs-shaped results (REFERENCE section 2) stay plain JSON.
    assert result.sentiment_analysis is not None
    assert isinstance(result.sentiment_analysis.results, list)
    assert result.chapterization is not None
    assert result.chapterization.results[0]["headline"].startswith("Berlin")
    params = job.request_params
    assert params is not None and params.translation_config is not None
    assert params.callback_url == "https://hooks.example.com/gladia/legacy"
    assert params.pii_redaction is False
    assert isinstance(params.custom_vocabulary_config, CustomVocabularyConfig)
    entry = params.custom_vocabulary_config.vocabulary[1]
    assert isinstance(entry, VocabularyEntry) and entry.value == "Acme"


def test_live_job_and_pages() -> None:
    job = decoder_for(LiveJob).decode(load("live_job_done"))
    assert job.kind == "live" and job.file is not None and job.file.source is None
    assert job.result is not None and job.result.messages is not None
    first = json.loads(job.result.messages[0])
    assert first["session_id"] == job.id
    assert job.result.transcription is not None
    assert job.result.transcription.utterances[0].speaker is None
    assert job.request_params is not None and job.request_params.realtime_processing is not None

    page = decoder_for(Page[PreRecordedJob]).decode(load("prerecorded_list_page"))
    assert page.next_url is not None and "offset=2" in page.next_url
    assert page.offset == 0 and [j.status for j in page.items] == ["processing", "done"]
    last = decoder_for(Page[PreRecordedJob]).decode(load("prerecorded_list_last_page"))
    assert last.next_url is None and last.current is not None
    live_page = decoder_for(Page[LiveJob]).decode(load("live_list_page"))
    assert live_page.items[1].status == "error" and live_page.items[1].result is None


def test_error_and_created_bodies() -> None:
    err = decoder_for(ErrorResponse).decode(load("error_400_validation"))
    assert err.status_code == 400 and err.validation_errors is not None
    created = decoder_for(CreatedJob).decode(b'{"id": "abc"}')
    assert created.result_url is None
    session = decoder_for(LiveSession).decode(load("live_init_response"))
    assert session.url.startswith("wss://")


def _with_unknowns(job: dict[str, Any]) -> dict[str, Any]:
    job = copy.deepcopy(job)
    job["brand_new_field"] = {"nested": [1, 2, 3]}
    job["status"] = "archived"
    job["kind"] = "hologram"
    job["file"]["checksum"] = "abc"
    result = job["result"]
    result["brand_new_addon"] = {"success": True, "results": 42}
    result["metadata"]["carbon_grams"] = 0.1
    transcription = result["transcription"]
    transcription["subtitles"][0]["format"] = "ass"
    transcription["utterances"][0]["emotion"] = "joy"
    transcription["utterances"][0]["words"][0]["phonemes"] = ["g", "u", "d"]
    result["summarization"]["model_used"] = "x"
    result["summarization"]["error"] = {
        "status_code": "E_TIMEOUT",
        "exception": "Timeout",
        "message": "late",
        "retryable": True,
    }
    params = job["request_params"]
    params["future_option"] = True
    params["summarization_config"]["type"] = "haiku"
    params["subtitles_config"]["formats"] = ["srt", "ttml"]
    params["translation_config"]["model"] = "ultra"
    params["pii_redaction_config"]["processed_text_type"] = "HASH"
    return job


def test_unknown_fields_and_enum_values_decode() -> None:
    raw = msgspec.json.encode(_with_unknowns(json.loads(load("prerecorded_job_done"))))
    job = decoder_for(PreRecordedJob).decode(raw)
    assert job.status == "archived" and job.kind == "hologram"
    assert job.result is not None and job.result.transcription is not None
    assert job.result.transcription.subtitles is not None
    assert job.result.transcription.subtitles[0].format == "ass"
    assert job.result.summarization is not None and job.result.summarization.error is not None
    assert job.result.summarization.error.status_code == "E_TIMEOUT"
    assert job.request_params is not None and job.request_params.summarization_config is not None
    assert job.request_params.summarization_config.type == "haiku"

    live = json.loads(load("live_init_request"))
    live.update(encoding="wav/opus", model="solaria-9", sample_rate=22050, future={"x": 1})
    live["messages_config"]["receive_telepathy"] = True
    request = decoder_for(LiveRequest).decode(msgspec.json.encode(live))
    assert request.encoding == "wav/opus" and request.model == "solaria-9"


def test_every_struct_is_tolerant_and_gc_free() -> None:
    """REST types (common, upload, pre_recorded, live, errors) ignore unknown fields, skip GC."""
    structs = [
        obj
        for module in (common, upload, pre_recorded, live, errors)
        for name in module.__all__
        if isinstance(obj := getattr(module, name), type) and issubclass(obj, msgspec.Struct)
    ]
    assert len(structs) > 50
    for struct in structs:
        config = struct.__struct_config__
        assert not config.forbid_unknown_fields, struct
        # Jobs carry their raw_json in a __dict__ (dict=True), which excludes gc=False.
        assert config.gc is issubclass(struct, common.BaseJob), struct
        assert struct.__doc__, struct


def test_loose_shapes_from_conflicting_sources() -> None:
    """REFERENCE section 2: both shapes of each disputed field decode."""
    block = {"success": True, "is_empty": False, "exec_time": 0.5, "error": None}
    sentiment = decoder_for(SentimentAnalysisBlock).decode(
        msgspec.json.encode({**block, "results": '[{"sentiment": "positive"}]'})
    )
    assert isinstance(sentiment.results, str)
    chapters = decoder_for(ChapterizationBlock).decode(
        msgspec.json.encode({**block, "results": {"0": {"headline": "h"}}})
    )
    assert chapters.results == {"0": {"headline": "h"}}
    structured = decoder_for(StructuredDataExtractionBlock).decode(
        msgspec.json.encode({**block, "results": "persons: Maya"})
    )
    assert structured.results == "persons: Maya"
    legacy_ner = decoder_for(NamedEntityRecognitionBlock).decode(
        msgspec.json.encode({**block, "entity": '[{"entity_type": "DATE"}]'})
    )
    assert legacy_ner.results is None and legacy_ner.entity is not None

    params = decoder_for(PreRecordedRequestParams).decode(
        msgspec.json.encode(
            {
                "audio_url": None,
                "custom_vocabulary": ["Gladia", "Solaria"],
                "pii_redaction_config": {"entity_types": "GDPR"},
                "audio_to_llm_config": {"prompts": [["List the action items"]]},
            }
        )
    )
    assert params.audio_url is None and params.custom_vocabulary == ["Gladia", "Solaria"]
    assert params.pii_redaction_config is not None
    assert params.pii_redaction_config.entity_types == "GDPR"
    assert params.audio_to_llm_config is not None
    assert params.audio_to_llm_config.prompts == [["List the action items"]]

    job = json.loads(load("prerecorded_job_error"))
    job["custom_metadata"] = None
    del job["post_session_metadata"], job["file"], job["result"], job["completed_at"]
    decoded = decoder_for(PreRecordedJob).decode(msgspec.json.encode(job))
    assert decoded.custom_metadata is None and decoded.post_session_metadata is None

    result = decoder_for(TranscriptionResult).decode(
        b'{"metadata": {"audio_duration": 1, "number_of_distinct_channels": 1,'
        b' "billing_time": 1, "transcription_time": 0.5}}'
    )
    assert result.transcription is None
    assert msgspec.json.decode(msgspec.json.encode(result)) == {
        "metadata": {
            "audio_duration": 1.0,
            "number_of_distinct_channels": 1,
            "billing_time": 1.0,
            "transcription_time": 0.5,
        }
    }


def test_live_channel_is_any_number() -> None:
    """REFERENCE section 2 row 16: ``channel`` is a number in the SDK, an integer elsewhere."""
    for channel in (1, 1.0):
        body = msgspec.json.encode(
            {"type": "speech_start", "data": {"time": 2.5, "channel": channel}}
        )
        message = decoder_for(gt.SpeechStartMessage).decode(body)
        assert message.data.channel == 1 and type(message.data.channel) is type(channel)


def test_request_encodes_only_fields_set() -> None:
    request = PreRecordedRequest(
        audio_url="https://example.com/a.mp3",
        diarization=False,
        language_config=LanguageConfig(languages=["en"]),
        translation_config=TranslationConfig(target_languages=["fr"], informal=False),
        callback_config=CallbackConfig(url="https://example.com/hook"),
        pii_redaction_config=PiiRedactionConfig(entity_types=["GDPR"]),
        audio_to_llm_config=AudioToLlmConfig(prompts=["Title?"]),
        custom_metadata={"tenant": "t1"},
    )
    assert msgspec.json.decode(msgspec.json.encode(request)) == {
        "audio_url": "https://example.com/a.mp3",
        "diarization": False,
        "language_config": {"languages": ["en"]},
        "translation_config": {"target_languages": ["fr"], "informal": False},
        "callback_config": {"url": "https://example.com/hook"},
        "pii_redaction_config": {"entity_types": ["GDPR"]},
        "audio_to_llm_config": {"prompts": ["Title?"]},
        "custom_metadata": {"tenant": "t1"},
    }
    assert msgspec.json.encode(LiveRequest()) == b"{}"
    live = LiveRequest(
        sample_rate=8000,
        realtime_processing=RealtimeProcessingConfig(translation=True),
        messages_config=MessagesConfig(receive_partial_transcripts=True),
    )
    assert msgspec.json.decode(msgspec.json.encode(live)) == {
        "sample_rate": 8000,
        "realtime_processing": {"translation": True},
        "messages_config": {"receive_partial_transcripts": True},
    }
    assert msgspec.json.encode(UploadUrlRequest(audio_url="https://x/y.wav")) == (
        b'{"audio_url":"https://x/y.wav"}'
    )


def test_required_request_fields_are_required() -> None:
    with pytest.raises(TypeError):
        PreRecordedRequest()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        TranslationConfig()  # type: ignore[call-arg]
    with pytest.raises(msgspec.ValidationError):
        decoder_for(PreRecordedRequest).decode(b'{"diarization": true}')


def test_page_envelope() -> None:
    page: Page[CreatedJob] = Page(items=[CreatedJob(id="a")], offset=40)
    assert page.next_url is None and page.first is None and page.current is None
    decoded = decoder_for(Page[CreatedJob]).decode(
        b'{"first": "f", "current": "c", "next": "n", "items": [{"id": "b", "x": 1}]}'
    )
    assert decoded.next_url == "n" and decoded.items == [CreatedJob(id="b")]
    assert decoded.offset == 0
    assert b'"next":"n"' in msgspec.json.encode(decoded)


# msgspec up to 0.22 raises UnicodeDecodeError (a ValueError, not a msgspec.DecodeError) for invalid
# UTF-8 inside a JSON string value; 0.23 raises msgspec.DecodeError. The library maps both.
DECODE_FAILURES = (msgspec.DecodeError, UnicodeDecodeError)


def test_invalid_utf8_in_a_string_is_a_library_decode_error() -> None:
    """Whatever msgspec raises for invalid UTF-8 (it changed in 0.23), callers see DecodeError."""
    with pytest.raises(DecodeError, match="not valid JSON"):
        decode(b'{"id": "\x80"}', CreatedJob, url="http://127.0.0.1/x")
    # An invalid key is just an unknown field.
    assert decode(b'{"id": "a", "\x80": 1}', CreatedJob) == CreatedJob(id="a")


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=512))
def test_arbitrary_bytes_raise_only_decode_errors(data: bytes) -> None:
    try:
        decoder_for(PreRecordedJob).decode(data)
    except DECODE_FAILURES:
        pass


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_corrupted_job_bytes_raise_only_decode_errors(data: st.DataObject) -> None:
    """Overwrite a slice of a valid job with arbitrary bytes: decodes or fails cleanly."""
    raw = load("prerecorded_job_done")
    start = data.draw(st.integers(0, len(raw) - 1))
    end = data.draw(st.integers(start, min(len(raw), start + 16)))
    corrupted = raw[:start] + data.draw(st.binary(max_size=16)) + raw[end:]
    try:
        decoder_for(PreRecordedJob).decode(corrupted)
    except DECODE_FAILURES:
        pass


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(FIXTURE_TYPES)), st.data())
def test_mutated_fixtures_raise_only_decode_errors(stem: str, data: st.DataObject) -> None:
    """Replacing one value anywhere in a valid payload either decodes or is a DecodeError."""
    payload = json.loads(load(stem))
    node: Any = payload
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            break
        key = data.draw(st.sampled_from(keys))
        child = node[key]
        if isinstance(child, dict | list) and child and data.draw(st.booleans()):
            node = child
            continue
        node[key] = data.draw(_json_values)
        break
    try:
        decoder_for(FIXTURE_TYPES[stem]).decode(msgspec.json.encode(payload))
    except msgspec.ValidationError:
        pass


def test_every_public_name_is_exported() -> None:
    """types/__init__ re-exports every module's public names."""
    assert gt.__all__ == sorted(gt.__all__, key=lambda n: (not n.isupper(), n))
    for name in gt.__all__:
        assert getattr(gt, name) is not None
    from gladia_async.types import lean, webhooks, ws

    for module in (common, upload, pre_recorded, live, errors, lean, ws, webhooks):
        for name in module.__all__:
            assert name in gt.__all__ and getattr(gt, name) is getattr(module, name), name
    with pytest.raises(AttributeError):
        _ = gt.NoSuchType
