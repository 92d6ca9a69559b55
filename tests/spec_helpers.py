"""The project's schema-only copies of Gladia's documents and the examples taken from them
(written by scripts/make_schema; tests never read ../shared)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import gladia_async.testing

SPEC = Path(gladia_async.testing.__file__).parent / "spec"
EXAMPLES = Path(__file__).parent / "spec" / "examples.json"


@functools.cache
def openapi() -> dict[str, Any]:
    """The vendored OpenAPI document (schema only)."""
    doc: dict[str, Any] = json.loads((SPEC / "openapi.json").read_text())
    return doc


@functools.cache
def asyncapi() -> dict[str, Any]:
    """The vendored AsyncAPI document (schema only)."""
    doc: dict[str, Any] = json.loads((SPEC / "asyncapi.json").read_text())
    return doc


def examples(kind: str | None = None) -> list[dict[str, Any]]:
    """Examples of both documents: {source, kind, payload}; `kind` filters."""
    items: list[dict[str, Any]] = json.loads(EXAMPLES.read_text())
    return [x for x in items if kind is None or x["kind"] == kind]
