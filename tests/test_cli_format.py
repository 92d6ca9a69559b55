"""Unit tests of the CLI's output formats and argument parsing (no server needed)."""

from __future__ import annotations

import csv
import io
import sys

import msgspec
import pytest

from gladia_async._cli import build_parser, main
from gladia_async.cli._format import cell, make_writer, parse_fields, resolve, select


class File(msgspec.Struct, kw_only=True):
    audio_duration: float | None = None
    number_of_channels: int | None = None


class Job(msgspec.Struct, kw_only=True):
    id: str
    status: str
    next_url: str | None = msgspec.field(default=None, name="next")
    file: File | None = None
    custom_metadata: dict[str, object] | None = None
    result: msgspec.Raw | None = None


JOB = Job(
    id="j1",
    status="done",
    next_url="http://x/next",
    file=File(audio_duration=12.5, number_of_channels=2),
    custom_metadata={"team": {"name": "a"}, "tags": ["x", "y"]},
    result=msgspec.Raw(b'{"metadata": {"billing_time": 25.0}}'),
)


def test_resolve_dotted_paths_and_wire_names() -> None:
    assert resolve(JOB, "id") == "j1"
    assert resolve(JOB, "file.audio_duration") == 12.5
    assert resolve(JOB, "next") == "http://x/next"  # wire name
    assert resolve(JOB, "next_url") == "http://x/next"  # attribute name
    assert resolve(JOB, "custom_metadata.team.name") == "a"
    assert resolve(JOB, "custom_metadata.tags.1") == "y"
    assert resolve(JOB, "result.metadata.billing_time") == 25.0  # through msgspec.Raw
    assert resolve(JOB, "missing") is None
    assert resolve(JOB, "file.missing.deeper") is None
    assert resolve(Job(id="j2", status="queued"), "file.audio_duration") is None


def test_select_and_cell() -> None:
    assert select(JOB, ["id", "file"]) == {"id": "j1", "file": JOB.file}
    assert cell(None) == ""
    assert cell(True) == "true"
    assert cell(3) == "3"
    assert cell(2.5) == "2.5"
    assert cell({"a": [1]}) == '{"a":[1]}'
    assert cell(JOB.file) == '{"audio_duration":12.5,"number_of_channels":2}'


def test_parse_fields() -> None:
    assert parse_fields(None) is None
    assert parse_fields(" id, status ,file.audio_duration,") == [
        "id",
        "status",
        "file.audio_duration",
    ]
    with pytest.raises(ValueError):
        parse_fields("id,file..x")


def test_jsonl_writer_whole_objects_and_fields() -> None:
    out = io.StringIO()
    writer = make_writer("jsonl", out, None)
    writer.write(JOB)
    writer.close()
    line = out.getvalue().splitlines()[0]
    assert msgspec.json.decode(line)["file"]["audio_duration"] == 12.5

    out = io.StringIO()
    writer = make_writer("jsonl", out, ["id", "result.metadata.billing_time"])
    writer.write(JOB)
    writer.close()
    assert out.getvalue() == '{"id":"j1","result.metadata.billing_time":25.0}\n'


def test_csv_writer_quotes_and_header() -> None:
    out = io.StringIO()
    writer = make_writer("csv", out, ["id", "custom_metadata.team", "file.audio_duration"])
    writer.write(JOB)
    writer.write(Job(id='j,"2', status="queued"))
    writer.close()
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [
        ["id", "custom_metadata.team", "file.audio_duration"],
        ["j1", '{"name":"a"}', "12.5"],
        ['j,"2', "", ""],
    ]


def test_csv_default_columns() -> None:
    out = io.StringIO()
    make_writer("csv", out, None).close()
    assert out.getvalue().strip() == "id,status,created_at,completed_at,file.audio_duration"


def test_table_writer_aligns_columns() -> None:
    out = io.StringIO()
    writer = make_writer("table", out, ["id", "status"])
    writer.write(JOB)
    writer.write(Job(id="a-longer-id", status="x\ny"))
    writer.close()
    lines = out.getvalue().splitlines()
    assert lines[0] == "id           status"
    assert lines[1] == "-----------  ------"
    assert lines[2] == "j1           done"
    assert lines[3] == "a-longer-id  x y"


def test_table_streams_after_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    from gladia_async.cli import _format

    monkeypatch.setattr(_format, "TABLE_SAMPLE_ROWS", 2)
    out = io.StringIO()
    writer = make_writer("table", out, ["id"])
    writer.write(Job(id="ab", status="done"))
    assert out.getvalue() == ""
    writer.write(Job(id="cd", status="done"))
    assert len(out.getvalue().splitlines()) == 4  # header, rule, two rows: now streaming
    writer.write(Job(id="a-much-longer-id", status="done"))
    writer.close()
    assert out.getvalue().splitlines()[-1] == "a…"  # clipped to the sampled width


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["nope"],
        ["list", "--format", "xml"],
        ["list", "--page-size", "0"],
        ["list", "--max-items", "-1"],
        ["list", "--concurrency", "many"],
        ["get"],
        ["demo", "--jobs", "x"],
        ["transcribe"],
        ["transcribe", "a.wav", "--subtitles", "ass"],
        ["fake-server", "--port", "-5"],
    ],
)
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "usage: gladia-async" in captured.err
    assert "Traceback" not in captured.err


@pytest.mark.parametrize(
    "command", [None, "demo", "list", "get", "delete", "upload", "transcribe", "fake-server"]
)
def test_every_command_has_help(command: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ([command] if command else []) + ["--help"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: gladia-async")


def test_global_options_before_or_after_the_command() -> None:
    parser = build_parser()
    before = parser.parse_args(["--api-key", "k1", "--base-url", "http://127.0.0.1:1", "list"])
    after = parser.parse_args(["list", "--api-key", "k1", "--base-url", "http://127.0.0.1:1"])
    for args in (before, after):
        assert args.api_key == "k1"
        assert args.base_url == "http://127.0.0.1:1"
    assert parser.parse_args(["list"]).api_key is None


def test_usage_error_after_parsing(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--api-key", "k-secret-1234", "list", "--custom-metadata", "[1]"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == ["gladia-async: --custom-metadata: must be a JSON object"]


def test_missing_file_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--api-key", "k", "upload", "/nonexistent/file.wav"]) == 2
    assert capsys.readouterr().err.strip() == "gladia-async: no such file: /nonexistent/file.wav"


def test_progress_without_tqdm_is_silent(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from gladia_async.cli._progress import NullProgress, make_progress

    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm -> ImportError
    bar = make_progress(True, total=3)
    assert isinstance(bar, NullProgress)
    bar.update(2)
    bar.close()
    assert capsys.readouterr() == ("", "")


def test_progress_with_tqdm_writes_to_stderr_only(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tqdm")
    from gladia_async.cli._progress import make_progress, want_progress

    bar = make_progress(True, total=3, desc="jobs")
    bar.update(3)
    bar.set_postfix_str("ok")
    bar.close()
    out, err = capsys.readouterr()
    assert out == ""
    assert "jobs" in err and "3/3" in err
    assert want_progress(None, io.StringIO()) is False  # not a terminal
    assert want_progress(True, io.StringIO()) is True
    assert make_progress(False).__class__.__name__ == "NullProgress"
