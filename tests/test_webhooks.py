"""Callbacks, webhooks and live messages decode into their types; Svix signatures verify."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gladia_async import DecodeError, GladiaError
from gladia_async.types.webhooks import (
    LiveCallback,
    LiveEndSessionWebhook,
    PreRecordedCallbackError,
    PreRecordedCallbackSuccess,
    TranscriptionSuccessWebhook,
    UnknownCallback,
    UnknownWebhook,
)
from gladia_async.types.ws import (
    AudioChunkAck,
    AudioChunkAction,
    PostFinalTranscriptMessage,
    SentimentAnalysisMessage,
    StopRecordingAction,
    TranscriptMessage,
    UnknownMessage,
)
from gladia_async.webhooks import (
    WebhookVerificationError,
    parse_callback,
    parse_live_message,
    parse_webhook,
    verify_webhook,
)

from ._servers import FIXTURES

WS_FILES = sorted(p for p in FIXTURES.glob("ws_*.json") if not p.name.startswith("ws_client"))
CALLBACK_FILES = sorted([*FIXTURES.glob("callback_*.json"), *FIXTURES.glob("live_callback_*.json")])
WEBHOOK_FILES = sorted(FIXTURES.glob("webhook_*.json"))


def assert_round_trip(original: Any, encoded: Any, path: str = "$") -> None:
    """Every key of the original comes back equal; only null keys may be added."""
    if isinstance(original, dict):
        assert isinstance(encoded, dict), path
        for key, value in original.items():
            assert key in encoded, f"{path}.{key} lost"
            assert_round_trip(value, encoded[key], f"{path}.{key}")
        for key in encoded.keys() - original.keys():
            assert encoded[key] is None, f"{path}.{key} added"
    elif isinstance(original, list):
        assert isinstance(encoded, list) and len(encoded) == len(original), path
        for i, (a, b) in enumerate(zip(original, encoded, strict=True)):
            assert_round_trip(a, b, f"{path}[{i}]")
    else:
        assert original == encoded, path


def check(obj: Any, raw: bytes) -> None:
    assert_round_trip(json.loads(raw), json.loads(msgspec.json.encode(obj)))


@pytest.mark.parametrize("path", WS_FILES, ids=lambda p: p.name)
def test_ws_messages_decode_and_round_trip(path: Path) -> None:
    raw = path.read_bytes()
    message = parse_live_message(raw)
    assert not isinstance(message, UnknownMessage)
    assert message.type == json.loads(raw)["type"]
    check(message, raw)


@pytest.mark.parametrize("path", CALLBACK_FILES, ids=lambda p: p.name)
def test_callbacks_decode_and_round_trip(path: Path) -> None:
    raw = path.read_bytes()
    callback = parse_callback(raw)
    assert not isinstance(callback, UnknownCallback)
    if isinstance(callback, LiveCallback):
        assert not isinstance(callback.payload, UnknownMessage)
        assert callback.event == "live." + callback.payload.type
    check(callback, raw)


@pytest.mark.parametrize("path", WEBHOOK_FILES, ids=lambda p: p.name)
def test_webhooks_decode_and_round_trip(path: Path) -> None:
    raw = path.read_bytes()
    webhook = parse_webhook(raw)
    assert not isinstance(webhook, UnknownWebhook)
    assert webhook.event == json.loads(raw)["event"]
    assert webhook.id == json.loads(raw)["payload"]["id"]
    check(webhook, raw)


def test_client_actions_round_trip() -> None:
    raw = (FIXTURES / "ws_client_audio_chunk.json").read_bytes()
    action = msgspec.json.decode(raw, type=AudioChunkAction)
    assert action.data.chunk == base64.b64decode(json.loads(raw)["data"]["chunk"])
    check(action, raw)
    raw = (FIXTURES / "ws_client_stop_recording.json").read_bytes()
    check(msgspec.json.decode(raw, type=StopRecordingAction), raw)


def test_specific_shapes() -> None:
    partial = parse_live_message((FIXTURES / "ws_transcript_partial.json").read_bytes())
    assert isinstance(partial, TranscriptMessage) and not partial.is_final
    assert partial.text == "Hi, I'm calling about"
    ack = parse_live_message((FIXTURES / "ws_audio_chunk_ack.json").read_bytes())
    assert isinstance(ack, AudioChunkAck) and ack.data is not None
    assert ack.data.byte_range == (3200, 6400)
    failed = parse_live_message((FIXTURES / "ws_sentiment_analysis_addon_error.json").read_bytes())
    assert isinstance(failed, SentimentAnalysisMessage) and failed.data is None
    assert failed.error is not None and failed.error.message
    final = parse_live_message((FIXTURES / "ws_post_final_transcript.json").read_bytes())
    assert isinstance(final, PostFinalTranscriptMessage) and final.data.transcription is not None
    ok = parse_callback((FIXTURES / "callback_prerecorded_success.json").read_bytes())
    assert isinstance(ok, PreRecordedCallbackSuccess) and ok.event == "transcription.success"
    err = parse_callback((FIXTURES / "callback_prerecorded_error.json").read_bytes())
    assert isinstance(err, PreRecordedCallbackError) and err.error.code == 422


def test_unknown_types_are_kept() -> None:
    msg = parse_live_message(b'{"type": "brand_new", "session_id": "s", "data": {"x": 1}}')
    assert isinstance(msg, UnknownMessage)
    assert (msg.type, msg.session_id, msg.raw["data"], msg.decode_error) == (
        "brand_new", "s", {"x": 1}, None,
    )  # fmt: skip
    cb = parse_callback(b'{"id": "j", "event": "live.brand_new", "payload": {"type": "brand_new"}}')
    assert isinstance(cb, LiveCallback) and isinstance(cb.payload, UnknownMessage)
    other = parse_callback(b'{"id": "j", "event": "billing.updated"}')
    assert isinstance(other, UnknownCallback) and other.id == "j"
    hook = parse_webhook(b'{"event": "x.y", "payload": {"id": "j"}}')
    assert isinstance(hook, UnknownWebhook) and hook.id == "j"


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[]", b'{"no": "type"}', b'{"type": "transcript", "data": {"id": 3}}'],
)
def test_bad_live_messages_raise_decode_error(body: bytes) -> None:
    with pytest.raises(DecodeError):
        parse_live_message(body)


def test_lenient_live_message_keeps_a_misshapen_known_type() -> None:
    msg = parse_live_message(b'{"type": "transcript", "data": {"id": 3}}', strict=False)
    assert isinstance(msg, UnknownMessage) and msg.decode_error


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b'{"id": "x"}',
        b'{"id": "x", "event": "transcription.error"}',
        b'{"event": "transcription.success", "id": "x", "payload": {}}',
        b'{"id": "x", "event": "live.transcript", "payload": {"type": "transcript"}}',
    ],
)
def test_bad_callbacks_raise_decode_error(body: bytes) -> None:
    with pytest.raises(DecodeError):
        parse_callback(body)


@pytest.mark.parametrize("body", [b"{", b"{}", b'{"event": "transcription.success"}'])
def test_bad_webhooks_raise_decode_error(body: bytes) -> None:
    with pytest.raises(DecodeError):
        parse_webhook(body)


# --- signatures ---------------------------------------------------------------------------

KEY = b"gladia-test-signing-key-32-bytes"
SECRET = "whsec_" + base64.b64encode(KEY).decode()
NOW = 1_760_000_000
BODY = (FIXTURES / "webhook_prerecorded_success.json").read_bytes()


def sign(body: bytes, *, msg_id: str = "msg_2a", ts: int = NOW, key: bytes = KEY) -> str:
    digest = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def svix_headers(signature: str, *, msg_id: str = "msg_2a", ts: int = NOW) -> dict[str, str]:
    return {"svix-id": msg_id, "svix-timestamp": str(ts), "svix-signature": signature}


def test_valid_signature_is_accepted() -> None:
    verify_webhook(BODY, svix_headers(sign(BODY)), SECRET, now=NOW)
    verify_webhook(BODY.decode(), svix_headers(sign(BODY)), SECRET, now=NOW + 299)


def test_webhook_header_names_and_case_and_rotation() -> None:
    headers = {
        "Webhook-Id": "msg_2a",
        "Webhook-Timestamp": str(NOW),
        "Webhook-Signature": f"v1,bm90LWl0 v2,xyz {sign(BODY)}",
    }
    verify_webhook(BODY, headers, SECRET, now=NOW)
    hook = parse_webhook(BODY, headers, SECRET, tolerance=10**12)
    assert isinstance(hook, TranscriptionSuccessWebhook)


def test_secret_without_prefix_is_accepted() -> None:
    verify_webhook(BODY, svix_headers(sign(BODY)), SECRET.removeprefix("whsec_"), now=NOW)


def test_tampered_body_is_rejected() -> None:
    tampered = BODY.replace(b"7f3c", b"7f3d")
    with pytest.raises(WebhookVerificationError, match="no webhook signature matches"):
        verify_webhook(tampered, svix_headers(sign(BODY)), SECRET, now=NOW)


@pytest.mark.parametrize("skew", [-301, 301, -(10**6)])
def test_stale_or_future_timestamp_is_rejected(skew: int) -> None:
    ts = NOW + skew
    with pytest.raises(WebhookVerificationError, match="timestamp"):
        verify_webhook(BODY, svix_headers(sign(BODY, ts=ts), ts=ts), SECRET, now=NOW)


def test_wrong_secret_is_rejected() -> None:
    other = "whsec_" + base64.b64encode(b"another-key-another-key-another!").decode()
    with pytest.raises(WebhookVerificationError):
        verify_webhook(BODY, svix_headers(sign(BODY)), other, now=NOW)


def test_signed_id_and_timestamp_matter() -> None:
    with pytest.raises(WebhookVerificationError):
        verify_webhook(BODY, svix_headers(sign(BODY), msg_id="msg_other"), SECRET, now=NOW)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"svix-id": "m", "svix-timestamp": str(NOW)},
        {"svix-id": "m", "svix-timestamp": "yesterday", "svix-signature": "v1,abc"},
        {"svix-id": "m", "svix-timestamp": str(NOW), "svix-signature": "v2,abc"},
        {"svix-id": "m", "svix-timestamp": str(NOW), "svix-signature": "garbage"},
    ],
)
def test_malformed_headers_are_rejected(headers: dict[str, str]) -> None:
    with pytest.raises(WebhookVerificationError):
        verify_webhook(BODY, headers, SECRET, now=NOW)


def test_bad_secret_is_rejected_and_errors_are_gladia_errors() -> None:
    with pytest.raises(WebhookVerificationError) as info:
        verify_webhook(BODY, svix_headers(sign(BODY)), "whsec_***", now=NOW)
    assert isinstance(info.value, GladiaError)


def test_parse_webhook_verifies_when_given_a_secret() -> None:
    with pytest.raises(WebhookVerificationError):
        parse_webhook(BODY, svix_headers("v1,AAAA"), SECRET)
    with pytest.raises(TypeError):
        parse_webhook(BODY, svix_headers(sign(BODY)))


def test_live_end_session_webhook() -> None:
    hook = parse_webhook((FIXTURES / "webhook_live_end_session.json").read_bytes())
    assert isinstance(hook, LiveEndSessionWebhook)


# -- hostile input: only WebhookVerificationError / DecodeError, never another type -------------

_text = st.lists(  # st.text() never draws lone surrogates; aiohttp can produce them
    st.characters() | st.sampled_from(["\udcff", "\ud800", "é", ",", " ", "0", "v1,"]), max_size=40
).map("".join)
_header_values = _text | st.sampled_from(["", " ", str(NOW), "v1,", sign(BODY), "\udcff"])
_bodies = st.binary(max_size=300) | _text | st.just(BODY)


@settings(max_examples=300, deadline=None)
@given(
    headers=st.fixed_dictionaries(
        {},
        optional={
            name: _header_values
            for name in ("svix-id", "Svix-Timestamp", "svix-signature", "webhook-id", "x")
        },
    ),
    body=_bodies,
    secret=st.sampled_from([SECRET, "whsec_", "", "whsec_é", "whsec_\udcff"]) | _text,
)
def test_verify_raises_only_verification_error(
    headers: dict[str, str], body: bytes | str, secret: str
) -> None:
    with contextlib.suppress(WebhookVerificationError):
        verify_webhook(body, headers, secret, now=NOW)


@settings(max_examples=300, deadline=None)
@given(body=_bodies)
def test_parsers_raise_only_decode_error(body: bytes | str) -> None:
    for parse in (parse_webhook, parse_callback, parse_live_message):
        with contextlib.suppress(DecodeError):
            parse(body)


@pytest.mark.parametrize(
    "body",
    [
        '{"event":"transcription.success","id":"\udcff"}',  # a lone surrogate in a str body
        b'{"event":"x","raw":' + b"[" * 100_000,  # nesting deeper than the decoder follows
        b'{"event":"x","payload":{"id":"\x80"}}',  # invalid UTF-8 in a string
        b'{"type":"x","data":' + b"[" * 100_000,
    ],
)
def test_hostile_bodies_raise_decode_error(body: bytes | str) -> None:
    for parse in (parse_webhook, parse_callback, parse_live_message):
        with pytest.raises(DecodeError):
            parse(body)


def test_undecodable_header_bytes_are_a_verification_error() -> None:
    # aiohttp keeps header bytes that are not UTF-8 as lone surrogates
    for name in ("svix-id", "svix-signature"):
        headers = {**svix_headers(sign(BODY)), name: "msg_\udcff"}
        with pytest.raises(WebhookVerificationError):
            verify_webhook(BODY, headers, SECRET, now=NOW)
    with pytest.raises(WebhookVerificationError):
        verify_webhook("{\udcff}", svix_headers(sign(BODY)), SECRET, now=NOW)


def test_header_bytes_not_utf8_still_verify() -> None:
    raw_id = b"msg_\xff"
    digest = hmac.new(KEY, raw_id + f".{NOW}.".encode() + BODY, hashlib.sha256).digest()
    headers = svix_headers("v1," + base64.b64encode(digest).decode())
    headers["svix-id"] = raw_id.decode("utf-8", "surrogateescape")
    verify_webhook(BODY, headers, SECRET, now=NOW)


@pytest.mark.parametrize("secret", ["whsec_", "", "   "])
def test_an_empty_signing_key_is_refused(secret: str) -> None:
    """HMAC under an empty key is a signature anyone can make."""
    digest = hmac.new(b"", f"msg_2a.{NOW}.".encode() + BODY, hashlib.sha256).digest()
    forged = "v1," + base64.b64encode(digest).decode()
    with pytest.raises(WebhookVerificationError, match="secret"):
        verify_webhook(BODY, svix_headers(forged), secret, now=NOW)


def test_non_str_header_values_are_a_verification_error() -> None:
    headers: dict[str, Any] = {**svix_headers(sign(BODY)), "svix-signature": [sign(BODY)]}
    with pytest.raises(WebhookVerificationError):
        verify_webhook(BODY, headers, SECRET, now=NOW)
