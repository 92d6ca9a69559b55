"""Errors of the sync package (both are GladiaErrors)."""

from __future__ import annotations

from .._errors import GladiaError

__all__ = ["StoreLockedError", "SyncError"]


class SyncError(GladiaError):
    """A sync could not proceed (an unusable store URL, a listing it cannot walk)."""


class StoreLockedError(SyncError):
    """Another sync holds this store's lock; nothing was written. Run again when it is done."""
