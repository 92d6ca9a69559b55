"""End-to-end tests of the command line against the fake API (in-process main() and
subprocesses of `python -m gladia_async`)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from gladia_async._cli import main
from gladia_async.testing import Lifecycle

from ._cli_helpers import KEY, FakeThread, cli_env
from ._servers import free_port

pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeThread]:
    """A read-mostly fake shared by the tests that do not change its jobs."""
    with FakeThread(jobs=120, seed=3) as ft:
        yield ft


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GLADIA_API_KEY", raising=False)
    monkeypatch.delenv("GLADIA_API_URL", raising=False)


def run(ft: FakeThread, *argv: str) -> int:
    return main(["--api-key", KEY, "--base-url", ft.url, *argv])


def lines(text: str) -> list[str]:
    return text.splitlines()


def ids_of(text: str) -> list[str]:
    return [json.loads(line)["id"] for line in lines(text)]


# -- list --------------------------------------------------------------------------------


def test_list_jsonl_streams_every_job_in_order(
    fake: FakeThread, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(fake, "list", "--page-size", "25", "--concurrency", "3") == 0
    out, err = capsys.readouterr()
    assert ids_of(out) == fake.call(lambda f: f.store.ids())
    assert err == ""
    first = json.loads(lines(out)[0])
    assert {"id", "status", "created_at"} <= first.keys()


def test_list_filters_fields_and_max_items(
    fake: FakeThread, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(
        fake,
        "list",
        "--status",
        "done,error",
        "--max-items",
        "7",
        "--fields",
        "id,status,file.audio_duration,result.metadata.billing_time",
    )
    assert code == 0
    rows = [json.loads(line) for line in lines(capsys.readouterr().out)]
    assert len(rows) == 7
    for row in rows:
        assert list(row) == ["id", "status", "file.audio_duration", "result.metadata.billing_time"]
        assert row["status"] in ("done", "error")


def test_list_csv_and_table(fake: FakeThread, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(fake, "list", "--format", "csv", "--max-items", "3") == 0
    out = lines(capsys.readouterr().out)
    assert out[0] == "id,status,created_at,completed_at,file.audio_duration"
    assert len(out) == 4

    assert run(fake, "list", "--format", "table", "--fields", "id,status", "--max-items", "3") == 0
    out = lines(capsys.readouterr().out)
    assert out[0].split() == ["id", "status"]
    assert set(out[1]) <= {"-", " "}
    assert len(out) == 5


def test_list_lean(fake: FakeThread, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(fake, "list", "--lean", "--max-items", "5", "--fields", "id,status") == 0
    out = capsys.readouterr().out
    assert ids_of(out) == fake.call(lambda f: f.store.ids())[:5]


def test_list_bad_resume_token_is_a_usage_error(
    fake: FakeThread, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(fake, "list", "--resume", "not-a-token") == 2
    err = capsys.readouterr().err
    assert len(lines(err)) == 1
    assert err.startswith("gladia-async: ")


def test_resume_after_fatal_fault_yields_every_job_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with FakeThread(jobs=95, seed=5) as ft:
        expected = ft.call(lambda f: f.store.ids())
        ft.call(lambda f: f.inject("pre_recorded.list", "status", status=500, on={4}))
        argv = ["list", "--page-size", "10", "--concurrency", "3", "--fields", "id"]
        assert run(ft, "--max-retries", "0", *argv) == 1
        out, err = capsys.readouterr()
        first = ids_of(out)
        err_lines = lines(err)
        assert len(err_lines) == 2, err
        assert err_lines[0].startswith("gladia-async: InternalServerError: 500")
        assert err_lines[1].startswith("resume with: --resume ")
        assert KEY not in err
        token = err_lines[1].split()[-1]
        # jobs created after the first run started are not part of the resumed listing
        ft.call(lambda f: f.store.add_jobs(3))

        assert run(ft, *argv, "--resume", token) == 0
        out, err = capsys.readouterr()
        second = ids_of(out)
    assert err == ""
    assert 0 < len(first) < len(expected)
    assert first + second == expected


# -- get / delete / upload / transcribe ---------------------------------------------------


def test_get_prints_jobs(fake: FakeThread, capsys: pytest.CaptureFixture[str]) -> None:
    ids = fake.call(lambda f: f.store.ids())[:2]
    assert run(fake, "get", *ids) == 0
    assert ids_of(capsys.readouterr().out) == ids
    assert run(fake, "get", ids[0], "--format", "csv", "--fields", "id,kind") == 0
    assert lines(capsys.readouterr().out) == ["id,kind", f"{ids[0]},pre-recorded"]


def test_api_error_exit_1_one_line_no_key(
    fake: FakeThread, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(fake, "get", "00000000-0000-0000-0000-000000000000") == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert len(lines(err)) == 1
    zero = "00000000-0000-0000-0000-000000000000"
    assert err.startswith(f"gladia-async: {zero}: NotFoundError: 404 Not found (GET /v2/pre")
    assert "Traceback" not in err and KEY not in err


def test_wrong_key_exit_1_without_the_key(
    fake: FakeThread, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "sk-wrong-key-5678-abcdefgh"
    assert main(["--api-key", secret, "--base-url", fake.url, "-v", "list"]) == 1
    out, err = capsys.readouterr()
    assert lines(err)[-1].startswith("gladia-async: AuthenticationError: 401")
    assert "resume with" not in err  # the same key would fail again: no token
    assert "DEBUG" in err  # --verbose logs, with the key redacted
    assert secret not in out + err
    assert "Traceback" not in err


def test_missing_key_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gladia-async: GladiaConfigError: no API key")
    assert len(lines(err)) == 1


def test_connection_error_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--api-key", KEY, "--base-url", f"http://127.0.0.1:{free_port()}", "--max-retries", "0"]
    assert main([*argv, "get", "x"]) == 3
    err = capsys.readouterr().err
    assert len(lines(err)) == 1 and "Traceback" not in err


def test_delete(capsys: pytest.CaptureFixture[str]) -> None:
    with FakeThread(jobs=0, seed=1) as ft:
        done = ft.call(lambda f: f.store.add_job(status="done").id)
        queued = ft.call(lambda f: f.store.add_job(status="queued").id)
        assert run(ft, "delete", done) == 0
        assert capsys.readouterr().out == f"deleted {done}\n"
        assert run(ft, "delete", queued, done) == 1
        out, err = capsys.readouterr()
        assert out == ""
        assert [line.split(":")[1].strip() for line in lines(err)] == [queued, done]
        assert "PermissionDeniedError: 403" in lines(err)[0]
        assert "NotFoundError: 404" in lines(err)[1]


def test_upload_and_transcribe(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    audio = tmp_path / "hello.wav"
    with wave.open(str(audio), "wb") as wav:  # 10 s of 8 kHz silence: the fake "hears" 9.5 s
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(8000)
        wav.writeframes(b"\x80" * 80_000)
    # a short lifecycle: several polls still happen (0.05 s apart) before the job is done
    with FakeThread(jobs=0, seed=2, lifecycle=Lifecycle(queued=0.1, processing=0.15)) as ft:
        assert run(ft, "upload", str(audio)) == 0
        audio_url = capsys.readouterr().out.strip()
        assert audio_url.startswith("http")

        assert run(ft, "upload", str(audio), "--json") == 0
        assert json.loads(capsys.readouterr().out)["audio_metadata"]["filename"] == "hello.wav"

        assert run(ft, "transcribe", str(audio), "--no-wait") == 0
        job_id = capsys.readouterr().out.strip()
        assert ft.call(lambda f: f.store.get(job_id)) is not None

        argv = ["transcribe", audio_url, "--language", "en", "--diarization", "--poll-interval"]
        assert run(ft, *argv, "0.05") == 0
        out, err = capsys.readouterr()
        assert out.strip()
        assert "created; waiting" in err

        assert run(ft, "transcribe", str(audio), "--poll-interval", "0.05", "--json") == 0
        job = json.loads(capsys.readouterr().out)
        assert job["status"] == "done"
        assert job["result"]["transcription"]["full_transcript"]


# -- demo ----------------------------------------------------------------------------------


@pytest.mark.parametrize("lean", [False, True])
def test_demo_small(lean: bool, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["demo", "--jobs", "150", "--page-size", "20", "--concurrency", "4", "--no-progress"]
    assert main(argv + (["--lean"] if lean else [])) == 0
    out, err = capsys.readouterr()
    assert "150 jobs streamed through GladiaClient" in out
    table = {line.split()[0]: line.split()[1:] for line in lines(out)[2:] if line.strip()}
    assert table["total"] == ["150"]
    assert (
        sum(int(table[s][0]) for s in ("done", "error", "processing", "queued") if s in table)
        == 150
    )
    assert table["pages"] == ["8"]
    assert ("audio" if lean else "billed") in table
    for label in ("bytes", "items/s", "MB/s", "wall"):
        assert label in table
    assert "synthesizing 150 jobs" in err
    assert "Traceback" not in err


# -- subprocesses ------------------------------------------------------------------------------


def _child(*argv: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-W", "default", "-m", "gladia_async", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(),
    )


def test_list_pipe_closed_after_first_line_exits_cleanly() -> None:
    with FakeThread(jobs=300, seed=4) as ft:
        proc = _child("--api-key", KEY, "--base-url", ft.url, "list", "--page-size", "50")
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()
        proc.stdout.close()  # what `| head -1` does
        code = proc.wait(60)
        err = proc.stderr.read().decode()
        proc.stderr.close()
    assert json.loads(first)["id"]
    assert code == 0
    assert err == ""


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_list_interrupted_prints_token_and_resumes(
    signum: int, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeThread(jobs=40, seed=6, latency_ms=150) as ft:
        expected = ft.call(lambda f: f.store.ids())
        argv = ["list", "--page-size", "5", "--concurrency", "1", "--fields", "id"]
        proc = _child("--api-key", KEY, "--base-url", ft.url, *argv)
        assert proc.stdout is not None and proc.stderr is not None
        first_line = proc.stdout.readline()
        proc.send_signal(signum)
        rest = proc.stdout.read()  # not communicate(): it would skip what readline buffered
        err = proc.stderr.read().decode()
        proc.stdout.close()
        proc.stderr.close()
        assert proc.wait(60) == code, err
        first = ids_of((first_line + rest).decode())
        token = [line for line in lines(err) if line.startswith("resume with: --resume ")]
        assert len(token) == 1, err
        assert "Traceback" not in err and KEY not in err

        ft.call(lambda f: setattr(f, "latency_ms", 0.0))  # it only kept the child running
        assert run(ft, *argv, "--resume", token[0].split()[-1]) == 0
        second = ids_of(capsys.readouterr().out)
    assert first + second == expected


def test_fake_server_serves_until_ctrl_c(capsys: pytest.CaptureFixture[str]) -> None:
    proc = _child("fake-server", "--port", "0", "--jobs", "6", "--key", "k-1234")
    assert proc.stdout is not None
    try:
        banner = proc.stdout.readline().decode()
        url = banner.split()[4]
        assert url.startswith("http://127.0.0.1:")
        assert proc.stdout.readline().decode().strip() == "API key: k-1234"
        assert main(["--api-key", "k-1234", "--base-url", url, "list", "--fields", "id"]) == 0
        assert len(lines(capsys.readouterr().out)) == 6
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert b"Traceback" not in err


def test_max_items_batches_chain_with_resume(
    fake: FakeThread, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = fake.call(lambda f: f.store.ids())
    seen: list[str] = []
    resume: list[str] = []
    for _ in range(10):
        assert run(fake, "list", "--max-items", "50", "--fields", "id", *resume) == 0
        out, err = capsys.readouterr()
        batch = ids_of(out)
        seen += batch
        if len(batch) < 50:
            assert err == ""
            break
        resume = ["--resume", lines(err)[-1].removeprefix("resume with: --resume ")]
    assert seen == expected


def test_transcribe_failed_job_and_wait_timeout(capsys: pytest.CaptureFixture[str]) -> None:
    url = "https://example.com/a.mp3"
    with FakeThread(jobs=0, lifecycle=Lifecycle(queued=0.0, processing=0.0, error_rate=1.0)) as ft:
        assert run(ft, "transcribe", url, "--poll-interval", "0.05") == 4
        out, err = capsys.readouterr()
        assert out == ""
        assert lines(err)[-1].startswith("gladia-async: JobFailedError: job ")
        assert "error_code=500" in err
        assert "goes on without us" not in err
    with FakeThread(jobs=0, lifecycle=Lifecycle(auto=False)) as ft:
        argv = ["transcribe", url, "--poll-interval", "0.02", "--wait-timeout", "0.1"]
        assert run(ft, *argv) == 4
        out, err = capsys.readouterr()
        job_id = ft.call(lambda f: f.store.ids())[0]
        assert lines(err)[-2].startswith("gladia-async: WaitTimeoutError: ")
        assert lines(err)[-1] == f"job {job_id} goes on without us: gladia-async get {job_id}"
