"""verify_webhook given the wrong kind of argument (issue 16): a library error, never an
AttributeError or TypeError, and never a check that silently passes."""

from __future__ import annotations

from typing import Any

import pytest

from gladia_async import GladiaConfigError, GladiaError
from gladia_async.webhooks import WebhookVerificationError, parse_webhook, verify_webhook

from .test_webhooks import BODY, KEY, NOW, SECRET, sign, svix_headers

HEADERS = svix_headers(sign(BODY))


def test_a_nan_tolerance_is_refused_not_a_pass_for_any_timestamp() -> None:
    stale = svix_headers(sign(BODY, ts=NOW - 10**6), ts=NOW - 10**6)
    for tolerance in (float("nan"), -1.0):
        with pytest.raises(GladiaConfigError, match="tolerance"):
            verify_webhook(BODY, stale, SECRET, tolerance=tolerance, now=NOW)
        with pytest.raises(GladiaConfigError):
            verify_webhook(BODY, HEADERS, SECRET, tolerance=tolerance, now=NOW)
    with pytest.raises(GladiaConfigError, match="now"):
        verify_webhook(BODY, HEADERS, SECRET, now=float("nan"))


def test_bytes_secret_is_the_raw_key() -> None:
    verify_webhook(BODY, HEADERS, KEY, now=NOW)
    verify_webhook(BODY, HEADERS, bytearray(KEY), now=NOW)
    assert parse_webhook(BODY, HEADERS, KEY, tolerance=10**12).event
    with pytest.raises(WebhookVerificationError, match="no webhook signature matches"):
        verify_webhook(BODY, HEADERS, KEY[:-1], now=NOW)
    with pytest.raises(WebhookVerificationError, match="empty"):
        verify_webhook(BODY, HEADERS, b"", now=NOW)


@pytest.mark.parametrize(
    ("body", "headers", "secret"),
    [
        (BODY, HEADERS, None),
        (BODY, HEADERS, 12345),
        (BODY, list(HEADERS.items()), SECRET),
        (BODY, None, SECRET),
        (None, HEADERS, SECRET),
        (12345, HEADERS, SECRET),
    ],
)
def test_wrong_argument_kinds_raise_a_library_error(body: Any, headers: Any, secret: Any) -> None:
    with pytest.raises(GladiaConfigError) as info:
        verify_webhook(body, headers, secret, now=NOW)
    assert isinstance(info.value, GladiaError)
