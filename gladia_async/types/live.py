"""Live sessions over REST: the ``POST /v2/live`` body and its blocks, the 201 answer, and the
live job object (REFERENCE.md section 7). WebSocket messages are in ``types/ws.py``.

Request Structs use ``omit_defaults=True`` and default every field to ``None``: only the fields you
set are sent (the live defaults changed over time, REFERENCE section 2 row 15).
"""

from __future__ import annotations

from typing import Any

import msgspec

from .common import BaseJob, TranscriptionResult
from .pre_recorded import (
    CustomSpellingConfig,
    CustomVocabularyConfig,
    LanguageConfig,
    SummarizationConfig,
    TranslationConfig,
)

__all__ = [
    "LiveCallbackConfig",
    "LiveJob",
    "LiveRequest",
    "LiveRequestParams",
    "LiveResult",
    "LiveSession",
    "MessagesConfig",
    "PostProcessingConfig",
    "PreProcessingConfig",
    "RealtimeProcessingConfig",
]


class PreProcessingConfig(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Audio clean-up before recognition (REFERENCE 7.1)."""

    audio_enhancer: bool | None = None
    speech_threshold: float | None = None  # 0-1


class RealtimeProcessingConfig(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Add-ons that run on each utterance during the session (REFERENCE 7.1)."""

    custom_vocabulary: bool | None = None
    custom_vocabulary_config: CustomVocabularyConfig | None = None
    custom_spelling: bool | None = None
    custom_spelling_config: CustomSpellingConfig | None = None
    translation: bool | None = None
    translation_config: TranslationConfig | None = None
    named_entity_recognition: bool | None = None
    sentiment_analysis: bool | None = None


class PostProcessingConfig(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Add-ons that run once the recording ends (REFERENCE 7.1)."""

    summarization: bool | None = None
    summarization_config: SummarizationConfig | None = None
    chapterization: bool | None = None


class MessagesConfig(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Which message kinds the WebSocket sends (REFERENCE 7.1 flag table)."""

    receive_partial_transcripts: bool | None = None
    receive_final_transcripts: bool | None = None
    receive_speech_events: bool | None = None
    receive_pre_processing_events: bool | None = None
    receive_realtime_processing_events: bool | None = None
    receive_post_processing_events: bool | None = None
    receive_acknowledgments: bool | None = None
    receive_errors: bool | None = None
    receive_lifecycle_events: bool | None = None


class LiveCallbackConfig(MessagesConfig, kw_only=True, omit_defaults=True, gc=False):
    """Where to POST live messages, and which kinds (REFERENCE 7.1, 9.3): MessagesConfig + url."""

    # Optional in the schema, but needed whenever ``callback`` is true (section 2 row 23).
    url: str | None = None


class LiveRequestParams(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """The settings a live session was created with, as echoed in ``job.request_params`` (REF 7.2).

    Also the base of ``LiveRequest``: every field is optional.
    """

    encoding: str | None = None  # "wav/pcm", "wav/alaw", "wav/ulaw"
    bit_depth: int | None = None
    sample_rate: int | None = None
    channels: int | None = None
    model: str | None = None
    endpointing: float | None = None
    maximum_duration_without_endpointing: float | None = None
    language_config: LanguageConfig | None = None
    pre_processing: PreProcessingConfig | None = None
    realtime_processing: RealtimeProcessingConfig | None = None
    post_processing: PostProcessingConfig | None = None
    messages_config: MessagesConfig | None = None
    callback: bool | None = None
    callback_config: LiveCallbackConfig | None = None


class LiveRequest(LiveRequestParams, kw_only=True, omit_defaults=True, gc=False):
    """Body of ``POST /v2/live`` (REFERENCE 7.1); ``region`` is a query parameter, not here."""

    # Free-form JSON, at most 2000 characters once serialised; echoed on the job.
    custom_metadata: dict[str, Any] | None = None


class LiveSession(msgspec.Struct, kw_only=True, gc=False):
    """201 answer of ``POST /v2/live``: the job id and the WebSocket URL (REFERENCE 7.1).

    ``url`` carries the session token: treat it as a secret.
    """

    id: str
    created_at: str | None = None  # ISO 8601; optional so a created session is never lost
    url: str


class LiveResult(TranscriptionResult, kw_only=True, omit_defaults=True, gc=False):
    """A live job's ``result``: a ``TranscriptionResult`` plus the session's messages (REF 7.2)."""

    # Each entry is one real-time message as a JSON string (REFERENCE section 1).
    messages: list[str] | None = None


class LiveJob(BaseJob, kw_only=True):
    """A live job, from ``GET /v2/live/{id}`` and list pages (REFERENCE 7.2)."""

    request_params: LiveRequestParams | None = None
    result: LiveResult | None = None
