"""Pre-recorded jobs: the ``POST /v2/pre-recorded`` body and its config blocks, the 201 answer,
and the job object (REFERENCE.md sections 6.1, 6.5).

Request Structs use ``omit_defaults=True`` and default every optional field to ``None``: only the
fields you set are sent, so the server applies its own defaults to the rest (and an explicit
``False`` is still sent).
"""

from __future__ import annotations

from typing import Any

import msgspec

from .common import BaseJob, TranscriptionResult

__all__ = [
    "AudioToLlmConfig",
    "CallbackConfig",
    "CreatedJob",
    "CustomSpellingConfig",
    "CustomVocabularyConfig",
    "DiarizationConfig",
    "LanguageConfig",
    "PiiRedactionConfig",
    "PreRecordedJob",
    "PreRecordedRequest",
    "PreRecordedRequestParams",
    "SubtitlesConfig",
    "SummarizationConfig",
    "TranslationConfig",
    "VocabularyEntry",
]


class LanguageConfig(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Which languages to expect (empty = detect among all) and code switching (REFERENCE 6.1)."""

    languages: list[str] | None = None
    code_switching: bool | None = None


class VocabularyEntry(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """A custom-vocabulary word with its own intensity, pronunciations, language (REFERENCE 6.1)."""

    value: str
    intensity: float | None = None
    pronunciations: list[str] | None = None
    language: str | None = None


class CustomVocabularyConfig(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Words to favour: plain strings or ``VocabularyEntry`` objects (REFERENCE 6.1)."""

    vocabulary: list[str | VocabularyEntry]
    default_intensity: float | None = None


class CallbackConfig(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Where Gladia sends the job result when done; ``method`` is ``POST`` or ``PUT`` (REF 6.1)."""

    url: str
    method: str | None = None


class SubtitlesConfig(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Subtitle formats (``srt``, ``vtt``) and layout limits (REFERENCE 6.1)."""

    formats: list[str] | None = None
    minimum_duration: float | None = None
    maximum_duration: float | None = None
    maximum_characters_per_row: int | None = None
    maximum_rows_per_caption: int | None = None
    style: str | None = None  # "default" or "compliance"


class DiarizationConfig(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Speaker-count hints for diarization (REFERENCE 6.1)."""

    number_of_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None


class TranslationConfig(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Target languages and options of the translation add-on (REFERENCE 6.1)."""

    target_languages: list[str]
    model: str | None = None  # "base" or "enhanced"
    match_original_utterances: bool | None = None
    lipsync: bool | None = None
    context_adaptation: bool | None = None
    context: str | None = None
    informal: bool | None = None


class SummarizationConfig(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Summary style: ``general``, ``bullet_points`` or ``concise`` (REFERENCE 6.1)."""

    type: str | None = None


class CustomSpellingConfig(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Map of canonical spelling to the variants to replace (REFERENCE 6.1)."""

    spelling_dictionary: dict[str, list[str]]


class AudioToLlmConfig(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Prompts to run on the transcript and the LLM to use (REFERENCE 6.1)."""

    # Send strings; the SDK types say list of lists (REFERENCE section 2 row 5): both decode.
    prompts: list[str | list[Any]]
    model: str | None = None


class PiiRedactionConfig(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """PII presets or entity types to redact, and ``MARKER`` or ``MASK`` output (REFERENCE 6.1)."""

    # Send a list, e.g. ["GDPR"]; the SDK types say a single value (REFERENCE section 2 row 4).
    entity_types: str | list[str] | None = None
    processed_text_type: str | None = None


class PreRecordedRequestParams(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """The request a job was created with, as echoed in ``job.request_params`` (REFERENCE 6.5).

    Every field is optional (``audio_url`` included) so that any echo decodes.
    """

    audio_url: str | None = None
    language_config: LanguageConfig | None = None
    # ``bool``, or the legacy list of words (REFERENCE section 2 row 6).
    custom_vocabulary: bool | list[str] | None = None
    custom_vocabulary_config: CustomVocabularyConfig | None = None
    callback_url: str | None = None  # deprecated: prefer callback + callback_config
    callback: bool | None = None
    callback_config: CallbackConfig | None = None
    subtitles: bool | None = None
    subtitles_config: SubtitlesConfig | None = None
    diarization: bool | None = None
    diarization_config: DiarizationConfig | None = None
    translation: bool | None = None
    translation_config: TranslationConfig | None = None
    summarization: bool | None = None
    summarization_config: SummarizationConfig | None = None
    named_entity_recognition: bool | None = None
    custom_spelling: bool | None = None
    custom_spelling_config: CustomSpellingConfig | None = None
    sentiment_analysis: bool | None = None
    audio_to_llm: bool | None = None
    audio_to_llm_config: AudioToLlmConfig | None = None
    pii_redaction: bool | None = None
    pii_redaction_config: PiiRedactionConfig | None = None
    sentences: bool | None = None
    punctuation_enhanced: bool | None = None
    model: str | None = None  # "solaria-1" (the API's default) or "solaria-3"


class PreRecordedRequest(PreRecordedRequestParams, kw_only=True, omit_defaults=True, gc=False):
    """Body of ``POST /v2/pre-recorded``: ``audio_url`` plus any options (REFERENCE 6.1)."""

    audio_url: str
    # Free-form JSON, at most 2000 characters once serialised; echoed on the job.
    custom_metadata: dict[str, Any] | None = None


class CreatedJob(msgspec.Struct, kw_only=True, gc=False):
    """201 answer of ``POST /v2/pre-recorded`` (REFERENCE 6.1)."""

    id: str
    # Optional so that a created job is never lost to a decode error; may point at the deprecated
    # /v2/transcription path (REFERENCE section 2 row 17): build URLs from ``id`` instead.
    result_url: str | None = None


class PreRecordedJob(BaseJob, kw_only=True):
    """A pre-recorded job, from ``GET /v2/pre-recorded/{id}`` and list pages (REFERENCE 6.5)."""

    request_params: PreRecordedRequestParams | None = None
    result: TranscriptionResult | None = None
