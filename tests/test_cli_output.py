"""The CLI's line output survives short writes (a signal can cut a blocking pipe write short)."""

from __future__ import annotations

import io

from gladia_async.cli._format import _Output


class ShortWrites(io.RawIOBase):
    """A byte sink that accepts at most `step` bytes per write, like an interrupted pipe."""

    def __init__(self, step: int) -> None:
        self.step = step
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: object) -> int:
        chunk = bytes(memoryview(b))[: self.step]  # type: ignore[arg-type]
        self.data += chunk
        return len(chunk)


class TextOverShortWrites(io.StringIO):
    """A text stream whose `.buffer` is the short-writing sink."""

    def __init__(self, sink: ShortWrites) -> None:
        super().__init__()
        self.buffer = sink


def test_a_short_write_is_completed_not_dropped() -> None:
    sink = ShortWrites(step=7)
    out = _Output(TextOverShortWrites(sink))  # type: ignore[arg-type]
    lines = [b'{"id":"%d","text":"%s"}' % (i, b"x" * (50 + i)) for i in range(5)]
    for line in lines:
        out.line_bytes(line)
    out.flush()
    assert bytes(sink.data) == b"".join(line + b"\n" for line in lines)
