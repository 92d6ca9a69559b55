"""Conformance of the fake to Gladia's OpenAPI document, tested with schemathesis.

Every REST route of the fake is called with inputs generated from the vendored document (valid
ones and invalid ones), and every response is checked against the document: no 5xx, documented
status codes and content types, response bodies valid against their schemas, invalid input
refused and valid input accepted. Bounded (a few examples per route and mode, derandomized) so
it runs in seconds; raise CONFORMANCE_EXAMPLES to search harder:

    CONFORMANCE_EXAMPLES=200 .venv/bin/python -m pytest tests/test_fidelity_conformance.py

Where the document is known to be wrong or silent (SOURCES.md, REFERENCE.md section 2), the
test follows the docs: ALLOW_LIST patches the document before the run, one commented entry per
quirk, and ALLOWED_REJECTIONS lists the rules a schema cannot express.
"""

from __future__ import annotations

import asyncio
import copy
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis import checks as st_checks  # noqa: E402

from gladia_async.testing import FakeGladia  # noqa: E402
from gladia_async.testing.schema import QUIRKS  # noqa: E402

from .spec_helpers import openapi  # noqa: E402

KEY = "conformance-key"
EXAMPLES = int(os.environ.get("CONFORMANCE_EXAMPLES", "12"))
ERROR_400 = {
    "description": "validation error",
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/BadRequestErrorResponse"}}
    },
}
NULLABLE_OBJECT = {"type": "object", "additionalProperties": True, "nullable": True}

ALLOW_LIST: dict[str, Any] = {
    # SOURCES.md: `custom_metadata` is non-nullable in the document, the docs show null; jobs
    # created without metadata echo null.
    "/components/schemas/PreRecordedResponse/properties/custom_metadata": NULLABLE_OBJECT,
    "/components/schemas/StreamingResponse/properties/custom_metadata": NULLABLE_OBJECT,
    # SOURCES.md: the upload metadata `extension` is marked `format: uuid` (it is "wav", "mp3").
    "/components/schemas/AudioUploadMetadataDTO/properties/extension": {"type": "string"},
    # SOURCES.md: `sentiment_analysis.results` is typed as a string, the docs show a list.
    "/components/schemas/SentimentAnalysisDTO/properties/results": {},
    # REFERENCE section 2 row 6: `custom_vocabulary` may be the legacy list of words; the job
    # echoes what was sent (the request side is patched by the fake's QUIRKS).
    "/components/schemas/PreRecordedRequestParamsResponse/properties/custom_vocabulary": QUIRKS[
        "/components/schemas/InitTranscriptionRequest/properties/custom_vocabulary"
    ],
    # REFERENCE section 2 rows 2 and 3: chapterization `results` is an object in the document, a
    # list in the guide; structured-data `results` a string, an object in the guide.
    "/components/schemas/ChapterizationDTO/properties/results": {},
    "/components/schemas/StructuredDataExtractionDTO/properties/results": {},
    # SOURCES.md: the list endpoints document only 200 and 401; a bad query gets the same 400 as
    # every other endpoint (REFERENCE section 3.3).
    "/paths/~1v2~1pre-recorded/get/responses/400": ERROR_400,
    "/paths/~1v2~1transcription/get/responses/400": ERROR_400,
    "/paths/~1v2~1live/get/responses/400": ERROR_400,
    # The document lists only 200 for the upload; a request without a file is a 400
    # (REFERENCE section 5: the `audio` part is what the endpoint takes), and the `audio` part,
    # not marked required, is.
    "/paths/~1v2~1upload/post/responses/400": ERROR_400,
    "/paths/~1v2~1upload/post/requestBody/content/multipart~1form-data/schema/required": ["audio"],
}
"""JSON pointer -> replacement, applied to the vendored document (after the fake's own
request-side QUIRKS: PII entity_types, audio-to-LLM prompts, custom_vocabulary, nullable request
custom_metadata, free live model, all from SOURCES.md / REFERENCE section 2)."""

