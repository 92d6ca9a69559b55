"""Every Gladia API object as a ``msgspec.Struct``.

Modules: ``common`` (words, utterances, add-on blocks, job result, ``Page``), ``upload``,
``pre_recorded``, ``live`` (REST), ``errors`` (``ErrorResponse``), ``lean`` (job summaries for
fast listings), ``ws`` (live WebSocket messages) and ``webhooks`` (callback and webhook bodies).
All public names are re-exported here.

Decoding rules for the REST Structs (``common``, ``upload``, ``pre_recorded``, ``live``):

- Unknown fields are ignored and enum-like fields (``status``, ``kind``, formats, models, ...) are
  plain ``str``, so the client keeps working when the API grows. ``JobStatus``/``JobKind`` are
  ``Literal`` aliases of the known values, for documentation and for your own annotations.
- Fields the API marks nullable or optional are ``X | None = None``. Where the sources disagree
  on a shape (REFERENCE.md section 2) the field is loose enough for every shape: sentiment,
  chapterization and structured-data ``results`` are any JSON (``Any``), PII ``entity_types`` is
  ``str | list[str]``, audio-to-LLM ``prompts`` are ``list[str | list[Any]]``,
  ``custom_vocabulary`` is ``bool | list[str]``, ``custom_metadata`` may be null.
- Timestamps (``created_at``, ``completed_at``) stay ``str`` exactly as sent (ISO 8601): decoding
  is faster and re-encoding is byte-identical (``datetime`` would re-encode ``.481Z`` as
  ``.481000Z``). Parse them with ``datetime.fromisoformat`` when you need to.
- Every Struct is declared ``gc=False`` (about 2x faster decoding of large pages), except the
  job Structs (``BaseJob`` and its subclasses): they are ``dict=True`` to carry ``raw_json``, the
  job's JSON exactly as the API sent it (see ``BaseJob.raw_json``). Do not build reference
  cycles through the other objects (e.g. by storing a job inside its own ``custom_metadata``):
  such a cycle would never be collected.

Encoding rules (absent vs ``null``), chosen per Struct so that decode -> encode gives back the
API's JSON:

- Requests and request echoes (``PreRecordedRequest``, ``LiveRequest``, their ``*Params`` and every
  ``*Config``) use ``omit_defaults=True``: a field left at ``None`` is not sent, any value you set
  (``False`` included) is. A ``null`` in an echo comes back absent.
- Response Structs whose optional fields the API omits rather than nulls (``Utterance.speaker``,
  ``Transcription``, ``TranscriptionResult``/``LiveResult`` blocks, ``AudioMetadata.source``) use
  ``omit_defaults=True`` too.
- The other response Structs (jobs, ``JobFile``, add-on blocks, ``TranslationResult``, ``Page``,
  ``ErrorResponse``) encode every field, so a ``null`` the API sent comes back as ``null``; a
  field the API left out comes back as ``null`` as well.
- ``Page.offset`` is filled in by the client (the API does not send it) and is encoded.

tests/test_types.py checks these rules on every example payload: after decode -> encode, every key
of the original is present with an equal value; the only keys allowed to appear are ``null``
ones the original lacked (and ``Page.offset``). Ints in float fields re-encode as floats (``1`` ->
``1.0``), which compares equal.
"""

from __future__ import annotations

from .common import (
    AddonBlock,
    AddonError,
    AudioToLlmBlock,
    AudioToLlmItem,
    AudioToLlmResult,
    BaseJob,
    ChapterizationBlock,
    DiarizationBlock,
    DisplayModeBlock,
    JobFile,
    JobKind,
    JobStatus,
    ModerationBlock,
    NameConsistencyBlock,
    NamedEntity,
    NamedEntityRecognitionBlock,
    Page,
    ResultMetadata,
    SentencesBlock,
    SentimentAnalysisBlock,
    StructuredDataExtractionBlock,
    Subtitle,
    SummarizationBlock,
    Transcription,
    TranscriptionResult,
    TranslationBlock,
    TranslationResult,
    UnknownStatus,
    Utterance,
    Word,
)
from .errors import ErrorResponse
from .lean import JobSummary, LiveJobSummary, PreRecordedJobSummary
from .live import (
    LiveCallbackConfig,
    LiveJob,
    LiveRequest,
    LiveRequestParams,
    LiveResult,
    LiveSession,
    MessagesConfig,
    PostProcessingConfig,
    PreProcessingConfig,
    RealtimeProcessingConfig,
)
from .pre_recorded import (
    AudioToLlmConfig,
    CallbackConfig,
    CreatedJob,
    CustomSpellingConfig,
    CustomVocabularyConfig,
    DiarizationConfig,
    LanguageConfig,
    PiiRedactionConfig,
    PreRecordedJob,
    PreRecordedRequest,
    PreRecordedRequestParams,
    SubtitlesConfig,
    SummarizationConfig,
    TranslationConfig,
    VocabularyEntry,
)
from .upload import AudioMetadata, UploadResult, UploadUrlRequest
from .webhooks import (
    Callback,
    CallbackError,
    LiveCallback,
    LiveEndRecordingWebhook,
    LiveEndSessionWebhook,
    LiveStartRecordingWebhook,
    LiveStartSessionWebhook,
    PreRecordedCallbackError,
    PreRecordedCallbackSuccess,
    TranscriptionCreatedWebhook,
    TranscriptionErrorWebhook,
    TranscriptionSuccessWebhook,
    UnknownCallback,
    UnknownWebhook,
    Webhook,
    WebhookJobRef,
)
from .ws import (
    AudioChunkAck,
    AudioChunkAckData,
    AudioChunkAction,
    AudioChunkActionData,
    EndRecordingData,
    EndRecordingMessage,
    EndSessionMessage,
    LiveChapter,
    LiveChapterizationData,
    LiveChapterSentence,
    LiveMessage,
    LiveServerMessage,
    MessageError,
    NamedEntityRecognitionData,
    NamedEntityRecognitionMessage,
    PostChapterizationMessage,
    PostFinalTranscriptMessage,
    PostSummarizationData,
    PostSummarizationMessage,
    PostTranscriptMessage,
    SentimentAnalysisData,
    SentimentAnalysisMessage,
    SentimentResult,
    SpeechEndMessage,
    SpeechEventData,
    SpeechStartMessage,
    StartRecordingMessage,
    StartSessionMessage,
    StopRecordingAck,
    StopRecordingAckData,
    StopRecordingAction,
    TranscriptData,
    TranscriptMessage,
    TranslationData,
    TranslationMessage,
    UnknownMessage,
)

