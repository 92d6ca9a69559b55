"""Checkpoint limits at their exact boundaries, each refusal with its own message (mutation
testing found the limits pinned only loosely)."""

from __future__ import annotations

import base64
import json
from typing import Any

import msgspec
import pytest

from gladia_async._errors import GladiaConfigError
from gladia_async._streams import MAX_OFFSET, Checkpoint, check_int

PATH = "/v2/pre-recorded"


def make(**fields: Any) -> Checkpoint:
    return Checkpoint(**{"path": PATH, "offset": 0, "page_size": 10, **fields})


def refused(match: str, **fields: Any) -> None:
    with pytest.raises(GladiaConfigError, match=match):
        make(**fields)


def test_token_shape() -> None:
    with pytest.raises(GladiaConfigError, match="must be a str"):
        Checkpoint.from_token(b"v1.abc")  # type: ignore[arg-type]
    for token in ("x1.abcd", "v1" + "A" * 8190, "v1." + "A" * 8190):
        with pytest.raises(GladiaConfigError, match="not a gladia_async checkpoint token"):
            Checkpoint.from_token(token)
    with pytest.raises(GladiaConfigError, match="malformed checkpoint token"):
        Checkpoint.from_token("v1." + "A" * 8189)  # 8,192 characters: not too long to be read
    for body in ("ab$c", "AAAAA", "A"):
        with pytest.raises(GladiaConfigError, match="malformed checkpoint token"):
            Checkpoint.from_token("v1." + body)


def token_of(payload: dict[str, Any]) -> str:
    raw = json.dumps(payload).encode()
    return "v1." + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_token_contents() -> None:
    good = {"p": PATH, "o": 5, "n": 10}
    assert Checkpoint.from_token(token_of(good)).offset == 5
    with pytest.raises(GladiaConfigError, match="invalid checkpoint token"):
        Checkpoint.from_token(token_of({**good, "z": 1}))  # unknown fields are refused
    with pytest.raises(TypeError):
        Checkpoint(PATH, 0, 10)  # type: ignore[misc]  # keyword-only: fields may be added
    cp = make()
    with pytest.raises(AttributeError):
        cp.offset = 3  # type: ignore[misc]  # frozen
    body = cp.token[3:]
    assert set(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))) == {
        "p",
        "o",
        "n",
    }  # defaults left out: short tokens
    assert msgspec.json.decode(msgspec.json.encode(cp)) == {"p": PATH, "o": 0, "n": 10}


def test_numeric_bounds() -> None:
    assert make(offset=MAX_OFFSET).offset == 2**53
    refused("offset", offset=MAX_OFFSET + 1)
    refused("offset", offset=-1)
    assert make(page_size=100_000).page_size == 100_000
    refused("page_size", page_size=100_001)
    refused("page_size", page_size=0)
    refused("invalid checkpoint path", path="/v1/pre-recorded")
    assert check_int(5, "x", 5, 5) == 5
    for bad in (True, 4, 6, 5.0):
        with pytest.raises(GladiaConfigError, match=r"x must be an int in \[5, 5\]"):
            check_int(bad, "x", 5, 5)  # type: ignore[arg-type]
    with pytest.raises(GladiaConfigError, match="x must be an int >= 1"):
        check_int(0, "x", 1)


def test_status_bounds() -> None:
    assert len(make(status=tuple(f"s{k}" for k in range(16))).status) == 16
    refused("at most 16 status filters", status=tuple(f"s{k}" for k in range(17)))
    assert make(status=("x" * 64,)).status == ("x" * 64,)
    refused("at most 16 status filters of 64 characters", status=("x" * 65,))
    for bad in ("", "dön", "a\nb"):
        refused("invalid checkpoint status", status=("done", bad))


def test_date_bounds() -> None:
    assert make(date="2026-01-02").date == "2026-01-02"
    refused("invalid checkpoint date", date="2026-1-2")
    instant = "2026-01-02T03:04:05.678Z"
    assert make(before_date=instant, after_date=instant).after_date == instant
    refused("invalid checkpoint date bound", before_date="2026-01-02")
    refused("invalid checkpoint date bound", after_date="2026-01-02T03:04:05Z")


def test_custom_metadata_bounds() -> None:
    exact = '{"k":"' + "x" * (1024 - 8) + '"}'
    assert len(exact) == 1024 and make(custom_metadata=exact).custom_metadata == exact
    refused("longer than 1024 characters", custom_metadata=exact[:-2] + 'x"}')
    refused("invalid checkpoint custom_metadata", custom_metadata="{nope")
    refused("must be a JSON object", custom_metadata="[1]")


def test_sharded_walk_fields() -> None:
    cp = make()
    assert (cp.shards, cp.max_depth, cp.oldest_first, cp.window_count) == (0, 0, False, None)
    assert make(shards=1024).shards == 1024
    refused("shards", shards=1025)
    refused("shards", shards=-1)
    refused("max_depth", max_depth=-1)
    assert make(window_count=0).window_count == 0
    refused("window_count", window_count=-1)
    refused("oldest_first", oldest_first="yes")
