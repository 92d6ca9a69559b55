"""Request validation of the fake API: bodies (400 with validation_errors) and list queries.

Light on purpose: it catches the mistakes a client can make (types, enums, required fields)
and ignores unknown fields.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from multidict import MultiMapping

from .data import PRERECORDED_FLAGS
from .store import STATUSES, filter_metadata_key, parse_time

__all__ = [
    "Invalid",
    "ListQuery",
    "parse_list_query",
    "validate_common",
    "validate_live",
    "validate_prerecorded",
]

LANGUAGES = frozenset(
    "af am ar as az ba be bg bn bo br bs ca cs cy da de el en es et eu fa fi fo fr gl gu ha haw "
    "he hi hr ht hu hy id is it ja jw ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn mr ms mt "
    "my ne nl nn no oc pa pl ps pt ro ru sa sd si sk sl sn so sq sr su sv sw ta te tg th tk tl "
    "tr tt uk ur uz vi yi yo zh".split()
)


class Invalid(Exception):
    """A 400 with validation errors (raised by validators, answered by the app)."""

    def __init__(self, *errors: str) -> None:
        super().__init__("; ".join(errors))
        self.errors = list(errors)


@dataclass(frozen=True)
class ListQuery:
    """The parsed query of a list request (dates in microseconds, exclusive bounds)."""

    offset: int
    limit: int
    statuses: frozenset[str] | None
    after_us: int | None
    before_us: int | None
    metadata: Any
    metadata_key: str | None


def parse_list_query(q: MultiMapping[str]) -> ListQuery:
    """Parse offset/limit/status/date/before_date/after_date/custom_metadata; Invalid if bad."""
    errors: list[str] = []
    offset = int_param(q.get("offset"), 0, 0, "offset", errors)
    limit = int_param(q.get("limit"), 20, 1, "limit", errors)
    statuses: set[str] = set()
    for raw in q.getall("status", []):
        for s in raw.split(","):
            s = s.strip()
            if s not in STATUSES:
                errors.append(f"status must be one of the following values: {', '.join(STATUSES)}")
            statuses.add(s)
    after = before = None
    for key in ("before_date", "after_date"):
        if key in q:
            try:
                v = parse_time(q[key])
            except ValueError:
                errors.append(f"{key} must be a valid ISO 8601 date string")
                continue
            if key == "before_date":
                before = v
            else:
                after = v
    if "date" in q:
        try:
            day = parse_time(q["date"][:10])
        except ValueError:
            errors.append("date must be a valid ISO 8601 date string")
        else:
            lo, hi = day - 1, day + 86_400_000_000  # created in [day, day + 1d)
            after = lo if after is None else max(after, lo)
            before = hi if before is None else min(before, hi)
    meta: Any = None
    meta_key = None
    if "custom_metadata" in q:
        try:
            meta = json.loads(q["custom_metadata"])
        except ValueError:
            meta = None
        if not isinstance(meta, dict):
            errors.append("custom_metadata must be a JSON object")
        else:
            meta_key = filter_metadata_key(meta)
    if errors:
        raise Invalid(*errors)
    return ListQuery(
        offset=offset,
        limit=limit,
        statuses=frozenset(statuses) if statuses else None,
        after_us=after,
        before_us=before,
        metadata=meta,
        metadata_key=meta_key,
    )


def validate_prerecorded(body: Any) -> list[str]:
    """Light validation of a POST /v2/pre-recorded body: the errors a client can make."""
    if not isinstance(body, dict):
        return ["body must be a JSON object"]
    errors = []
    url = body.get("audio_url")
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        errors.append("audio_url must be a URL address")
    for flag in PRERECORDED_FLAGS:
        if flag in body and not isinstance(body[flag], bool):
            errors.append(f"{flag} must be a boolean value")
    errors += validate_common(body)
    if body.get("translation") is True:
        tl = _block(body, "translation_config").get("target_languages")
        if not isinstance(tl, list) or not tl:
            errors.append("translation_config.target_languages must contain at least 1 elements")
    dc = _block(body, "diarization_config")
    for k in ("number_of_speakers", "min_speakers", "max_speakers"):
        if k in dc and (not isinstance(dc[k], int) or isinstance(dc[k], bool)):
            errors.append(f"diarization_config.{k} must be a number")
    if body.get("callback") is True and not _block(body, "callback_config").get("url"):
        errors.append("callback_config.url must be a URL address")
    return errors


_BLOCKS = ("pre_processing", "realtime_processing", "post_processing")
"""Live body keys that hold objects, besides the `*_config` ones."""


def _block(body: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """body[key] when it is an object, else {} (validate_common reports a non-object)."""
    value = body.get(key)
    return value if isinstance(value, dict) else {}


def validate_common(body: Mapping[str, Any]) -> list[str]:
    """Checks shared by both bodies: object blocks, custom_metadata, language codes."""
    errors = [
        f"{k} must be an object"
        for k, v in body.items()
        if (k.endswith("_config") or k in _BLOCKS) and v is not None and not isinstance(v, dict)
    ]
    cm = body.get("custom_metadata")
    if cm is not None:
        if not isinstance(cm, dict):
            errors.append("custom_metadata must be an object")
        elif len(json.dumps(cm)) > 2000:
            errors.append("custom_metadata must be shorter than or equal to 2000 characters")
    langs = _block(body, "language_config").get("languages")
    if langs is not None and not isinstance(langs, list):
        errors.append("language_config.languages must be an array")
    elif langs and any(not isinstance(x, str) or x not in LANGUAGES for x in langs):
        errors.append(
            "language_config.languages must only contain the following values: "
            + ", ".join(sorted(LANGUAGES))
        )
    return errors


def validate_live(body: Mapping[str, Any]) -> list[str]:
    """Checks of a POST /v2/live body: audio format enums, channels, boolean message flags."""
    checks: list[tuple[str, tuple[Any, ...]]] = [
        ("encoding", ("wav/pcm", "wav/alaw", "wav/ulaw")),
        ("bit_depth", (8, 16, 24, 32)),
        ("sample_rate", (8000, 16000, 32000, 44100, 48000)),
    ]
    errors = []
    for key, allowed in checks:
        if key in body and (body[key] not in allowed or isinstance(body[key], bool)):
            joined = ", ".join(map(str, allowed))
            errors.append(f"{key} must be one of the following values: {joined}")
    ch = body.get("channels", 1)
    if not isinstance(ch, int) or isinstance(ch, bool) or not 1 <= ch <= 8:
        errors.append("channels must not be greater than 8")
    for block in ("messages_config", "callback_config"):
        errors += [
            f"{block}.{k} must be a boolean value"
            for k, v in _block(body, block).items()
            if k.startswith("receive_") and not isinstance(v, bool)
        ]
    return errors


def int_param(raw: str | None, default: int, minimum: int, name: str, errors: list[str]) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        errors.append(f"{name} must be an integer number")
        return default
    if value < minimum:
        errors.append(f"{name} must not be less than {minimum}")
        return default
    return value