ALLOWED_REJECTION_PREFIXES = (
    # A control character in a multipart part header (generated part names may hold one) is
    # invalid HTTP whatever the schema says: the documented 400, never a 500.
    "audio must be a file: malformed multipart body",
)
ALLOWED_REJECTIONS = {
    # REFERENCE sections 6.1 and 7.1: custom_metadata is at most 2000 characters once serialised.
    "custom_metadata must be shorter than or equal to 2000 characters",
    # REFERENCE section 2 row 23: `callback: true` without `callback_config.url` cannot deliver.
    "callback_config.url must be a URL address",
    # An audio_url must be an http(s) URL the API can fetch (`format: uri` allows any scheme).
    "audio_url must be a URL address",
    # `translation: true` needs target languages (the document leaves translation_config optional).
    "translation_config.target_languages must contain at least 1 elements",
}
"""400 messages for schema-valid requests that the API refuses by rules a schema cannot say."""

ROUTES = r"^/v2/(pre-recorded|transcription|live|upload)"
"""The REST routes the fake serves (the legacy /audio, /video, /v1 routes are not faked)."""

CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
    st_checks.negative_data_rejection,
]


_FINAL = "/components/schemas/PostFinalTranscriptMessage/properties/data/properties"
ASYNCAPI_ALLOW_LIST: dict[str, Any] = {
    # SOURCES.md / REFERENCE section 2 rows 1 and 2, as in the OpenAPI document: the final
    # result's sentiment `results` are typed a string and chapterization's an object; the docs
    # (and live `post_chapterization`) send lists.
    f"{_FINAL}/sentiment_analysis/properties/results": {},
    f"{_FINAL}/chapterization/properties/results": {},
}


def patch(document: dict[str, Any], patches: dict[str, Any]) -> dict[str, Any]:
    """A copy of `document` with each JSON pointer of `patches` set to its value."""
    doc = copy.deepcopy(document)
    for pointer, value in patches.items():
        *parents, last = [p.replace("~1", "/") for p in pointer.lstrip("/").split("/")]
        node = doc
        for part in parents:
            node = node[part]
        node[last] = value
    return doc


