"""Fuzzing the decoders with payloads derived from the types themselves.

Strategies are built from ``msgspec.inspect.type_info`` of each public Struct, so they follow the
types as they evolve: valid payloads must decode and round-trip (decode -> encode -> decode gives
an equal value); truncated, byte-flipped, type-swapped or arbitrary bytes must raise only
``gladia_async.DecodeError``. Checkpoint tokens get the same treatment: every Checkpoint round-trips
through its token, and any other string is refused with ``GladiaConfigError`` only.
"""

from __future__ import annotations

import json
import math
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gladia_async import DecodeError, GladiaConfigError
from gladia_async._decode import decode
from gladia_async._streams import Checkpoint
from gladia_async.types import (
    CreatedJob,
    LiveJob,
    Page,
    PreRecordedJob,
    UploadResult,
)
from gladia_async.types.errors import ErrorResponse

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False, width=64)
    | st.text(max_size=12)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)

MAX_DEPTH = 7


def _int_bounds(t: mi.IntType) -> st.SearchStrategy[int]:
    lo = t.ge if t.ge is not None else (t.gt + 1 if t.gt is not None else -(2**53))
    hi = t.le if t.le is not None else (t.lt - 1 if t.lt is not None else 2**53)
    return st.integers(lo, hi)


def _float_bounds(t: mi.FloatType) -> st.SearchStrategy[float]:
    lo = t.ge if t.ge is not None else t.gt
    hi = t.le if t.le is not None else t.lt
    return st.floats(
        min_value=lo,
        max_value=hi,
        exclude_min=t.gt is not None,
        exclude_max=t.lt is not None,
        allow_nan=False,
        allow_infinity=False,
    )


def _str(t: mi.StrType) -> st.SearchStrategy[str]:
    if t.pattern is not None:
        return st.from_regex(t.pattern, fullmatch=True).filter(
            lambda s: t.max_length is None or len(s) <= t.max_length
        )
    return st.text(min_size=t.min_length or 0, max_size=min(t.max_length or 16, 16))


