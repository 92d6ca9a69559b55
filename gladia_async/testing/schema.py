"""A small JSON Schema validator for the fake, compiled once from Gladia's OpenAPI document.

Only what the document uses: ``$ref``, ``allOf``/``oneOf``/``anyOf``, ``type`` (with OpenAPI's
``nullable``), ``enum``/``const``, numeric and size bounds, ``format`` (uri, uuid, date-time),
``properties``/``required``/``additionalProperties`` and ``items``. Each schema compiles to a
closure ``check(value, path, errors)`` that appends messages in the API's style
(``diarization_config.min_speakers must be a number``). Unknown properties are ignored, as
nothing in the document forbids them (REFERENCE section 1 leaves it open).

The vendored document (``spec/openapi.json``, written by ``scripts/make_schema``) is patched by
``QUIRKS`` where REFERENCE.md says the docs win over it.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from multidict import MultiMapping

__all__ = ["QUIRKS", "Check", "Compiler", "openapi_document", "query_check", "request_check"]

Check = Callable[[Any, str, list[str]], None]
"""check(value, path, errors): append a message to `errors` for each rule `value` breaks."""

SPEC_DIR = Path(__file__).parent / "spec"

QUIRKS: dict[str, Any] = {
    # PII `entity_types`: typed as one enum value, but its own example, the docs and the PII guide
    # send a list (REFERENCE section 2 row 4): accept one value or a list of them.
    "/components/schemas/PiiRedactionConfigDTO/properties/entity_types": {
        "anyOf": [
            {"$ref": "#/components/schemas/PiiRedactionEntityTypeEnum"},
            {"type": "array", "items": {"$ref": "#/components/schemas/PiiRedactionEntityTypeEnum"}},
        ]
    },
    # audio-to-LLM `prompts`: typed as a list of lists; its example and the docs send strings
    # (row 5): accept both.
    "/components/schemas/AudioToLlmListConfigDTO/properties/prompts": {
        "type": "array",
        "minItems": 1,
        "items": {"anyOf": [{"type": "string"}, {"type": "array"}]},
    },
    # `custom_vocabulary`: a boolean, or the legacy list of words its description allows (row 6).
    "/components/schemas/InitTranscriptionRequest/properties/custom_vocabulary": {
        "anyOf": [{"type": "boolean"}, {"type": "array", "items": {"type": "string"}}]
    },
    # `custom_metadata`: not nullable in the document, null in the docs' examples (row 8).
    "/components/schemas/InitTranscriptionRequest/properties/custom_metadata": {
        "type": "object",
        "nullable": True,
    },
    "/components/schemas/StreamingRequest/properties/custom_metadata": {
        "type": "object",
        "nullable": True,
    },
    # Live `model`: the document lists `solaria-1` only, the docs more (row 14): any string.
    "/components/schemas/StreamingSupportedModels": {"type": "string"},
}
"""Patches to the document (JSON pointer -> schema) where REFERENCE.md says the docs win."""


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The vendored OpenAPI document with QUIRKS applied (loaded once)."""
    doc: dict[str, Any] = json.loads((SPEC_DIR / "openapi.json").read_text(encoding="utf-8"))
    doc = copy.deepcopy(doc)
    for pointer, schema in QUIRKS.items():
        *parents, last = pointer.lstrip("/").split("/")
        node = doc
        for part in parents:
            node = node[part]
        node[last] = schema
    return doc


@functools.cache
def _compiler() -> Compiler:
    return Compiler(openapi_document())


@functools.cache
def request_check(path: str, method: str) -> Check:
    """The compiled check of the JSON request body of `method path` in the document."""
    return _compiler().request_body(path, method)


@functools.cache
def query_check(path: str, method: str) -> Callable[[MultiMapping[str]], list[str]] | None:
    """The check of the query parameters of `method path` (a route template such as
    "/v2/live"), or None when the document has no such operation.

    Values are read as the document types them: integers parsed, arrays from repeated keys and
    comma-joined values. Object parameters (``custom_metadata``) are left to the list handler,
    which reads both of their encodings. Unknown parameters are ignored.
    """
    compiler = _compiler()
    operation = compiler.doc["paths"].get(path, {}).get(method.lower())
    if not isinstance(operation, dict):
        return None
    params: list[tuple[str, str | None, Check]] = []
    for param in operation.get("parameters", ()):
        if param.get("in") == "query":
            schema = param.get("schema", {})
            target = compiler.resolve(schema["$ref"]) if "$ref" in schema else schema
            params.append((param["name"], target.get("type"), compiler.compile(schema)))

    def check(query: MultiMapping[str]) -> list[str]:
        errors: list[str] = []
        for name, kind, param_check in params:
            values = query.getall(name, [])
            if not values or kind == "object":
                continue
            value: Any = values[-1]
            if kind == "array":
                value = [v.strip() for raw in values for v in raw.split(",")]
            elif kind in ("integer", "number"):
                try:
                    value = int(value) if kind == "integer" else float(value)
                except ValueError:
                    errors.append(f"{name} {_TYPES[kind][1]}")
                    continue
            param_check(value, name, errors)
        return errors

    return check


