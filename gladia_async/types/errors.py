"""The REST error envelope (REFERENCE.md section 3.3)."""

from __future__ import annotations

import msgspec

__all__ = ["ErrorResponse"]


class ErrorResponse(msgspec.Struct, kw_only=True, gc=False):
    """Body of a 4xx answer. Every field is optional so that an unexpected shape still decodes."""

    timestamp: str | None = None
    path: str | None = None
    request_id: str | None = None
    # The OpenAPI document types it ``number``: ``400.0`` decodes as well as ``400``.
    status_code: int | float | None = msgspec.field(default=None, name="statusCode")
    message: str | None = None
    validation_errors: list[str] | None = None
