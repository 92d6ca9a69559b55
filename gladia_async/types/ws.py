"""Live WebSocket messages (REFERENCE.md section 8): a msgspec tagged union on ``type``.

Server messages share ``session_id`` and ``created_at``; ``type`` picks the variant. A message
whose ``type`` this version does not know decodes as :class:`UnknownMessage` (the raw dict kept)
rather than failing, so a client keeps working when the API grows. Decode with
:func:`gladia_async.parse_live_message` (or iterate a live connection), not with a bare
``msgspec`` decoder of the union, which would reject unknown types.
"""

from __future__ import annotations

from typing import Any, Generic, TypeAlias, TypeVar

import msgspec

from .common import NamedEntity, Transcription, TranscriptionResult, Utterance, Word

D = TypeVar("D")

__all__ = [
    "AudioChunkAck",
    "AudioChunkAckData",
    "AudioChunkAction",
    "AudioChunkActionData",
    "EndRecordingData",
    "EndRecordingMessage",
    "EndSessionMessage",
    "LiveChapter",
    "LiveChapterSentence",
    "LiveChapterizationData",
    "LiveMessage",
    "LiveServerMessage",
    "MessageError",
    "NamedEntityRecognitionData",
    "NamedEntityRecognitionMessage",
    "PostChapterizationMessage",
    "PostFinalTranscriptMessage",
    "PostSummarizationData",
    "PostSummarizationMessage",
    "PostTranscriptMessage",
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
    "TranscriptData",
    "TranscriptMessage",
    "TranslationData",
    "TranslationMessage",
    "UnknownMessage",
]


