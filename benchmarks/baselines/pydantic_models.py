"""Pydantic v2 models of the pre-recorded job, the same shape gladia_async.types decodes.

Faithful to REFERENCE.md §6.1/§6.5/§6.6 and to gladia_async.types, so the comparison is fair:
the same fields are decoded to the same kinds of values with the same nesting (a typed model
for every block, open enums as ``str``, nullable fields as ``X | None = None``, ambiguous
``results`` as ``Any``, unknown fields ignored — pydantic's default, like msgspec's). Dates stay
strings on both sides unless gladia_async.types decodes them as datetimes (then so do these).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Word(BaseModel):
    word: str
    start: float
    end: float
    confidence: float


class Utterance(BaseModel):
    start: float
    end: float
    confidence: float
    channel: int
    speaker: int | None = None
    words: list[Word]
    text: str
    language: str


class Subtitle(BaseModel):
    format: str
    subtitles: str


class AddonError(BaseModel):
    status_code: int | str | None = None
    exception: str | None = None
    message: str | None = None


class _Block(BaseModel):
    success: bool
    is_empty: bool
    exec_time: float
    error: AddonError | None = None


class SentencesBlock(_Block):
    results: list[str] | None = None


class Transcription(BaseModel):
    full_transcript: str
    languages: list[str]
    utterances: list[Utterance]
    sentences: list[SentencesBlock] | None = None
    subtitles: list[Subtitle] | None = None


class TranslationResult(BaseModel):
    error: AddonError | None = None
    full_transcript: str
    languages: list[str]
    utterances: list[Utterance]
    sentences: list[SentencesBlock] | None = None
    subtitles: list[Subtitle] | None = None


class TranslationBlock(_Block):
    results: list[TranslationResult] | None = None


class TextBlock(_Block):
    results: str | None = None


class NamedEntity(BaseModel):
    entity_type: str
    text: str
    start: float
    end: float


class NamedEntityBlock(_Block):
    results: list[NamedEntity] | None = None
    entity: str | None = None


class AnyBlock(_Block):
    results: Any = None


class AudioToLlmResult(BaseModel):
    prompt: str | None = None
    response: str | None = None


class AudioToLlmItem(_Block):
    results: AudioToLlmResult | None = None


class AudioToLlmBlock(_Block):
    results: list[AudioToLlmItem] | None = None


class StringListBlock(_Block):
    results: list[str] | None = None


class DiarizationBlock(_Block):
    results: list[Utterance] | None = None


class ResultMetadata(BaseModel):
    audio_duration: float
    number_of_distinct_channels: int
    billing_time: float
    transcription_time: float


class TranscriptionResult(BaseModel):
    metadata: ResultMetadata
    transcription: Transcription | None = None
    translation: TranslationBlock | None = None
    summarization: TextBlock | None = None
    moderation: TextBlock | None = None
    named_entity_recognition: NamedEntityBlock | None = None
    name_consistency: TextBlock | None = None
    structured_data_extraction: AnyBlock | None = None
    sentiment_analysis: AnyBlock | None = None
    audio_to_llm: AudioToLlmBlock | None = None
    sentences: StringListBlock | None = None
    display_mode: StringListBlock | None = None
    chapterization: AnyBlock | None = None
    diarization: DiarizationBlock | None = None


class JobFile(BaseModel):
    id: str
    filename: str | None = None
    source: str | None = None
    audio_duration: float | None = None
    number_of_channels: int | None = None


class LanguageConfig(BaseModel):
    languages: list[str] | None = None
    code_switching: bool | None = None


class VocabularyEntry(BaseModel):
    value: str
    intensity: float | None = None
    pronunciations: list[str] | None = None
    language: str | None = None


class CustomVocabularyConfig(BaseModel):
    vocabulary: list[str | VocabularyEntry]
    default_intensity: float | None = None


class CallbackConfig(BaseModel):
    url: str
    method: str | None = None


class SubtitlesConfig(BaseModel):
    formats: list[str] | None = None
    minimum_duration: float | None = None
    maximum_duration: float | None = None
    maximum_characters_per_row: int | None = None
    maximum_rows_per_caption: int | None = None
    style: str | None = None


class DiarizationConfig(BaseModel):
    number_of_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None


class TranslationConfig(BaseModel):
    target_languages: list[str]
    model: str | None = None
    match_original_utterances: bool | None = None
    lipsync: bool | None = None
    context_adaptation: bool | None = None
    context: str | None = None
    informal: bool | None = None


class SummarizationConfig(BaseModel):
    type: str | None = None


class CustomSpellingConfig(BaseModel):
    spelling_dictionary: dict[str, list[str]]


class AudioToLlmConfig(BaseModel):
    prompts: list[str | list[Any]]
    model: str | None = None


class PiiRedactionConfig(BaseModel):
    entity_types: str | list[str] | None = None
    processed_text_type: str | None = None


class RequestParams(BaseModel):
    audio_url: str | None = None
    language_config: LanguageConfig | None = None
    custom_vocabulary: bool | list[str] | None = None
    custom_vocabulary_config: CustomVocabularyConfig | None = None
    callback_url: str | None = None
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


class PreRecordedJob(BaseModel):
    id: str
    request_id: str
    version: int
    status: str
    created_at: str
    completed_at: str | None = None
    custom_metadata: dict[str, Any] | None = None
    error_code: int | None = None
    post_session_metadata: dict[str, Any] | None = None
    kind: str
    file: JobFile | None = None
    request_params: RequestParams | None = None
    result: TranscriptionResult | None = None


class Page(BaseModel):
    """The ``GET /v2/pre-recorded`` envelope."""

    first: str | None = None
    current: str | None = None
    next: str | None = None
    items: list[PreRecordedJob]
