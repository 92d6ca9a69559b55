"""Instants as the window planner reads and writes them (found by mutation testing: no walk
test pinned them)."""

from __future__ import annotations

import pytest

from gladia_async import PaginationError
from gladia_async._windows import ms_instant, to_ms


def test_instants_are_milliseconds_since_the_epoch() -> None:
    assert to_ms("1970-01-01T00:00:00.001Z") == 1
    assert to_ms("2026-06-12T21:00:09.947Z") == 1_781_298_009_947
    assert to_ms("2026-06-12T21:00:09.947999Z") == 1_781_298_009_947  # floored
    assert to_ms("2026-06-12T23:00:09.947+02:00") == 1_781_298_009_947
    assert ms_instant(1_781_298_009_947) == "2026-06-12T21:00:09.947Z"
    assert ms_instant(0) == "1970-01-01T00:00:00.000Z"


def test_an_instant_without_offset_is_utc() -> None:
    assert to_ms("2026-06-12T21:00:09.947") == to_ms("2026-06-12T21:00:09.947Z")


@pytest.mark.parametrize("bad", ["yesterday", "", "2026-13-01T00:00:00Z", None, 17])
def test_a_created_at_that_is_no_instant_is_a_pagination_error(bad: object) -> None:
    with pytest.raises(PaginationError, match="not ISO 8601"):
        to_ms(bad)  # type: ignore[arg-type]
