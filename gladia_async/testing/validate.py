"""Request validation of the fake API: bodies (400 with validation_errors) and list queries.

Bodies are checked against Gladia's OpenAPI document (testing/schema.py, compiled once), with
the quirks where the docs win; unknown fields are ignored, as the document does not forbid them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from multidict import MultiMapping

from .schema import Check, request_check
from .store import STATUSES, filter_metadata_key, parse_time

__all__ = [
    "Invalid",
    "ListQuery",
    "parse_list_query",
    "validate_live",
    "validate_prerecorded",
]


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
    meta = metadata_filter(q, errors)
    meta_key = None if meta is None else filter_metadata_key(meta)
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


_BRACKETS = re.compile(r"\[([^\[\]]*)\]")


def metadata_filter(q: MultiMapping[str], errors: list[str]) -> dict[str, Any] | None:
    """The custom_metadata filter, in either encoding (both honoured; REFERENCE section 1):

    - the docs': a JSON object as the value, ``custom_metadata={"user":"a"}``;
    - the official Python SDK 2.2.1's: one ``custom_metadata[user]=a`` pair per entry (nested
      keys as ``custom_metadata[a][b]=c``). Values there are text: a JSON literal (``3``,
      ``true``, ``null``) stands for that value, anything else for the string.

    Both may be given; their entries are merged. None when neither is.
    """
    meta: dict[str, Any] | None = None
    if "custom_metadata" in q:
        try:
            value = json.loads(q["custom_metadata"])
        except (ValueError, RecursionError):
            value = None
        if not isinstance(value, dict):
            errors.append("custom_metadata must be a JSON object")
        else:
            meta = value
    for key, text in q.items():
        if not key.startswith("custom_metadata["):
            continue
        rest = key[len("custom_metadata") :]
        path = _BRACKETS.findall(rest)
        if not path or "".join(f"[{p}]" for p in path) != rest:
            errors.append(f"{key} is not a custom_metadata[key]=value filter")
            continue
        node = meta = {} if meta is None else meta
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[path[-1]] = _literal(text)
    return meta


def _literal(text: str) -> Any:
    """A bracket-form value: the JSON literal it spells (3, 1.5, true, null), else the string."""
    if text in ("True", "False", "None"):  # Python's str() of a value, as an SDK may send it
        return {"True": True, "False": False, "None": None}[text]
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if value is None or isinstance(value, bool | int | float) else text


def validate_prerecorded(body: Any) -> list[str]:
    """Errors of a POST /v2/pre-recorded body: the OpenAPI schema (with the docs' quirks), then
    the rules it cannot express."""
    errors: list[str] = []
    _prerecorded_check()(body, "", errors)
    if not isinstance(body, dict):
        return errors
    url = body.get("audio_url")
    if isinstance(url, str) and urlsplit(url).scheme not in ("http", "https"):
        errors.append("audio_url must be a URL address")
    if body.get("translation") is True and not isinstance(body.get("translation_config"), dict):
        errors.append("translation_config.target_languages must contain at least 1 elements")
    return errors + _rules(body)


def validate_live(body: Any) -> list[str]:
    """Errors of a POST /v2/live body: the OpenAPI schema (with the docs' quirks), then the rules
    it cannot express."""
    errors: list[str] = []
    _live_check()(body, "", errors)
    if not isinstance(body, dict):
        return errors
    return errors + _rules(body)


def _rules(body: Mapping[str, Any]) -> list[str]:
    """Rules of both bodies that the schema leaves out: the 2000-character custom_metadata, and
    a callback URL whenever `callback` is true (REFERENCE section 2 row 23)."""
    errors = []
    cm = body.get("custom_metadata")
    if isinstance(cm, dict) and len(json.dumps(cm)) > 2000:
        errors.append("custom_metadata must be shorter than or equal to 2000 characters")
    config = body.get("callback_config")
    has_url = isinstance(config, dict) and isinstance(config.get("url"), str)
    if body.get("callback") is True and not has_url and "callback_url" not in body:
        errors.append("callback_config.url must be a URL address")
    return errors


def _prerecorded_check() -> Check:
    return request_check("/v2/pre-recorded", "post")


def _live_check() -> Check:
    return request_check("/v2/live", "post")


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