def patched_document() -> dict[str, Any]:
    """The vendored document with QUIRKS and ALLOW_LIST applied, auth left to the test."""
    doc = patch(openapi(), {**QUIRKS, **ALLOW_LIST})
    # Every call carries the key; auth failures are tested in test_fake.py.
    for item in doc["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict):
                operation.pop("security", None)
    doc.pop("security", None)
    return doc


@pytest.fixture(scope="module")
def fake_url() -> Iterator[str]:
    """A FakeGladia served from a thread of its own (schemathesis calls it synchronously)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    fake = FakeGladia(api_key=KEY, jobs=30, seed=11)
    asyncio.run_coroutine_threadsafe(fake.__aenter__(), loop).result(timeout=30)
    try:
        yield fake.url
    finally:
        asyncio.run_coroutine_threadsafe(fake.__aexit__(None, None, None), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def operations() -> list[Any]:
    schema = schemathesis.openapi.from_dict(patched_document()).include(path_regex=ROUTES)
    schema.config.generation.update(allow_extra_parameters=False, with_security_parameters=False)
    return [result.ok() for result in schema.get_all_operations()]


OPERATIONS = operations()


def test_every_route_of_the_fake_is_covered() -> None:
    labels = {op.label for op in OPERATIONS}
    assert len(labels) == 17, sorted(labels)
    assert {"POST /v2/upload", "POST /v2/live", "PATCH /v2/live/{id}"} <= labels


def has_constraints(operation: Any) -> bool:
    """True when an invalid input exists: a body or query parameters (a free-form path id has
    no invalid value; an unknown id is the 404 the positive run already meets)."""
    definition = operation.definition.raw
    return "requestBody" in definition or any(
        p.get("in") == "query" for p in definition.get("parameters", ())
    )


CASES = [
    pytest.param(op, mode, id=f"{op.label}-{mode.name.lower()}")
    for op in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or has_constraints(op)
]


@pytest.mark.parametrize(("operation", "mode"), CASES)
def test_the_fake_conforms(fake_url: str, operation: Any, mode: GenerationMode) -> None:
    import requests

    session = requests.Session()

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        response = case.call(base_url=fake_url, session=session, headers={"x-gladia-key": KEY})
        if mode is GenerationMode.POSITIVE and response.status_code == 400:
            errors = set(response.json().get("validation_errors") or ())
            if errors and all(
                e in ALLOWED_REJECTIONS or e.startswith(ALLOWED_REJECTION_PREFIXES) for e in errors
            ):
                return
        checks = [*CHECKS, st_checks.positive_data_acceptance]
        case.validate_response(response, checks=checks)

    try:
        run()
    finally:
        session.close()


async def test_the_fake_live_messages_conform_to_the_asyncapi() -> None:
    """Every message of a full live session on the fake validates against the AsyncAPI payload
    schema of its `type`, and decodes with the typed decoder in strict mode."""
    import base64
    import json

    import aiohttp
    import jsonschema_rs

    from gladia_async.types import UnknownMessage
    from gladia_async.webhooks import parse_live_message

    from .spec_helpers import asyncapi

    doc = patch(asyncapi(), ASYNCAPI_ALLOW_LIST)
    by_type = {
        message["name"]: message["payload"]
        for message in doc["components"]["messages"].values()
        if isinstance(message.get("payload"), dict) and "$ref" in message["payload"]
    }
    # Acks travel with the type of what they acknowledge; the document names them *_ack.
    by_type["audio_chunk"] = by_type.pop("audio_chunk_ack")
    by_type["stop_recording"] = by_type.pop("stop_recording_ack")
    body = {
        "messages_config": {k: True for k in ("receive_partial_transcripts",
                                                "receive_speech_events",
                                                "receive_acknowledgments",
                                                "receive_lifecycle_events")},
        "realtime_processing": {
            "translation": True,
            "translation_config": {"target_languages": ["fr"]},
            "named_entity_recognition": True,
            "sentiment_analysis": True,
        },
        "post_processing": {"summarization": True, "chapterization": True},
    }  # fmt: skip
    second = bytes(32000)
    async with FakeGladia(api_key=KEY, live_utterance_seconds=1.0) as fake:
        async with aiohttp.ClientSession(headers={"x-gladia-key": KEY}) as session:
            async with session.post(f"{fake.url}/v2/live", json=body) as r:
                created = await r.json()
            async with session.ws_connect(created["url"]) as ws:
                await ws.send_bytes(second)
                chunk = base64.b64encode(second).decode()
                await ws.send_str(json.dumps({"type": "audio_chunk", "data": {"chunk": chunk}}))
                await ws.send_str(json.dumps({"type": "stop_recording"}))
                messages = [json.loads(m.data) async for m in ws]
    seen = set()
    for message in messages:
        schema = {**by_type[message["type"]], "components": doc["components"]}
        errors = [str(e) for e in jsonschema_rs.validator_for(schema).iter_errors(message)]
        assert not errors, (message["type"], errors[:3])
        assert not isinstance(parse_live_message(json.dumps(message), strict=True), UnknownMessage)
        seen.add(message["type"])
    assert len(seen) >= 12, seen


def typed(struct: Any, key: str, value: Any) -> bool:
    """True when `key: value` is sendable as a typed option (no unknown key inside)."""
    from gladia_async import GladiaConfigError
    from gladia_async.resources import build_body

    try:
        build_body(struct, None, {key: value}, "generated")
    except GladiaConfigError as exc:
        if "unknown" in str(exc):
            return False
    return True


def integral(value: Any) -> Any:
    """`value` as a Python caller writes it: whole floats as ints (JSON Schema counts 2.0 as an
    integer) and no null members (a request Struct sends None as absent), recursively."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: integral(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [integral(v) for v in value]
    return value


@pytest.mark.parametrize(
    ("label", "struct_name"),
    [("POST /v2/pre-recorded", "PreRecordedRequest"), ("POST /v2/live", "LiveRequest")],
)
def test_every_valid_body_is_expressible_with_the_typed_request(
    label: str, struct_name: str
) -> None:
    """Bodies generated from the document convert to the request Struct and encode back to the
    same JSON: every documented option can be sent through `create(**options)`."""
    import msgspec

    import gladia_async.types
    from gladia_async.resources import build_body, with_extra_body

    struct = getattr(gladia_async.types, struct_name)
    operation = next(op for op in OPERATIONS if op.label == label)

    @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE))
    @settings(max_examples=4 * EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def run(case: Any) -> None:
        if not isinstance(case.body, dict):
            return
        body = integral(case.body)
        # Fields the document does not forbid but does not name (top level or nested) go in
        # extra_body, as a user would send them.
        known = {k: v for k, v in body.items() if typed(struct, k, v)}
        extra = {k: v for k, v in body.items() if k not in known}
        request = build_body(struct, None, known, "generated")
        sent = msgspec.json.decode(msgspec.json.encode(with_extra_body(request, extra or None)))
        assert sent == msgspec.json.decode(msgspec.json.encode(body))

    run()
