"""The defects a new user hit on a fresh machine (issue 11, section 4), each pinned end to end
against the fake API: error text, resume hints, --status, --fields, csv --resume, --max-items,
get with several ids, the lean listing, and a base_url ending in /v2."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from gladia_async import GladiaClient
from gladia_async._cli import main
from gladia_async._errors import (
    AuthenticationError,
    BadRequestError,
    GladiaConfigError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
)
from gladia_async.cli._context import Context, resumable
from gladia_async.cli._parser import build_parser
from gladia_async.testing import FakeGladia
from gladia_async.types import UnknownStatus

from ._cli_helpers import KEY, FakeThread

pytestmark = pytest.mark.filterwarnings("error")

MISSING_ID = "00000000-0000-0000-0000-000000000000"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeThread]:
    with FakeThread(jobs=30, seed=5) as ft:
        yield ft


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GLADIA_API_KEY", raising=False)
    monkeypatch.delenv("GLADIA_API_URL", raising=False)


def run(ft: FakeThread, *argv: str, base_url: str | None = None) -> int:
    return main(["--api-key", KEY, "--base-url", base_url or ft.url, *argv])


def resume_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("resume with:")]


# -- error text -----------------------------------------------------------------------------


async def test_status_error_text_names_method_path_and_request_id() -> None:
    async with (
        FakeGladia(api_key=KEY, jobs=0) as fake,
        GladiaClient(KEY, base_url=fake.url) as gladia,
    ):
        with pytest.raises(NotFoundError) as caught:
            await gladia.pre_recorded.get(MISSING_ID)
    text = str(caught.value)
    assert text.startswith(f"404 Not found (GET /v2/pre-recorded/{MISSING_ID}, request_id=G-")
    assert text.endswith(")") and caught.value.request_id in text
    assert KEY not in text and "127.0.0.1" not in text  # the path only: no origin, no key


# -- resume hints ---------------------------------------------------------------------------


def _ctx(*argv: str) -> Context:
    ctx = Context(build_parser().parse_args(list(argv)))
    ctx.stream = SimpleNamespace(checkpoint=SimpleNamespace(token="v1.TOKEN"))
    return ctx


def test_demo_prints_no_resume_hint_it_cannot_take(capsys: pytest.CaptureFixture[str]) -> None:
    _ctx("demo").print_resume_hint(None)  # what Ctrl-C during the demo prints
    assert capsys.readouterr().err == ""
    _ctx("list").print_resume_hint(None)
    assert capsys.readouterr().err == "resume with: --resume v1.TOKEN\n"


def _status(cls: type[Exception], status: int) -> Exception:
    return cls("x", status=status)


def test_resume_hint_only_when_resuming_can_help() -> None:
    assert resumable(None)
    assert resumable(_status(InternalServerError, 503))
    assert resumable(_status(RateLimitError, 429))
    assert not resumable(_status(BadRequestError, 400))
    assert not resumable(_status(AuthenticationError, 401))
    assert not resumable(_status(NotFoundError, 404))
    assert not resumable(GladiaConfigError("bad"))


def test_no_resume_hint_after_a_404_from_a_wrong_base_url(
    fake: FakeThread, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(fake, "list", base_url=fake.url + "/wrong") == 1
    err = capsys.readouterr().err
    assert "NotFoundError: 404" in err and "GET /wrong/v2/pre-recorded" in err
    assert resume_lines(err) == []


def test_resume_hint_after_a_server_error(
    fake: FakeThread, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.call(lambda f: f.inject("pre_recorded.list", "status", status=503, times=10))
    try:
        code = main(["--api-key", KEY, "--base-url", fake.url, "--max-retries", "0", "list"])
    finally:
        fake.call(lambda f: f.faults.clear())
    assert code == 1
    assert len(resume_lines(capsys.readouterr().err)) == 1


# -- --status -------------------------------------------------------------------------------


def test_cli_status_checked_locally_with_a_hint(
    fake: FakeThread, capsys: pytest.CaptureFixture[str]
) -> None:
    before = fake.call(lambda f: f.requests.count("*"))
    assert run(fake, "list", "--status", "done,finished") == 2
    err = capsys.readouterr().err
    assert "unknown job status 'finished' (did you mean 'done'?)" in err
    assert fake.call(lambda f: f.requests.count("*")) == before  # refused before any I/O


async def test_python_status_refused_before_io_unless_wrapped() -> None:
    async with (
        FakeGladia(api_key=KEY, jobs=5) as fake,
        GladiaClient(KEY, base_url=fake.url) as gladia,
    ):
        with pytest.raises(GladiaConfigError, match=r"did you mean 'error'\?"):
            gladia.pre_recorded.list(status=["done", "failed"])
        with pytest.raises(GladiaConfigError, match="UnknownStatus"):
            gladia.pre_recorded.list(status="archived")
        assert fake.requests.count("*") == 0
        with pytest.raises(BadRequestError):  # sent as is: this (fake) API does not know it
            await gladia.pre_recorded.list_page(status=UnknownStatus("archived"))
        last = fake.requests.last
        assert last is not None and last.param("status") == "archived"


# -- output ---------------------------------------------------------------------------------


def test_fields_matching_nothing_is_a_usage_error(
    fake: FakeThread, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(fake, "list", "--max-items", "5", "--fields", "id,file.duration") == 2
    err = capsys.readouterr().err
    assert "'file.duration' matched nothing" in err
    assert resume_lines(err) == []  # a wrong path is not worth resuming
    # A path that exists but is null on some jobs, or only in some, is fine.
    assert run(fake, "list", "--fields", "id,result.metadata.billing_time") == 0


def test_csv_resume_prints_no_second_header(
    fake: FakeThread, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(fake, "list", "--format", "csv", "--fields", "id", "--max-items", "4") == 0
    out, err = capsys.readouterr()
    (line,) = resume_lines(err)
    assert run(fake, "list", "--format", "csv", "--fields", "id", "--resume", line.split()[-1]) == 0
    more = capsys.readouterr().out
    rows = list(csv.reader(io.StringIO(out + more)))
    assert rows[0] == ["id"] and ["id"] not in rows[1:]
    assert [r[0] for r in rows[1:]] == fake.call(lambda f: f.store.ids())


def test_max_items_at_the_very_end_prints_no_token(
    fake: FakeThread, capsys: pytest.CaptureFixture[str]
) -> None:
    total = len(fake.call(lambda f: f.store.ids()))
    assert run(fake, "list", "--max-items", str(total), "--page-size", "7") == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == total and resume_lines(err) == []
    assert run(fake, "list", "--max-items", str(total - 1), "--page-size", "7") == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == total - 1 and len(resume_lines(err)) == 1


def test_get_goes_on_after_a_failure_and_exits_1(
    fake: FakeThread, capsys: pytest.CaptureFixture[str]
) -> None:
    first, last = fake.call(lambda f: f.store.ids()[:2])
    assert run(fake, "get", first, MISSING_ID, last, "--fields", "id") == 1
    out, err = capsys.readouterr()
    assert [json.loads(line)["id"] for line in out.splitlines()] == [first, last]
    assert err.startswith(f"gladia-async: {MISSING_ID}: NotFoundError: 404")


def test_lean_listing_prints_no_undecoded_fields(
    fake: FakeThread, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(fake, "list", "--lean") == 0
    lean = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert run(fake, "list") == 0
    full = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [j["id"] for j in lean] == [j["id"] for j in full]
    for summary, job in zip(lean, full, strict=True):
        assert "result" not in summary and "request_params" not in summary
        assert summary == {k: v for k, v in job.items() if k not in ("result", "request_params")}
    # Asked for by path, a field inside the undecoded result is still decoded.
    assert run(fake, "list", "--lean", "--fields", "id,result.metadata.billing_time") == 0


# -- configuration --------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["https://api.gladia.io/v2", "https://x.test/proxy/v2/"])
def test_base_url_ending_in_v2_is_refused_with_a_hint(url: str) -> None:
    with pytest.raises(GladiaConfigError, match="must not end in /v2") as caught:
        GladiaClient(KEY, base_url=url)
    assert repr(url.rstrip("/")[: -len("/v2")]) in str(caught.value)