__all__ = [
    "AddonBlock",
    "AddonError",
    "AudioChunkAck",
    "AudioChunkAckData",
    "AudioChunkAction",
    "AudioChunkActionData",
    "AudioMetadata",
    "AudioToLlmBlock",
    "AudioToLlmConfig",
    "AudioToLlmItem",
    "AudioToLlmResult",
    "BaseJob",
    "Callback",
    "CallbackConfig",
    "CallbackError",
    "ChapterizationBlock",
    "CreatedJob",
    "CustomSpellingConfig",
    "CustomVocabularyConfig",
    "DiarizationBlock",
    "DiarizationConfig",
    "DisplayModeBlock",
    "EndRecordingData",
    "EndRecordingMessage",
    "EndSessionMessage",
    "ErrorResponse",
    "JobFile",
    "JobKind",
    "JobStatus",
    "JobSummary",
    "LanguageConfig",
    "LiveCallback",
    "LiveCallbackConfig",
    "LiveChapter",
    "LiveChapterSentence",
    "LiveChapterizationData",
    "LiveEndRecordingWebhook",
    "LiveEndSessionWebhook",
    "LiveJob",
    "LiveJobSummary",
    "LiveMessage",
    "LiveRequest",
    "LiveRequestParams",
    "LiveResult",
    "LiveServerMessage",
    "LiveSession",
    "LiveStartRecordingWebhook",
    "LiveStartSessionWebhook",
    "MessageError",
    "MessagesConfig",
    "ModerationBlock",
    "NameConsistencyBlock",
    "NamedEntity",
    "NamedEntityRecognitionBlock",
    "NamedEntityRecognitionData",
    "NamedEntityRecognitionMessage",
    "Page",
    "PiiRedactionConfig",
    "PostChapterizationMessage",
    "PostFinalTranscriptMessage",
    "PostProcessingConfig",
    "PostSummarizationData",
    "PostSummarizationMessage",
    "PostTranscriptMessage",
    "PreProcessingConfig",
    "PreRecordedCallbackError",
    "PreRecordedCallbackSuccess",
    "PreRecordedJob",
    "PreRecordedJobSummary",
    "PreRecordedRequest",
    "PreRecordedRequestParams",
    "RealtimeProcessingConfig",
    "ResultMetadata",
    "SentencesBlock",
    "SentimentAnalysisBlock",
    "SentimentAnalysisData",
    "SentimentAnalysisMessage",
    "SentimentResult",
    "SpeechEndMessage",
    "SpeechEventData",
    "SpeechStartMessage",
    "StartRecordingMessage",
    "StartSessionMessage",
    "StopRecordingAck",
    "StopRecordingAckData",
    "StopRecordingAction",
    "StructuredDataExtractionBlock",
    "Subtitle",
    "SubtitlesConfig",
    "SummarizationBlock",
    "SummarizationConfig",
    "TranscriptData",
    "TranscriptMessage",
    "Transcription",
    "TranscriptionCreatedWebhook",
    "TranscriptionErrorWebhook",
    "TranscriptionResult",
    "TranscriptionSuccessWebhook",
    "TranslationBlock",
    "TranslationConfig",
    "TranslationData",
    "TranslationMessage",
    "TranslationResult",
    "UnknownCallback",
    "UnknownMessage",
    "UnknownStatus",
    "UnknownWebhook",
    "UploadResult",
    "UploadUrlRequest",
    "Utterance",
    "VocabularyEntry",
    "Webhook",
    "WebhookJobRef",
    "Word",
]
