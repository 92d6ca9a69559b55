"""Decode and verify what Gladia sends: live messages, callbacks and (Svix-signed) webhooks.

- :func:`parse_live_message`: one WebSocket server message -> a typed message (section 8.4).
- :func:`parse_callback`: a ``callback_config.url`` body -> pre-recorded success/error or a live
  callback wrapping a typed message (section 9.1, 9.3).
- :func:`parse_webhook`: an account webhook body ``{event, payload: {id}}`` (9.2, 9.4), verified
  first when given the headers and the endpoint's signing secret.
- :func:`verify_webhook`: the standard Svix scheme with the standard library only.

Unknown ``type``/``event`` values decode to ``Unknown*`` structs carrying the raw dict, so an API
that grows does not break a receiver; a body that is not JSON, or a known type with the wrong
shape, raises :class:`~gladia_async.DecodeError`. Gladia documents no signature for callbacks:
protect a callback URL with a secret path or query token of your own.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import time
from collections.abc import Mapping
from typing import Any, get_args

import msgspec

from ._decode import JSON_ERRORS, decoder_for
from ._errors import DecodeError, GladiaConfigError, GladiaError
from .types.webhooks import (
    Callback,
    LiveCallback,
    PreRecordedCallbackError,
    PreRecordedCallbackSuccess,
    UnknownCallback,
    UnknownWebhook,
    Webhook,
)
from .types.ws import LiveMessage, LiveServerMessage, UnknownMessage

__all__ = [
    "DEFAULT_TOLERANCE",
    "WebhookVerificationError",
    "parse_callback",
    "parse_live_message",
    "parse_webhook",
    "verify_webhook",
]

DEFAULT_TOLERANCE = 300
"""Seconds a webhook timestamp may differ from now, either way (Svix's default: 5 minutes)."""


def _by_tag(types: tuple[Any, ...]) -> dict[str, Any]:
    """Struct classes by their ``tag`` (the wire ``type``/``event``); untagged ones left out."""
    return {str(cls.__struct_config__.tag): cls for cls in types if cls.__struct_config__.tag}


_MESSAGE_TYPES = _by_tag(get_args(LiveMessage))
_WEBHOOK_TYPES = _by_tag(get_args(Webhook))
_PRE_RECORDED_CALLBACKS = _by_tag((PreRecordedCallbackSuccess, PreRecordedCallbackError))


class WebhookVerificationError(GladiaError):
    """A webhook's signature headers are missing or malformed, its timestamp is outside the
    tolerance, or no signature matches the body: do not trust the body."""


class _Type(msgspec.Struct):
    type: str | None = None


class _Event(msgspec.Struct):
    event: str | None = None


class _LiveCallbackEnvelope(msgspec.Struct):
    id: str
    event: str
    payload: msgspec.Raw


def _decode(body: bytes | str, type_: Any, what: str) -> Any:
    try:
        return decoder_for(type_).decode(body)
    except JSON_ERRORS as exc:
        raise DecodeError(f"invalid {what}: {exc}", detail=str(exc)) from exc


def _event(body: bytes | str, what: str) -> str:
    """The ``event`` of a callback or webhook body, which picks its type."""
    event: str | None = _decode(body, _Event, what).event
    if event is None:
        raise DecodeError(f"invalid {what}: no 'event' field", detail="no 'event' field")
    return event


def _raw_dict(body: bytes | str, what: str) -> dict[str, Any]:
    value = _decode(body, Any, what)
    if not isinstance(value, dict):
        raise DecodeError(f"invalid {what}: expected a JSON object", detail="not an object")
    return value


def parse_live_message(body: bytes | str, *, strict: bool = True) -> LiveServerMessage:
    """Decode one live server message: first its ``type``, then that variant.

    An unknown ``type`` gives an :class:`UnknownMessage`. A known ``type`` with an unexpected
    shape raises DecodeError when ``strict`` (the default), else gives an UnknownMessage with
    ``decode_error`` set (what a live connection does, so one odd message cannot end a session).
    """
    tag = _decode(body, _Type, "live message").type
    cls = _MESSAGE_TYPES.get(tag) if tag is not None else None
    if cls is not None:
        try:
            return decoder_for(cls).decode(body)  # type: ignore[no-any-return]
        except JSON_ERRORS as exc:
            if strict:
                raise DecodeError(f"invalid {tag!r} message: {exc}", detail=str(exc)) from exc
            error: str | None = str(exc)
    else:
        error = None if tag is not None else "no 'type' field"
        if error is not None and strict:
            raise DecodeError("invalid live message: no 'type' field", detail=error)
    raw = _raw_dict(body, "live message")
    sid, created = raw.get("session_id"), raw.get("created_at")
    return UnknownMessage(
        type=tag or "",
        raw=raw,
        session_id=sid if isinstance(sid, str) else None,
        created_at=created if isinstance(created, str) else None,
        decode_error=error,
    )


def parse_callback(body: bytes | str) -> Callback:
    """Decode a callback body (pre-recorded success/error, or live ``live.*``) by its ``event``.

    An unknown event gives an :class:`UnknownCallback`; bad JSON or a known event with the wrong
    shape raises DecodeError.
    """
    event = _event(body, "callback")
    if (cls := _PRE_RECORDED_CALLBACKS.get(event)) is not None:
        return _decode(body, cls, f"{event!r} callback")  # type: ignore[no-any-return]
    if event.startswith("live."):
        envelope = _decode(body, _LiveCallbackEnvelope, f"{event!r} callback")
        payload = parse_live_message(bytes(envelope.payload))
        return LiveCallback(id=envelope.id, event=envelope.event, payload=payload)
    raw = _raw_dict(body, "callback")
    job_id = raw.get("id")
    return UnknownCallback(event=event, raw=raw, id=job_id if isinstance(job_id, str) else None)


def parse_webhook(
    body: bytes | str,
    headers: Mapping[str, str] | None = None,
    secret: str | bytes | None = None,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
) -> Webhook:
    """Decode an account webhook body ``{event, payload: {id}}`` by its ``event``.

    Given ``headers`` and ``secret`` (the endpoint's ``whsec_...`` signing secret), the body is
    verified with :func:`verify_webhook` first. An unknown event gives an UnknownWebhook.
    """
    if (headers is None) != (secret is None):
        raise TypeError("pass both headers and secret to verify, or neither")
    if headers is not None and secret is not None:
        verify_webhook(body, headers, secret, tolerance=tolerance)
    event = _event(body, "webhook")
    if (cls := _WEBHOOK_TYPES.get(event)) is not None:
        return _decode(body, cls, f"{event!r} webhook")  # type: ignore[no-any-return]
    return UnknownWebhook(event=event, raw=_raw_dict(body, "webhook"))


# --- Svix signatures ----------------------------------------------------------------------


def _header(headers: Mapping[str, str], *names: str) -> str | None:
    """The first header of one of ``names`` (any case); None when absent or not a str."""
    lowered = {name.lower() for name in names}
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() in lowered:
            return value if isinstance(value, str) else None
    return None


def _raw_bytes(text: str, what: str) -> bytes:
    """The bytes ``text`` was decoded from: aiohttp keeps bytes that are not UTF-8 as lone
    surrogates (surrogateescape); any other lone surrogate cannot have been received."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raise WebhookVerificationError(f"the webhook {what} is not valid text") from None


def _signing_key(secret: str | bytes) -> bytes:
    """The HMAC key: a ``whsec_`` + base64 str, or the raw key bytes (as Svix takes them)."""
    if isinstance(secret, bytes | bytearray):
        key = bytes(secret)
        if not key:
            raise WebhookVerificationError("the webhook secret is empty")
        return key
    if not isinstance(secret, str):
        raise GladiaConfigError("the webhook secret must be a str (whsec_...) or bytes")
    encoded = secret.removeprefix("whsec_")
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WebhookVerificationError("the webhook secret is not whsec_ + base64") from exc
    if not key:  # HMAC under an empty key is a signature anyone can make
        raise WebhookVerificationError("the webhook secret is empty")
    return key


def verify_webhook(
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str | bytes,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Check a webhook's Svix signature; raise WebhookVerificationError unless it is genuine.

    Pass the exact body bytes received (not re-serialised JSON) and the request headers
    (``svix-id``/``svix-timestamp``/``svix-signature``, or the ``webhook-*`` equivalents). The
    signed content is ``f"{id}.{timestamp}.{body}"``, signed with HMAC-SHA256 under the base64
    key after ``whsec_``; the signature header holds space-separated ``v1,<base64>`` entries,
    any of which may match (key rotation). The timestamp must be within ``tolerance`` seconds of
    ``now`` (default: the current time), in either direction, to stop replays. ``secret`` may
    also be the raw key as bytes. Arguments of the wrong kind (a ``None`` secret or body,
    headers that are not a mapping, a NaN or negative tolerance) raise GladiaConfigError.
    """
    if not isinstance(headers, Mapping):
        raise GladiaConfigError("headers must be a mapping (e.g. request.headers)")
    if not isinstance(body, bytes | bytearray | memoryview | str):
        raise GladiaConfigError("body must be the raw request body, as bytes or str")
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or not tolerance >= 0:
        raise GladiaConfigError("tolerance must be a number of seconds >= 0 (not NaN)")
    if now is not None and (not isinstance(now, int | float) or not math.isfinite(now)):
        raise GladiaConfigError("now must be a finite timestamp")
    key = _signing_key(secret)
    msg_id = _header(headers, "svix-id", "webhook-id")
    stamp = _header(headers, "svix-timestamp", "webhook-timestamp")
    signatures = _header(headers, "svix-signature", "webhook-signature")
    if not msg_id or not stamp or not signatures:
        raise WebhookVerificationError("missing webhook signature headers")
    stamp = stamp.strip()
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 20):
        raise WebhookVerificationError("malformed webhook timestamp header")
    timestamp = int(stamp)
    current = time.time() if now is None else now
    if timestamp < current - tolerance:
        raise WebhookVerificationError("webhook timestamp too old (replayed or delayed?)")
    if timestamp > current + tolerance:
        raise WebhookVerificationError("webhook timestamp too far in the future")
    raw = _raw_bytes(body, "body") if isinstance(body, str) else bytes(body)
    signed = b"%s.%s.%s" % (_raw_bytes(msg_id, "id"), stamp.encode(), raw)
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    found_v1 = False
    for entry in signatures.split():
        version, _, signature = entry.partition(",")
        if version != "v1":
            continue
        found_v1 = True
        if hmac.compare_digest(expected, signature.encode("utf-8", "surrogatepass")):
            return
    if not found_v1:
        raise WebhookVerificationError("no v1 signature in the webhook signature header")
    raise WebhookVerificationError("no webhook signature matches the body")
