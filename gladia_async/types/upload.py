"""The answer of ``POST /v2/upload`` (REFERENCE.md section 5)."""

from __future__ import annotations

import msgspec

__all__ = ["AudioMetadata", "UploadResult", "UploadUrlRequest"]


class AudioMetadata(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """What Gladia detected in an uploaded file (REFERENCE 5)."""

    id: str
    filename: str
    # Origin URL: present only when the upload was made from an audio_url.
    source: str | None = None
    extension: str
    size: int
    audio_duration: float
    number_of_channels: int


class UploadResult(msgspec.Struct, kw_only=True, gc=False):
    """200 answer of ``POST /v2/upload``: pass ``audio_url`` to a pre-recorded job (REFERENCE 5)."""

    audio_url: str
    audio_metadata: AudioMetadata


class UploadUrlRequest(msgspec.Struct, kw_only=True, gc=False):
    """JSON body of ``POST /v2/upload`` when Gladia should fetch the file itself (REFERENCE 5)."""

    audio_url: str