class MessageError(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """The ``error`` of a failed add-on or a rejected ack.

    The SDK types say ``{message}``; the AsyncAPI adds ``status_code`` (int or string) and
    ``exception``: every field is optional.
    """

    message: str | None = None
    status_code: int | str | None = None
    exception: str | None = None


class _Message(msgspec.Struct, kw_only=True, tag_field="type", gc=False):
    """Envelope fields every server message carries (section 8.3)."""

    session_id: str | None = None
    created_at: str | None = None
    """ISO 8601 creation time of the message, kept as the server wrote it."""

    @property
    def type(self) -> str:
        """The wire ``type`` of this message (its union tag)."""
        return str(self.__struct_config__.tag)


class _Outcome(_Message, Generic[D], kw_only=True):
    """A message with ``data``, or ``error`` set (and ``data`` None) when its work failed."""

    error: MessageError | None = None
    data: D | None = None


class _UtteranceData(msgspec.Struct, kw_only=True, gc=False):
    """Add-on output about one utterance (``utterance_id`` as in the transcript messages)."""

    utterance_id: str
    utterance: Utterance


# --- realtime -----------------------------------------------------------------------------


class TranscriptData(msgspec.Struct, kw_only=True, gc=False):
    """A transcript: ``id`` (shared by the partials and final of one utterance, presumably),
    ``is_final`` and the utterance."""

    id: str
    is_final: bool
    utterance: Utterance


class TranscriptMessage(_Message, tag="transcript"):
    """A partial (``data.is_final`` false) or final transcript of one utterance."""

    data: TranscriptData

    @property
    def is_final(self) -> bool:
        """Shortcut for ``data.is_final``."""
        return self.data.is_final

    @property
    def text(self) -> str:
        """Shortcut for ``data.utterance.text``."""
        return str(self.data.utterance.text)


class SpeechEventData(msgspec.Struct, kw_only=True, gc=False):
    """When speech started or ended: ``time`` in seconds, on ``channel``."""

    time: float
    # A number per the SDK types, an integer per the AsyncAPI (REFERENCE section 2 row 16).
    channel: int | float


class SpeechStartMessage(_Message, tag="speech_start"):
    """Speech started (``receive_speech_events``)."""

    data: SpeechEventData


class SpeechEndMessage(_Message, tag="speech_end"):
    """Speech ended (``receive_speech_events``)."""

    data: SpeechEventData


class TranslationData(_UtteranceData, kw_only=True, gc=False):
    """One utterance and its translation into ``target_language``."""

    original_language: str
    target_language: str
    translated_utterance: Utterance


class TranslationMessage(_Outcome[TranslationData], tag="translation"):
    """Realtime translation of one utterance; ``data`` is None and ``error`` set on failure."""


class NamedEntityRecognitionData(_UtteranceData, kw_only=True, gc=False):
    """Entities found in one utterance."""

    results: list[NamedEntity]


class NamedEntityRecognitionMessage(
    _Outcome[NamedEntityRecognitionData], tag="named_entity_recognition"
):
    """Realtime named-entity recognition of one utterance (``error`` set on failure)."""


class SentimentResult(msgspec.Struct, kw_only=True, gc=False):
    """Sentiment and emotion of a span of an utterance."""

    sentiment: str
    emotion: str
    text: str
    start: float
    end: float
    channel: int | float  # as SpeechEventData.channel (REFERENCE section 2 row 16)


class SentimentAnalysisData(_UtteranceData, kw_only=True, gc=False):
    """Sentiment analysis of one utterance."""

    results: list[SentimentResult]


class SentimentAnalysisMessage(_Outcome[SentimentAnalysisData], tag="sentiment_analysis"):
    """Realtime sentiment analysis of one utterance (``error`` set on failure)."""


# --- post-processing ----------------------------------------------------------------------


class PostTranscriptMessage(_Message, tag="post_transcript"):
    """The whole session's transcription, after the recording ended."""

    data: Transcription


class PostFinalTranscriptMessage(_Message, tag="post_final_transcript"):
    """The session's final result (metadata, transcription and add-on blocks)."""

    data: TranscriptionResult


class LiveChapterSentence(msgspec.Struct, kw_only=True, gc=False):
    """A sentence of a chapter, with its words."""

    sentence: str
    start: float
    end: float
    words: list[Word] = msgspec.field(default_factory=list)


class LiveChapter(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """One chapter of a live session (``post_chapterization``)."""

    headline: str | None = None
    gist: str | None = None
    keywords: list[str] = msgspec.field(default_factory=list)
    start: float | None = None
    end: float | None = None
    sentences: list[LiveChapterSentence] = msgspec.field(default_factory=list)
    text: str | None = None
    abstractive_summary: str | None = None
    extractive_summary: str | None = None
    summary: str | None = None


class LiveChapterizationData(msgspec.Struct, kw_only=True, gc=False):
    """The chapters of the session."""

    results: list[LiveChapter]


class PostChapterizationMessage(_Outcome[LiveChapterizationData], tag="post_chapterization"):
    """Chapters, after the recording ended (``error`` set on failure)."""


class PostSummarizationData(msgspec.Struct, kw_only=True, gc=False):
    """The summary text."""

    results: Any


class PostSummarizationMessage(_Outcome[PostSummarizationData], tag="post_summarization"):
    """The summary, after the recording ended (``error`` set on failure)."""


# --- acknowledgments ----------------------------------------------------------------------


class AudioChunkAckData(msgspec.Struct, kw_only=True, gc=False):
    """Which bytes (and seconds) of the whole session an ack covers.

    ``byte_range`` is ``[start, end]``; whether ``end`` is inclusive is undocumented (the SDK and
    the examples read it as exclusive: the count of bytes acknowledged so far).
    """

    byte_range: tuple[int, int]
    time_range: tuple[float, float]


class AudioChunkAck(_Outcome[AudioChunkAckData], tag="audio_chunk"):
    """Acknowledgment of received audio (``receive_acknowledgments``)."""

    acknowledged: bool = False


class StopRecordingAckData(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Seconds recorded, and seconds still to process, when ``stop_recording`` was received."""

    recording_duration: float | None = None
    recording_left_to_process: float | None = None


class StopRecordingAck(_Outcome[StopRecordingAckData], tag="stop_recording"):
    """Acknowledgment of ``stop_recording``."""

    acknowledged: bool = False


# --- lifecycle ----------------------------------------------------------------------------


class StartSessionMessage(_Message, tag="start_session"):
    """The session started (``receive_lifecycle_events``)."""


class StartRecordingMessage(_Message, tag="start_recording"):
    """The first audio was received (``receive_lifecycle_events``)."""


class EndRecordingData(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """How much audio was recorded, in seconds."""

    recording_duration: float | None = None


class EndRecordingMessage(_Message, tag="end_recording"):
    """The recording ended (``receive_lifecycle_events``)."""

    data: EndRecordingData | None = None


class EndSessionMessage(_Message, tag="end_session"):
    """The session ended; post-processing is done (``receive_lifecycle_events``)."""


class UnknownMessage(msgspec.Struct, kw_only=True, gc=False):
    """A server message of a ``type`` this version does not know (or could not decode).

    ``raw`` is the whole message as a dict; ``decode_error`` says why it was not typed when its
    ``type`` was known but its shape was not (None for an unknown type).
    """

    type: str
    raw: dict[str, Any]
    session_id: str | None = None
    created_at: str | None = None
    decode_error: str | None = None


LiveMessage: TypeAlias = (
    TranscriptMessage
    | SpeechStartMessage
    | SpeechEndMessage
    | TranslationMessage
    | NamedEntityRecognitionMessage
    | SentimentAnalysisMessage
    | PostTranscriptMessage
    | PostFinalTranscriptMessage
    | PostChapterizationMessage
    | PostSummarizationMessage
    | AudioChunkAck
    | StopRecordingAck
    | StartSessionMessage
    | StartRecordingMessage
    | EndRecordingMessage
    | EndSessionMessage
)
"""Every server message type REFERENCE.md section 8.4 defines."""

LiveServerMessage: TypeAlias = LiveMessage | UnknownMessage
"""What a live connection yields: a known message, or an UnknownMessage."""


# --- client actions (JSON frames the client may send) -------------------------------------


class AudioChunkActionData(msgspec.Struct, kw_only=True, gc=False):
    """Audio bytes, base64 on the wire."""

    chunk: bytes


class AudioChunkAction(msgspec.Struct, kw_only=True, tag_field="type", tag="audio_chunk"):
    """JSON form of an audio chunk (binary frames are preferred: a third smaller)."""

    data: AudioChunkActionData


class StopRecordingAction(msgspec.Struct, kw_only=True, tag_field="type", tag="stop_recording"):
    """Ask the server to finish: no more audio is accepted afterwards."""
