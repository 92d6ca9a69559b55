"""Defaults shared by the client: base URL, environment variable names, timeouts, retry policy.

A leaf module: no I/O, imports nothing from the package.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

DEFAULT_BASE_URL = "https://api.gladia.io"
ENV_API_KEY = "GLADIA_API_KEY"
ENV_BASE_URL = "GLADIA_API_URL"
AUTH_HEADER = "x-gladia-key"
REQUEST_ID_HEADERS = ("x-request-id", "x-aipi-call-id")

DEFAULT_TIMEOUT = 60.0
"""Seconds for one whole request (connect, send, read), per attempt."""
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_FILE_TIMEOUT = 300.0
"""Seconds for file downloads and uploads, which move large bodies."""
DEFAULT_MAX_RETRIES = 3
DEFAULT_MAX_RESPONSE_SIZE = 512 * 1024 * 1024
"""Largest response body the client will buffer, in bytes; larger raises DecodeError."""

RETRY_BASE_DELAY = 0.5
RETRY_MAX_DELAY = 8.0
RETRY_AFTER_CAP = 60.0
"""A server's Retry-After is honoured up to this many seconds; beyond it the client gives up."""
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

LOGGER_NAME = "gladia_async"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How failed idempotent requests are retried: attempts, backoff and the Retry-After cap."""

    max_retries: int = DEFAULT_MAX_RETRIES
    base_delay: float = RETRY_BASE_DELAY
    max_delay: float = RETRY_MAX_DELAY
    retry_after_cap: float = RETRY_AFTER_CAP


def is_loopback_host(host: str | None) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1: the only hosts plain http:// may reach."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redact(secret: str | None) -> str:
    """Show a secret as its last four characters at most: '...abcd'."""
    if not secret:
        return "<none>"
    return "..." + secret[-4:] if len(secret) > 8 else "***"
