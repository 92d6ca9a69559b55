"""Callback and webhook bodies Gladia sends to your server (REFERENCE.md section 9).

Callbacks (per job or session) carry the result; webhooks (account-level, signed with Svix) carry
only ``{event, payload: {id}}``. Decode them with :func:`gladia_async.webhooks.parse_callback` and
:func:`gladia_async.webhooks.parse_webhook`, which dispatch on ``event`` and keep unknown events.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import msgspec

from .common import TranscriptionResult
from .ws import LiveServerMessage

__all__ = [
    "Callback",
    "CallbackError",
    "LiveCallback",
    "LiveEndRecordingWebhook",
    "LiveEndSessionWebhook",
    "LiveStartRecordingWebhook",
    "LiveStartSessionWebhook",
    "PreRecordedCallbackError",
    "PreRecordedCallbackSuccess",
    "TranscriptionCreatedWebhook",
    "TranscriptionErrorWebhook",
    "TranscriptionSuccessWebhook",
    "UnknownCallback",
    "UnknownWebhook",
    "Webhook",
    "WebhookJobRef",
]


# --- callbacks ----------------------------------------------------------------------------


class _PreRecordedCallback(msgspec.Struct, kw_only=True, tag_field="event"):
    id: str
    custom_metadata: dict[str, Any] | None = None

    @property
    def event(self) -> str:
        """The wire ``event`` (the union tag)."""
        return str(self.__struct_config__.tag)


class PreRecordedCallbackSuccess(_PreRecordedCallback, tag="transcription.success"):
    """``transcription.success``: ``payload`` is the job's result (not the whole job)."""

    payload: TranscriptionResult


class CallbackError(msgspec.Struct, kw_only=True, gc=False):
    """Why a pre-recorded job failed: an HTTP-like ``code`` and a ``message``."""

    code: int
    message: str


class PreRecordedCallbackError(_PreRecordedCallback, tag="transcription.error"):
    """``transcription.error``: the job failed."""

    error: CallbackError


class LiveCallback(msgspec.Struct, kw_only=True):
    """A live session's callback: ``event`` is ``"live." + payload.type``; ``payload`` is the
    exact WebSocket message (an UnknownMessage for a type this version does not know)."""

    id: str
    event: str
    payload: LiveServerMessage


class UnknownCallback(msgspec.Struct, kw_only=True):
    """A callback whose ``event`` this version does not know; ``raw`` is the whole body."""

    event: str
    raw: dict[str, Any]
    id: str | None = None


Callback: TypeAlias = (
    PreRecordedCallbackSuccess | PreRecordedCallbackError | LiveCallback | UnknownCallback
)
"""What parse_callback returns."""


# --- webhooks -----------------------------------------------------------------------------


class WebhookJobRef(msgspec.Struct, kw_only=True, gc=False):
    """A webhook's payload: only the job (or live session) id. Fetch the job with it."""

    id: str


class _Webhook(msgspec.Struct, kw_only=True, tag_field="event", gc=False):
    payload: WebhookJobRef

    @property
    def event(self) -> str:
        """The wire ``event`` (the union tag)."""
        return str(self.__struct_config__.tag)

    @property
    def id(self) -> str:
        """The job or session id (``payload.id``)."""
        return self.payload.id


class TranscriptionCreatedWebhook(_Webhook, tag="transcription.created"):
    """A pre-recorded job was created."""


class TranscriptionSuccessWebhook(_Webhook, tag="transcription.success"):
    """A pre-recorded job is done: fetch it with ``gladia.pre_recorded.get(webhook.id)``."""


class TranscriptionErrorWebhook(_Webhook, tag="transcription.error"):
    """A pre-recorded job failed."""


class LiveStartSessionWebhook(_Webhook, tag="live.start_session"):
    """A live session started."""


class LiveStartRecordingWebhook(_Webhook, tag="live.start_recording"):
    """A live session received its first audio."""


class LiveEndRecordingWebhook(_Webhook, tag="live.end_recording"):
    """A live session's recording ended."""


class LiveEndSessionWebhook(_Webhook, tag="live.end_session"):
    """A live session ended: fetch it with ``gladia.live.get(webhook.id)``."""


class UnknownWebhook(msgspec.Struct, kw_only=True):
    """A webhook whose ``event`` this version does not know; ``raw`` is the whole body."""

    event: str
    raw: dict[str, Any]

    @property
    def id(self) -> str | None:
        """``payload.id`` when present."""
        payload = self.raw.get("payload")
        value = payload.get("id") if isinstance(payload, dict) else None
        return value if isinstance(value, str) else None


Webhook: TypeAlias = (
    TranscriptionCreatedWebhook
    | TranscriptionSuccessWebhook
    | TranscriptionErrorWebhook
    | LiveStartSessionWebhook
    | LiveStartRecordingWebhook
    | LiveEndRecordingWebhook
    | LiveEndSessionWebhook
    | UnknownWebhook
)
"""What parse_webhook returns."""
