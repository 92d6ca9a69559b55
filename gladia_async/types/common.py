"""Objects shared by pre-recorded and live jobs: words, utterances, add-on blocks, the job
``result``, the file record and the list envelope ``Page`` (REFERENCE.md sections 4, 6.5, 6.6).

Response Structs are tolerant: unknown fields are ignored and enum-like fields are plain ``str``.
"""

from __future__ import annotations

import difflib
from typing import Any, Generic, Literal, TypeVar, get_args

import msgspec

__all__ = [
    "AddonBlock",
    "AddonError",
    "AudioToLlmBlock",
    "AudioToLlmItem",
    "AudioToLlmResult",
    "BaseJob",
    "ChapterizationBlock",
    "DiarizationBlock",
    "DisplayModeBlock",
    "JobFile",
    "JobKind",
    "JobStatus",
    "ModerationBlock",
    "NameConsistencyBlock",
    "NamedEntity",
    "NamedEntityRecognitionBlock",
    "Page",
    "ResultMetadata",
    "SentencesBlock",
    "SentimentAnalysisBlock",
    "StructuredDataExtractionBlock",
    "Subtitle",
    "SummarizationBlock",
    "Transcription",
    "TranscriptionResult",
    "TranslationBlock",
    "TranslationResult",
    "UnknownStatus",
    "Utterance",
    "Word",
]

T = TypeVar("T")

#: Known job statuses (documentation only: ``status`` fields are typed ``str`` so that a status
#: added by the API later still decodes).
JobStatus = Literal["queued", "processing", "done", "error"]
#: Known job kinds (documentation only; ``kind`` fields are ``str``).
JobKind = Literal["pre-recorded", "live"]

KNOWN_STATUSES: tuple[str, ...] = get_args(JobStatus)
_STATUS_SYNONYMS = {
    "finished": "done", "completed": "done", "complete": "done", "success": "done",
    "succeeded": "done", "failed": "error", "failure": "error", "errored": "error",
    "pending": "queued", "waiting": "queued", "running": "processing", "started": "processing",
    "in_progress": "processing", "in-progress": "processing",
}  # fmt: skip


class UnknownStatus(str):
    """A job status this client does not know yet, passed to ``list(status=...)`` as is.

    Plain strings are checked against ``JobStatus`` before any I/O (a typo would otherwise list
    nothing); wrap a value the API added later: ``status=UnknownStatus("archived")``.
    """

    __slots__ = ()


def suggest_status(value: str) -> str | None:
    """The known status a mistyped or synonymous one most likely meant ("finished" -> "done")."""
    text = value.strip().lower()
    if text in KNOWN_STATUSES:
        return text
    if text in _STATUS_SYNONYMS:
        return _STATUS_SYNONYMS[text]
    close = difflib.get_close_matches(text, KNOWN_STATUSES, n=1, cutoff=0.6)
    return close[0] if close else None


class Word(msgspec.Struct, kw_only=True, gc=False):
    """One recognised word with its timing in seconds (REFERENCE 4.2)."""

    word: str
    start: float
    end: float
    confidence: float