def strategy_for(t: mi.Type, depth: int = 0) -> st.SearchStrategy[Any]:
    """A strategy of JSON-ready Python values that the type accepts."""
    deep = depth >= MAX_DEPTH
    if isinstance(t, mi.AnyType):
        return JSON_SCALARS if deep else JSON_VALUES
    if isinstance(t, mi.NoneType):
        return st.none()
    if isinstance(t, mi.BoolType):
        return st.booleans()
    if isinstance(t, mi.IntType):
        return _int_bounds(t)
    if isinstance(t, mi.FloatType):
        return _float_bounds(t)
    if isinstance(t, mi.StrType):
        return _str(t)
    if isinstance(t, mi.LiteralType):
        return st.sampled_from(t.values)
    if isinstance(t, mi.BytesType):  # a sharded checkpoint's sketch (bytes, not JSON-ready)
        lo = t.min_length or 0
        return st.binary(min_size=lo, max_size=max(lo, t.max_length or 0, 16))
    if isinstance(t, mi.ListType | mi.VarTupleType | mi.SetType | mi.FrozenSetType):
        size = 0 if deep else max(0, 3 - depth // 2)
        lo = t.min_length or 0
        items = st.lists(strategy_for(t.item_type, depth + 1), min_size=lo, max_size=max(size, lo))
        if isinstance(t, mi.SetType | mi.FrozenSetType):
            items = items.map(lambda xs: list(dict.fromkeys(xs)))
        return items
    if isinstance(t, mi.TupleType):
        return st.tuples(*(strategy_for(x, depth + 1) for x in t.item_types)).map(list)
    if isinstance(t, mi.DictType):
        return st.dictionaries(
            _str(t.key_type) if isinstance(t.key_type, mi.StrType) else st.text(max_size=6),
            strategy_for(t.value_type, depth + 1),
            max_size=0 if deep else 2,
        )
    if isinstance(t, mi.UnionType):
        options = list(t.types)
        if deep and any(isinstance(o, mi.NoneType) for o in options):
            return st.none()
        return st.one_of([strategy_for(o, depth) for o in options])
    if isinstance(t, mi.StructType | mi.TypedDictType | mi.DataclassType):
        return _struct(t, depth)
    raise NotImplementedError(f"no strategy for {t!r}")


def _struct(t: Any, depth: int) -> st.SearchStrategy[dict[str, Any]]:
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for field in t.fields:
        name = getattr(field, "encode_name", field.name)
        strat = strategy_for(field.type, depth + 1)
        (required if field.required else optional)[name] = strat
    if depth >= MAX_DEPTH:
        optional = {}
    base = st.fixed_dictionaries(required, optional=optional)
    tag_field = getattr(t, "tag_field", None)
    if tag_field is not None:
        tag = t.tag
        base = base.map(lambda d: {tag_field: tag, **d})
    return base


def payloads(type_: Any) -> st.SearchStrategy[bytes]:
    """Valid JSON bodies for type_, derived from its msgspec type info."""
    return strategy_for(mi.type_info(type_)).map(msgspec.json.encode)


TYPES: dict[str, Any] = {
    "PreRecordedJob": PreRecordedJob,
    "LiveJob": LiveJob,
    "Page[PreRecordedJob]": Page[PreRecordedJob],
    "CreatedJob": CreatedJob,
    "UploadResult": UploadResult,
    "ErrorResponse": ErrorResponse,
}


def _decode_only_decode_error(body: bytes, type_: Any) -> Any:
    """decode() either returns an instance or raises DecodeError; anything else fails."""
    try:
        value = decode(body, type_, url="http://127.0.0.1/fuzz")
    except DecodeError as exc:
        assert exc.url == "http://127.0.0.1/fuzz"
        assert str(exc)
        return None
    origin = getattr(type_, "__origin__", type_)
    assert isinstance(value, origin)
    return value


@pytest.mark.parametrize("name", sorted(TYPES))
def test_valid_payloads_decode_and_round_trip(name: str) -> None:
    type_ = TYPES[name]

    @FUZZ
    @given(body=payloads(type_))
    def check(body: bytes) -> None:
        value = decode(body, type_)
        again = decode(msgspec.json.encode(value), type_)
        assert again == value
        # and the bytes are stable from then on
        assert msgspec.json.encode(again) == msgspec.json.encode(value)

    check()


@pytest.mark.parametrize("name", sorted(TYPES))
def test_truncated_payloads_raise_decode_error(name: str) -> None:
    type_ = TYPES[name]

    @FUZZ
    @given(body=payloads(type_), data=st.data())
    def check(body: bytes, data: st.DataObject) -> None:
        cut = data.draw(st.integers(0, len(body) - 1))
        with pytest.raises(DecodeError):
            decode(body[:cut], type_)

    check()


@pytest.mark.parametrize("name", sorted(TYPES))
def test_byte_flips_raise_only_decode_error(name: str) -> None:
    type_ = TYPES[name]

    @FUZZ
    @given(body=payloads(type_), data=st.data())
    def check(body: bytes, data: st.DataObject) -> None:
        mutated = bytearray(body)
        for _ in range(data.draw(st.integers(1, 4))):
            pos = data.draw(st.integers(0, len(mutated) - 1))
            mutated[pos] = data.draw(st.integers(0, 255))
        _decode_only_decode_error(bytes(mutated), type_)

    check()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replace(copy[head], rest, new)
    return copy


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


SWAPS = {"null": None, "bool": True, "number": 7, "str": "x", "list": [1], "dict": {"k": 1}}


@pytest.mark.parametrize("name", sorted(TYPES))
def test_type_swaps_raise_only_decode_error(name: str) -> None:
    type_ = TYPES[name]

    @FUZZ
    @given(body=payloads(type_), data=st.data())
    def check(body: bytes, data: st.DataObject) -> None:
        doc = json.loads(body)
        paths = _paths(doc)
        if not paths:
            return
        path = data.draw(st.sampled_from(paths))
        target: Any = doc
        for step in path:
            target = target[step]
        kinds = [k for k in SWAPS if k != _kind(target)]
        swapped = _replace(doc, path, SWAPS[data.draw(st.sampled_from(kinds))])
        _decode_only_decode_error(json.dumps(swapped).encode(), type_)

    check()


def _required_str_fields(type_: Any) -> list[str]:
    info = mi.type_info(type_)
    if not isinstance(info, mi.StructType):
        return []
    return [f.encode_name for f in info.fields if f.required and isinstance(f.type, mi.StrType)]


@pytest.mark.parametrize("name", [n for n in sorted(TYPES) if _required_str_fields(TYPES[n])])
def test_required_string_swapped_for_number_is_refused(name: str) -> None:
    """A swap the type cannot accept must be refused, not coerced."""
    type_ = TYPES[name]
    field = _required_str_fields(type_)[0]

    @FUZZ
    @given(body=payloads(type_))
    def check(body: bytes) -> None:
        doc = json.loads(body)
        doc[field] = 12345
        with pytest.raises(DecodeError):
            decode(json.dumps(doc).encode(), type_)

    check()


@FUZZ
@given(body=st.binary(max_size=200))
def test_arbitrary_bytes_raise_only_decode_error(body: bytes) -> None:
    for type_ in TYPES.values():
        _decode_only_decode_error(body, type_)


HOSTILE_BODIES = {
    "deep_arrays": b"[" * 100_000,
    "deep_objects_in_unknown_field": b'{"x":' * 100_000,
    "deep_any_field": b'{"id":"a","custom_metadata":{"x":' + b"[" * 100_000,
    "huge_number": b'{"id":"a","version":' + b"9" * 5000 + b"}",
    "nan_literal": b'{"id":"a","version":NaN}',
    "bad_unicode_escape": b'{"id":"\\ud800"}',
    "lone_surrogate_bytes": b'{"id":"\xed\xa0\x80"}',
    "nul_bytes": b"\x00" * 64,
    "bom": b"\xef\xbb\xbf{}",
    "invalid_utf8_in_string": b'{"id":"\x80"}',
    "trailing_garbage": b'{"id":"a"} x',
}


@pytest.mark.parametrize("case", sorted(HOSTILE_BODIES))
@pytest.mark.parametrize("name", ["PreRecordedJob", "Page[PreRecordedJob]"])
def test_hostile_bodies_raise_only_decode_error(case: str, name: str) -> None:
    _decode_only_decode_error(HOSTILE_BODIES[case], TYPES[name])


# -- checkpoint tokens ------------------------------------------------------------------------


def checkpoints() -> st.SearchStrategy[Checkpoint]:
    """Checkpoints built from the Struct's own field types (constraints included)."""
    info = mi.type_info(Checkpoint)
    assert isinstance(info, mi.StructType)
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for field in info.fields:
        strat = strategy_for(field.type)
        if field.name == "status":
            strat = st.lists(
                st.sampled_from(["queued", "processing", "done", "error", "x-new"]), max_size=4
            ).map(tuple)
        elif field.name == "custom_metadata":
            strat = st.none() | st.dictionaries(st.text(max_size=5), JSON_SCALARS, max_size=3).map(
                lambda d: json.dumps(d, separators=(",", ":"))
            )
        elif field.name == "path":
            strat = st.sampled_from(["/v2/pre-recorded", "/v2/live"])
        elif field.name == "date":
            strat = st.none() | st.dates().map(lambda d: d.isoformat())
        elif field.name in ("before_date", "after_date", "edge"):
            strat = st.none() | st.datetimes().map(
                lambda d: d.isoformat(timespec="milliseconds") + "Z"
            )
        fields[field.name] = strat
    return st.fixed_dictionaries(fields).map(lambda kw: Checkpoint(**kw))


@FUZZ
@given(cp=checkpoints())
def test_checkpoint_token_round_trips(cp: Checkpoint) -> None:
    token = cp.token
    assert token.isascii() and all(c.isalnum() or c in "-_." for c in token)
    assert Checkpoint.from_token(token) == cp


@FUZZ
@given(text=st.text(max_size=200) | st.binary(max_size=150).map(lambda b: "v1." + b.hex()))
def test_arbitrary_tokens_raise_only_config_error(text: str) -> None:
    try:
        Checkpoint.from_token(text)
    except GladiaConfigError:
        pass


@FUZZ
@given(cp=checkpoints(), data=st.data())
def test_corrupted_tokens_raise_only_config_error(cp: Checkpoint, data: st.DataObject) -> None:
    token = list(cp.token)
    for _ in range(data.draw(st.integers(1, 3))):
        pos = data.draw(st.integers(0, len(token) - 1))
        token[pos] = data.draw(st.sampled_from("AZaz09-_.=+/ \x00é"))
    try:
        restored = Checkpoint.from_token("".join(token))
    except GladiaConfigError:
        return
    assert isinstance(restored, Checkpoint)
    assert restored.offset >= 0 and restored.page_size >= 1
    assert not math.isnan(float(restored.offset))


def test_token_with_forged_fields_is_refused() -> None:
    """A token whose JSON carries unknown or out-of-range fields is refused before any I/O."""
    import base64

    def forge(doc: dict[str, Any]) -> str:
        raw = json.dumps(doc).encode()
        return "v1." + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    good = {"p": "/v2/pre-recorded", "o": 10, "n": 20}
    assert Checkpoint.from_token(forge(good)).offset == 10
    for bad in (
        {**good, "o": -1},
        {**good, "n": 0},
        {**good, "p": "https://evil.example/v2/pre-recorded"},
        {**good, "p": "/v2/../../etc"},
        {**good, "api_key": "sk-x"},
        {**good, "o": 2**64},
        {**good, "b": "tomorrow"},
        {**good, "m": "[1]"},
    ):
        with pytest.raises(GladiaConfigError):
            Checkpoint.from_token(forge(bad))