def _join(path: str, key: str | int) -> str:
    return f"{path}.{key}" if path else str(key)


def _name(path: str) -> str:
    return path or "body"


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


_TYPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "string": (lambda v: isinstance(v, str), "must be a string"),
    "number": (_number, "must be a number"),
    "integer": (
        lambda v: (
            (isinstance(v, int) and not isinstance(v, bool))
            or (isinstance(v, float) and v.is_integer())
        ),
        "must be an integer number",
    ),
    "boolean": (lambda v: isinstance(v, bool), "must be a boolean value"),
    "object": (lambda v: isinstance(v, dict), "must be an object"),
    "array": (lambda v: isinstance(v, list), "must be an array"),
    "null": (lambda v: v is None, "must be null"),
}

_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?)?$"
)


def _is_uri(value: str) -> bool:
    parts = urlsplit(value)
    return bool(parts.scheme) and bool(parts.netloc) and not any(c.isspace() for c in value)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


_FORMATS: dict[str, tuple[Callable[[str], bool], str]] = {
    "uri": (_is_uri, "must be a URL address"),
    "uuid": (_is_uuid, "must be a UUID"),
    # `date` is typed date-time but documented as YYYY-MM-DD: both forms pass.
    "date-time": (lambda v: bool(_DATE_TIME.match(v)), "must be a valid ISO 8601 date string"),
}


class Compiler:
    """Compiles the schemas of one document into checks; each `$ref` is compiled once."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self._refs: dict[str, Check] = {}

    def request_body(self, path: str, method: str) -> Check:
        """The check of an operation's JSON request body (objects only, as every body is)."""
        body = self.doc["paths"][path][method.lower()]["requestBody"]
        return self.compile(body["content"]["application/json"]["schema"])

    def resolve(self, ref: str) -> Any:
        node: Any = self.doc
        for part in ref.lstrip("#/").split("/"):
            node = node[part]
        return node

    def compile(self, schema: Any) -> Check:
        """The check of `schema` (a dict); `{}` accepts anything."""
        if not isinstance(schema, dict):
            return _accept
        if "$ref" in schema:
            return self._ref(schema["$ref"])
        checks: list[Check] = []
        for sub in schema.get("allOf", ()):
            checks.append(self.compile(sub))
        for key in ("oneOf", "anyOf"):
            if key in schema:
                checks.append(_any_of([self.compile(s) for s in schema[key]]))
        checks += self._own(schema)
        nullable = schema.get("nullable") is True
        if not checks:
            return _accept
        if len(checks) == 1 and not nullable:
            return checks[0]

        def check(value: Any, path: str, errors: list[str]) -> None:
            if value is None and nullable:
                return
            for c in checks:
                c(value, path, errors)

        return check

    def _ref(self, ref: str) -> Check:
        if ref not in self._refs:
            self._refs[ref] = _accept  # a placeholder while compiling a recursive schema
            compiled = self.compile(self.resolve(ref))
            self._refs[ref] = compiled
        cache = self._refs

        def check(value: Any, path: str, errors: list[str]) -> None:
            cache[ref](value, path, errors)

        return check

    def _own(self, schema: dict[str, Any]) -> list[Check]:
        """Checks of the keywords of `schema` itself (not its sub-schemas' combinators)."""
        out: list[Check] = []
        kind = schema.get("type")
        if isinstance(kind, str) and kind in _TYPES:
            out.append(_type_check(kind, schema))
        elif isinstance(kind, list):
            kinds = [k for k in kind if k in _TYPES]
            out.append(_types_check(kinds))
        if "enum" in schema:
            out.append(_enum_check(schema["enum"], schema.get("nullable") is True))
        if "const" in schema:
            out.append(_enum_check([schema["const"]], False))
        out += _bounds(schema)
        fmt = schema.get("format")
        if isinstance(fmt, str) and fmt in _FORMATS:
            out.append(_format_check(*_FORMATS[fmt]))
        if "properties" in schema or "required" in schema or "additionalProperties" in schema:
            out.append(self._object(schema))
        if "items" in schema:
            out.append(self._items(schema["items"]))
        return out

    def _object(self, schema: dict[str, Any]) -> Check:
        props = {k: self.compile(v) for k, v in schema.get("properties", {}).items()}
        required = tuple(schema.get("required", ()))
        extra = schema.get("additionalProperties")
        extra_check = self.compile(extra) if isinstance(extra, dict) and extra else None
        forbid = extra is False

        def check(value: Any, path: str, errors: list[str]) -> None:
            if not isinstance(value, dict):
                return
            for key in required:
                if key not in value:
                    errors.append(f"{_join(path, key)} should not be empty")
            for key, item in value.items():
                sub = props.get(key)
                if sub is not None:
                    sub(item, _join(path, key), errors)
                elif forbid:
                    errors.append(f"property {_join(path, key)} should not exist")
                elif extra_check is not None:
                    extra_check(item, _join(path, key), errors)

        return check

    def _items(self, items: Any) -> Check:
        target = items
        while isinstance(target, dict) and "$ref" in target:
            target = self.resolve(target["$ref"])
        if isinstance(target, dict) and "enum" in target and set(target) <= {"type", "enum"}:
            allowed = target["enum"]
            text = ", ".join(map(str, allowed))

            def enum_items(value: Any, path: str, errors: list[str]) -> None:
                if isinstance(value, list) and any(
                    isinstance(v, bool) or v not in allowed for v in value
                ):
                    errors.append(f"{_name(path)} must only contain the following values: {text}")

            return enum_items
        item_check = self.compile(items)

        def check(value: Any, path: str, errors: list[str]) -> None:
            if isinstance(value, list):
                for i, item in enumerate(value):
                    item_check(item, _join(path, i), errors)

        return check