class Utterance(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """A stretch of speech on one channel (REFERENCE 4.2).

    The AsyncAPI declares no required field here and its own examples omit ``confidence``,
    ``channel``, ``words`` and ``language``: those default to None (``[]`` for ``words``).
    """

    start: float
    end: float
    confidence: float | None = None
    channel: int | None = None
    # Absent (not null) without diarization, and always absent on live utterances.
    speaker: int | None = None
    words: list[Word] = msgspec.field(default_factory=list)
    text: str
    language: str | None = None


class Subtitle(msgspec.Struct, kw_only=True, gc=False):
    """A whole subtitle file in one format, e.g. ``srt`` or ``vtt`` (REFERENCE 4.2)."""

    format: str
    subtitles: str


class AddonError(msgspec.Struct, kw_only=True, gc=False):
    """Why an add-on failed (REFERENCE 4.3); ``status_code`` may be a string on live messages."""

    status_code: int | str | None = None
    exception: str | None = None
    message: str | None = None


class AddonBlock(msgspec.Struct, kw_only=True, gc=False):
    """Fields every add-on result block has; the subclasses add ``results`` (REFERENCE 4.3)."""

    success: bool
    is_empty: bool
    exec_time: float
    error: AddonError | None = None


class SentencesBlock(AddonBlock, kw_only=True, gc=False):
    """Sentence segmentation: one string per sentence (REFERENCE 4.2, 6.6)."""

    results: list[str] | None = None


class TranslationResult(msgspec.Struct, kw_only=True, gc=False):
    """The transcript translated into one target language (REFERENCE 6.6)."""

    error: AddonError | None = None
    full_transcript: str
    languages: list[str] = msgspec.field(default_factory=list)
    sentences: list[SentencesBlock] | None = None
    subtitles: list[Subtitle] | None = None
    utterances: list[Utterance] = msgspec.field(default_factory=list)


class TranslationBlock(AddonBlock, kw_only=True, gc=False):
    """Translation add-on: one ``TranslationResult`` per target language (REFERENCE 6.6)."""

    results: list[TranslationResult] | None = None


class SummarizationBlock(AddonBlock, kw_only=True, gc=False):
    """Summarization add-on: the summary text (REFERENCE 6.6)."""

    results: str | None = None


class ModerationBlock(AddonBlock, kw_only=True, gc=False):
    """Moderation add-on (legacy): the moderated transcript (REFERENCE 6.6)."""

    results: str | None = None


class NamedEntity(msgspec.Struct, kw_only=True, gc=False):
    """One entity found by named-entity recognition, e.g. ``NAME_GIVEN`` (REFERENCE 6.6)."""

    entity_type: str
    text: str
    start: float
    end: float


class NamedEntityRecognitionBlock(AddonBlock, kw_only=True, gc=False):
    """Named-entity recognition add-on (REFERENCE 6.6, section 2 row 9)."""

    results: list[NamedEntity] | None = None
    # Older API versions sent a JSON string in ``entity`` instead of ``results``.
    entity: str | None = None


class NameConsistencyBlock(AddonBlock, kw_only=True, gc=False):
    """Name-consistency add-on (deprecated): the corrected transcript (REFERENCE 6.6)."""

    results: str | None = None


class StructuredDataExtractionBlock(AddonBlock, kw_only=True, gc=False):
    """Structured-data extraction (legacy); ``results``: any JSON, string or object (section 2)."""

    results: Any = None


class SentimentAnalysisBlock(AddonBlock, kw_only=True, gc=False):
    """Sentiment analysis; ``results``: any JSON, a string per schema, a list per docs (sec. 2)."""

    results: Any = None


class AudioToLlmResult(msgspec.Struct, kw_only=True, gc=False):
    """One prompt and the LLM's answer to it (REFERENCE 6.6)."""

    prompt: str | None = None
    response: str | None = None


class AudioToLlmItem(AddonBlock, kw_only=True, gc=False):
    """The add-on block for one audio-to-LLM prompt (REFERENCE 6.6)."""

    results: AudioToLlmResult | None = None


class AudioToLlmBlock(AddonBlock, kw_only=True, gc=False):
    """Audio-to-LLM add-on: one ``AudioToLlmItem`` per prompt (REFERENCE 6.6)."""

    results: list[AudioToLlmItem] | None = None


class DisplayModeBlock(AddonBlock, kw_only=True, gc=False):
    """Display-mode add-on (legacy): transcript lines reordered for overlaps (REFERENCE 6.6)."""

    results: list[str] | None = None


class ChapterizationBlock(AddonBlock, kw_only=True, gc=False):
    """Chapterization; ``results``: any JSON, an object per schema, a list per docs (section 2)."""

    results: Any = None


class DiarizationBlock(AddonBlock, kw_only=True, gc=False):
    """Diarization block (deprecated; sent when diarization failed): utterances (REFERENCE 6.6)."""

    results: list[Utterance] | None = None


class Transcription(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """The transcript: full text, detected languages, utterances (REFERENCE 6.6).

    ``languages`` and ``utterances`` default to ``[]``: the AsyncAPI's post-transcript examples
    omit them.
    """

    full_transcript: str
    languages: list[str] = msgspec.field(default_factory=list)
    sentences: list[SentencesBlock] | None = None
    subtitles: list[Subtitle] | None = None
    utterances: list[Utterance] = msgspec.field(default_factory=list)


class ResultMetadata(msgspec.Struct, kw_only=True, gc=False):
    """Durations and billing of a finished job, in seconds (REFERENCE 6.6)."""

    audio_duration: float
    number_of_distinct_channels: int
    billing_time: float
    transcription_time: float


class TranscriptionResult(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """A job's ``result``: metadata plus one block per feature that ran (REFERENCE 6.6)."""

    metadata: ResultMetadata
    transcription: Transcription | None = None
    translation: TranslationBlock | None = None
    summarization: SummarizationBlock | None = None
    moderation: ModerationBlock | None = None
    named_entity_recognition: NamedEntityRecognitionBlock | None = None
    name_consistency: NameConsistencyBlock | None = None
    structured_data_extraction: StructuredDataExtractionBlock | None = None
    sentiment_analysis: SentimentAnalysisBlock | None = None
    audio_to_llm: AudioToLlmBlock | None = None
    sentences: SentencesBlock | None = None
    display_mode: DisplayModeBlock | None = None
    chapterization: ChapterizationBlock | None = None
    diarization: DiarizationBlock | None = None


class JobFile(msgspec.Struct, kw_only=True, gc=False):
    """The audio file of a job (``FileResponse``, REFERENCE 6.5); metadata null while queued."""

    id: str
    filename: str | None = None
    source: str | None = None
    audio_duration: float | None = None
    number_of_channels: int | None = None


class Page(msgspec.Struct, Generic[T], kw_only=True, gc=False):
    """One page of a job listing (REFERENCE 6.3); ``offset`` is set by the client, not the API."""

    items: list[T]
    next_url: str | None = msgspec.field(default=None, name="next")
    first: str | None = None
    current: str | None = None
    # Offset of items[0] in the listing. Not sent by the API: the client fills it in.
    offset: int = 0


class BaseJob(msgspec.Struct, kw_only=True, dict=True):
    """Fields shared by pre-recorded and live jobs (REFERENCE 6.5); see the subclasses.

    ``raw_json`` gives back the job's JSON exactly as the API sent it, unknown fields included.
    (Jobs are the one GC-tracked Struct: ``dict=True``, which holds it, excludes ``gc=False``;
    one tracked object per job costs nothing measurable, the gain was on words and utterances.)
    """

    id: str
    request_id: str
    version: int
    status: str  # see JobStatus; unknown values are kept
    created_at: str  # ISO 8601, kept as sent
    completed_at: str | None = None
    # Not nullable per schema, but the docs show null (REFERENCE section 2 row 8).
    custom_metadata: dict[str, Any] | None = None
    error_code: int | None = None
    post_session_metadata: dict[str, Any] | None = None
    kind: str
    file: JobFile | None = None

    @property
    def raw_json(self) -> bytes | None:
        """This job's JSON exactly as the API sent it (every field, known or not, in the
        server's order), for mirrors and exports that must not lose what the types do not
        model; ``None`` when the client did not keep it.

        Kept by ``get``, ``get_many``, ``wait`` and ``transcribe`` (the response body itself)
        and, with ``raw_json=True``, by ``list`` and ``list_page`` (a copy of each item's
        bytes, so a job kept alive does not pin its page). A Struct you build, change with
        ``msgspec.structs.replace`` or decode yourself has none: it is not what the server
        sent.
        """
        raw = self.__dict__.get(RAW_JSON_KEY)
        return raw if isinstance(raw, bytes) else None


RAW_JSON_KEY = "_raw_json"
"""Where a job's ``__dict__`` holds its ``raw_json`` (set by the client's decoders)."""
