"""Every message example of Gladia's OpenAPI and AsyncAPI documents decodes with the typed
decoders in strict mode (tests/spec/examples.json, made by scripts/make_schema)."""

from __future__ import annotations

import msgspec
import pytest

from gladia_async.types import (
    AudioChunkAction,
    LiveCallback,
    StopRecordingAction,
    UnknownCallback,
    UnknownMessage,
    UnknownWebhook,
)
from gladia_async.webhooks import parse_callback, parse_live_message, parse_webhook

from .spec_helpers import examples


def ids(items: list[dict[str, object]]) -> list[str]:
    return [str(x["source"]).split("#", 1)[1] for x in items]


def test_both_documents_give_examples() -> None:
    sources = {str(x["source"]).split("#")[0] for x in examples()}
    assert sources == {"asyncapi.yaml", "openapi.json"}
    assert len(examples("live_message")) >= 30 and len(examples("live_callback")) >= 15


@pytest.mark.parametrize("example", examples("live_message"), ids=ids(examples("live_message")))
def test_live_message_examples_decode_strictly(example: dict[str, object]) -> None:
    body = msgspec.json.encode(example["payload"])
    message = parse_live_message(body, strict=True)
    assert not isinstance(message, UnknownMessage)
    assert message.type == example["payload"]["type"]  # type: ignore[index]


@pytest.mark.parametrize("example", examples("live_callback"), ids=ids(examples("live_callback")))
def test_live_callback_examples_decode(example: dict[str, object]) -> None:
    callback = parse_callback(msgspec.json.encode(example["payload"]))
    assert isinstance(callback, LiveCallback)
    assert not isinstance(callback.payload, UnknownMessage)


@pytest.mark.parametrize("example", examples("callback"), ids=ids(examples("callback")))
def test_prerecorded_callback_examples_decode(example: dict[str, object]) -> None:
    assert not isinstance(parse_callback(msgspec.json.encode(example["payload"])), UnknownCallback)


@pytest.mark.parametrize("example", examples("webhook"), ids=ids(examples("webhook")))
def test_webhook_examples_decode(example: dict[str, object]) -> None:
    assert not isinstance(parse_webhook(msgspec.json.encode(example["payload"])), UnknownWebhook)


def test_client_message_examples_decode() -> None:
    decoder = msgspec.json.Decoder(AudioChunkAction | StopRecordingAction)
    kinds = {
        type(decoder.decode(msgspec.json.encode(x["payload"]))) for x in examples("client_message")
    }
    assert kinds == {AudioChunkAction, StopRecordingAction}


def test_utterance_without_optional_fields_gets_defaults() -> None:
    """The AsyncAPI's own translation example: no confidence, channel or words."""
    example = next(x for x in examples() if x["source"].endswith("TranslationMessage/examples/0"))
    message = parse_live_message(msgspec.json.encode(example["payload"]))
    utterance = message.data.utterance  # type: ignore[union-attr]
    assert utterance.words == [] and utterance.confidence is None and utterance.channel is None
    assert utterance.text == "buenos días"


NUMBER_FIELDS = {
    # OpenAPI schema -> our Struct: every property the document types `number` must take a float.
    "AudioUploadMetadataDTO": "AudioMetadata",
    "CustomVocabularyEntryDTO": "VocabularyEntry",
    "CustomVocabularyConfigDTO": "CustomVocabularyConfig",
    "SubtitlesConfigDTO": "SubtitlesConfig",
    "BadRequestErrorResponse": "ErrorResponse",
    "FileResponse": "JobFile",
    "TranscriptionMetadataDTO": "ResultMetadata",
    "SentencesDTO": "SentencesBlock",
    "WordDTO": "Word",
    "UtteranceDTO": "Utterance",
    "NamedEntityRecognitionResult": "NamedEntity",
    "ChapterizationDTO": "ChapterizationBlock",
    "PreProcessingConfig": "PreProcessingConfig",
    "StreamingRequestParamsResponse": "LiveRequestParams",
    "StreamingRequest": "LiveRequest",
    "AudioChunkAckData": "AudioChunkAckData",
    "EndRecordingMessageData": "EndRecordingData",
    "ChapterizationSentence": "LiveChapterSentence",
    "PostChapterizationResult": "LiveChapter",
    "SentimentAnalysisResult": "SentimentResult",
    "StopRecordingAckData": "StopRecordingAckData",
    "SpeechMessageData": "SpeechEventData",
}


def accepts_float(info: msgspec.inspect.Type) -> bool:
    if isinstance(info, msgspec.inspect.FloatType | msgspec.inspect.AnyType):
        return True
    if isinstance(info, msgspec.inspect.UnionType):
        return any(accepts_float(t) for t in info.types)
    if isinstance(info, msgspec.inspect.ListType | msgspec.inspect.VarTupleType):
        return accepts_float(info.item_type)
    if isinstance(info, msgspec.inspect.TupleType):
        return all(accepts_float(t) for t in info.item_types)
    return False


def test_every_number_of_the_document_accepts_a_float() -> None:
    """`number` in the spec means int or float: no such field may be typed int alone."""
    import gladia_async.types as types

    from .spec_helpers import openapi

    schemas = openapi()["components"]["schemas"]
    checked = 0
    for schema_name, struct_name in NUMBER_FIELDS.items():
        struct = getattr(types, struct_name)
        fields = {f.encode_name: f for f in msgspec.inspect.type_info(struct).fields}
        for prop, spec in schemas[schema_name]["properties"].items():
            is_number = (
                spec.get("type") == "number" or spec.get("items", {}).get("type") == "number"
            )
            if is_number and prop in fields:
                assert accepts_float(fields[prop].type), (struct_name, prop)
                checked += 1
    assert checked >= 38