def _accept(value: Any, path: str, errors: list[str]) -> None:
    return None


def _type_check(kind: str, schema: dict[str, Any]) -> Check:
    test, message = _TYPES[kind]
    nullable = schema.get("nullable") is True

    def check(value: Any, path: str, errors: list[str]) -> None:
        if not test(value) and not (nullable and value is None):
            errors.append(f"{_name(path)} {message}")

    return check


def _types_check(kinds: list[str]) -> Check:
    tests = [_TYPES[k][0] for k in kinds]
    message = "must be " + " or ".join(kinds)

    def check(value: Any, path: str, errors: list[str]) -> None:
        if not any(t(value) for t in tests):
            errors.append(f"{_name(path)} {message}")

    return check


def _enum_check(allowed: list[Any], nullable: bool) -> Check:
    text = ", ".join(map(str, allowed))

    def check(value: Any, path: str, errors: list[str]) -> None:
        if value is None and nullable:
            return
        # JSON equality: true is not 1, and 16.0 is 16.
        if not any(isinstance(value, bool) == isinstance(a, bool) and value == a for a in allowed):
            errors.append(f"{_name(path)} must be one of the following values: {text}")

    return check


def _bounds(schema: dict[str, Any]) -> list[Check]:
    out: list[Check] = []
    rules: list[tuple[str, Callable[[Any, Any], bool], str]] = [
        ("minimum", lambda v, b: v >= b, "must not be less than {}"),
        ("maximum", lambda v, b: v <= b, "must not be greater than {}"),
        ("exclusiveMinimum", lambda v, b: v > b, "must be greater than {}"),
        ("exclusiveMaximum", lambda v, b: v < b, "must be less than {}"),
    ]
    for key, ok, message in rules:
        if _number(schema.get(key)):
            out.append(_bound(schema[key], ok, message.format(schema[key]), _number))
    sizes: list[tuple[str, Callable[[Any], bool], Callable[[Any, Any], bool], str]] = [
        ("minItems", lambda v: isinstance(v, list), lambda v, b: len(v) >= b,
         "must contain at least {} elements"),
        ("maxItems", lambda v: isinstance(v, list), lambda v, b: len(v) <= b,
         "must contain no more than {} elements"),
        ("minLength", lambda v: isinstance(v, str), lambda v, b: len(v) >= b,
         "must be longer than or equal to {} characters"),
        ("maxLength", lambda v: isinstance(v, str), lambda v, b: len(v) <= b,
         "must be shorter than or equal to {} characters"),
    ]  # fmt: skip
    for key, applies, ok, message in sizes:
        if isinstance(schema.get(key), int):
            out.append(_bound(schema[key], ok, message.format(schema[key]), applies))
    return out


def _bound(
    limit: Any, ok: Callable[[Any, Any], bool], message: str, applies: Callable[[Any], bool]
) -> Check:
    def check(value: Any, path: str, errors: list[str]) -> None:
        if applies(value) and not ok(value, limit):
            errors.append(f"{_name(path)} {message}")

    return check


def _format_check(test: Callable[[str], bool], message: str) -> Check:
    def check(value: Any, path: str, errors: list[str]) -> None:
        if isinstance(value, str) and not test(value):
            errors.append(f"{_name(path)} {message}")

    return check


def _any_of(checks: list[Check]) -> Check:
    """Valid when one branch is; else the errors of the branch whose type matched, or one line."""

    def check(value: Any, path: str, errors: list[str]) -> None:
        best: list[str] | None = None
        for c in checks:
            found: list[str] = []
            c(value, path, found)
            if not found:
                return
            if best is None or len(found) < len(best):
                best = found
        errors.extend(best or [f"{_name(path)} has an invalid value"])

    return check
