"""Every README example runs: each ```python block of README.md (and benchmarks/README.md)
against the fake API, and each `gladia-async` line of README's "Command line" section against
`gladia-async fake-server`. A README edit that breaks an example fails here.

The convention (README, Development section):
- A block runs as written in a temporary directory holding the files examples name
  (`meeting.mp3`, `meeting.wav`, `call.wav`), with GLADIA_API_URL / GLADIA_API_KEY pointing at
  a running FakeGladia. Blocks with top-level `await` run inside an event loop and may use
  `gladia` (a GladiaClient), `stream` (a fresh `gladia.pre_recorded.list()`), `url` (an audio
  URL), `save(token)` and `fake` (the FakeGladia) without defining them; other blocks get `fake`.
- A block that defines `test_*` functions runs as a pytest file in a fresh project.
- A block that defines an aiohttp `app` is served, and sent a signed webhook and a callback.
- `<!-- readme: skip -- reason -->` on the line before a fence skips that block (sparingly).
"""

from __future__ import annotations

import ast
import asyncio
import base64
import hashlib
import hmac
import inspect
import json
import os
import re
import signal
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, web

from gladia_async import GladiaClient
from gladia_async.testing import Lifecycle

from ._cli_helpers import FakeThread, cli_env
from ._servers import FIXTURES

pytestmark = pytest.mark.filterwarnings("error")

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "benchmarks" / "README.md"]
KEY = "readme-key-0123456789"
SKIP = re.compile(r"<!--\s*readme:\s*skip\s*--\s*(?P<reason>.+?)\s*-->")
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w-]*)\s*$")
WEBHOOK_KEY = b"readme-webhook-signing-key-bytes"
CALLBACK_TOKEN = "readme-callback-token"


@dataclass
class Block:
    """One fenced code block of a Markdown file."""

    doc: Path
    line: int
    lang: str
    section: str
    code: str
    skip: str | None

    @property
    def id(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}"


def blocks(doc: Path) -> list[Block]:
    """The fenced blocks of `doc`, dedented to their fence, with their `##` section."""
    out: list[Block] = []
    lines = doc.read_text(encoding="utf-8").splitlines()
    section = ""
    i = 0
    while i < len(lines):
        if lines[i].startswith("## "):
            section = lines[i][3:].strip()
        fence = FENCE.match(lines[i])
        if fence is None:
            i += 1
            continue
        start, indent = i, len(fence["indent"])
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][indent:])
            i += 1
        prev = next((ln for ln in reversed(lines[:start]) if ln.strip()), "")
        skip = SKIP.search(prev)
        out.append(
            Block(doc, start + 1, fence["lang"], section, "\n".join(body) + "\n",
                  skip["reason"] if skip else None)
        )  # fmt: skip
        i += 1
    return out


PYTHON = [b for doc in DOCS if doc.exists() for b in blocks(doc) if b.lang == "python"]
PYTEST_BLOCKS = [b for b in PYTHON if re.search(r"^(async )?def test_", b.code, re.M)]
EXEC_BLOCKS = [b for b in PYTHON if b not in PYTEST_BLOCKS]


def _skip(block: Block) -> None:
    if block.skip:
        pytest.skip(f"{block.id}: {block.skip}")


# -- files and the fake ---------------------------------------------------------------------


def _wav(path: Path, seconds: float = 0.3) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes(b"\x00\x00" * int(16_000 * seconds))


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A current directory with the files README examples name."""
    _wav(tmp_path / "meeting.wav", 5.0)
    _wav(tmp_path / "call.wav")
    (tmp_path / "meeting.mp3").write_bytes(b"ID3\x03\x00\x00\x00" + bytes(2048))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeThread]:
    """The fake API on its own thread, so blocks can call asyncio.run themselves."""
    with FakeThread(api_key=KEY, jobs=30, seed=11, lifecycle=Lifecycle(0, 0)) as ft:
        yield ft


@pytest.fixture
def env(fake: FakeThread, monkeypatch: pytest.MonkeyPatch) -> FakeThread:
    monkeypatch.setenv("GLADIA_API_URL", fake.url)
    monkeypatch.setenv("GLADIA_API_KEY", KEY)
    monkeypatch.setenv("GLADIA_WEBHOOK_SECRET", "whsec_" + base64.b64encode(WEBHOOK_KEY).decode())
    monkeypatch.setenv("CALLBACK_TOKEN", CALLBACK_TOKEN)
    return fake


# -- python blocks --------------------------------------------------------------------------


async def _run_async(code: Any, namespace: dict[str, Any]) -> None:
    """Run a block with top-level await, with `gladia`, `stream`, `url` and `save` defined."""
    async with GladiaClient() as gladia:
        saved: list[str] = []
        namespace.update(
            gladia=gladia,
            stream=gladia.pre_recorded.list(),
            url="https://example.com/audio.mp3",
            save=saved.append,
        )
        async with asyncio.timeout(60):
            result = eval(code, namespace)
            if inspect.iscoroutine(result):
                await result
        await namespace["stream"].aclose()


def _signed(body: bytes) -> dict[str, str]:
    msg_id, ts = "msg_readme", str(int(time.time()))
    digest = hmac.new(WEBHOOK_KEY, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    signature = "v1," + base64.b64encode(digest).decode()
    return {"svix-id": msg_id, "svix-timestamp": ts, "svix-signature": signature}


async def _serve_app(app: web.Application, job_id: str) -> None:
    """Serve an example's aiohttp app and send it a signed webhook and a callback."""
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        webhook = json.loads((FIXTURES / "webhook_prerecorded_success.json").read_bytes())
        webhook["payload"]["id"] = job_id
        body = json.dumps(webhook).encode()
        callback = (FIXTURES / "callback_prerecorded_success.json").read_bytes()
        base = f"http://127.0.0.1:{port}"
        async with ClientSession() as http:
            for path, data, headers in [
                ("/gladia/webhook", body, _signed(body)),
                ("/gladia/webhook", body, {}),  # unsigned: refused
                (f"/gladia/callback/{CALLBACK_TOKEN}", callback, {}),
            ]:
                async with http.post(base + path, data=data, headers=headers) as resp:
                    assert resp.status == (401 if not headers and "webhook" in path else 204), (
                        path, resp.status, await resp.text()
                    )  # fmt: skip
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("block", EXEC_BLOCKS, ids=[b.id for b in EXEC_BLOCKS])
def test_python_block_runs(block: Block, env: FakeThread, workdir: Path) -> None:
    _skip(block)
    code = compile(block.code, block.id, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    namespace: dict[str, Any] = {"__name__": "__readme__", "fake": env.fake}
    if code.co_flags & inspect.CO_COROUTINE:
        asyncio.run(_run_async(code, namespace))
    else:
        exec(code, namespace)
    app = namespace.get("app")
    if isinstance(app, web.Application):
        job_id = env.call(lambda f: f.store.ids()[0])
        asyncio.run(_serve_app(app, job_id))


# -- the pytest example, in a project of its own --------------------------------------------

CONFTEST = 'pytest_plugins = ["gladia_async.testing.pytest_plugin"]\n'


def _pytest_project(root: Path, block: Block, ini: str) -> subprocess.CompletedProcess[str]:
    root.mkdir()
    (root / "conftest.py").write_text(CONFTEST)
    (root / "test_example.py").write_text(block.code)
    (root / "pytest.ini").write_text("[pytest]\n" + ini)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"],
        cwd=root, env=cli_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("block", PYTEST_BLOCKS, ids=[b.id for b in PYTEST_BLOCKS])
def test_pytest_block_passes_in_a_fresh_project(block: Block, tmp_path: Path) -> None:
    """As README says: asyncio_mode = "auto" is enough to run it (pytest-asyncio then warns
    that asyncio_default_fixture_loop_scope is unset); with the setting README gives, it runs
    warning-free under -W error."""
    _skip(block)
    bare = _pytest_project(tmp_path / "bare", block, "asyncio_mode = auto\n")
    assert bare.returncode == 0, bare.stdout + bare.stderr
    assert re.search(r"\b[1-9]\d* passed", bare.stdout), bare.stdout
    ini = "asyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    (tmp_path / "strict").mkdir()
    strict = _pytest_project(tmp_path / "strict" / "p", block, ini + "filterwarnings = error\n")
    assert strict.returncode == 0, strict.stdout + strict.stderr
    assert "warning" not in strict.stdout.lower(), strict.stdout


def test_the_pytest_plugin_works_in_a_fresh_project(tmp_path: Path) -> None:
    """The `fake_gladia` fixture, as README's bullet describes it, in a project with README's
    settings and every warning an error."""
    code = (
        "from gladia_async import GladiaClient\n\n"
        "async def test_with_fixture(fake_gladia):\n"
        "    async with GladiaClient(api_key='test-key', base_url=fake_gladia.url) as gladia:\n"
        "        assert [job async for job in gladia.pre_recorded.list()]\n"
    )
    block = Block(ROOT / "README.md", 0, "python", "", code, None)
    ini = "asyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    done = _pytest_project(tmp_path / "p", block, ini + "filterwarnings = error\n")
    assert done.returncode == 0, done.stdout + done.stderr


# -- the command line -----------------------------------------------------------------------

CLI = [
    (block, n, line.strip())
    for block in blocks(ROOT / "README.md")
    if block.section == "Command line" and block.lang == "sh" and not block.skip
    for n, line in enumerate(block.code.splitlines())
    if line.strip().startswith("gladia-async ")
]


@pytest.fixture(scope="module")
def fake_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    """`gladia-async fake-server` as a user starts it: (its URL, ids of done jobs)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "gladia_async", "fake-server", "--key", KEY, "--jobs", "40",
         "--transcript-seconds", "5"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=cli_env(),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        match = re.search(r"(http://\S+)", first)
        assert match, first
        url = match[1]
        done = subprocess.run(
            [sys.executable, "-m", "gladia_async", "list", "--status", "done", "--fields", "id",
             "--format", "csv"],
            env=cli_env(GLADIA_API_URL=url, GLADIA_API_KEY=KEY), capture_output=True, text=True,
            timeout=60, check=True,
        )  # fmt: skip
        yield url, done.stdout.splitlines()[1:]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


def _command(line: str, ids: Iterator[str]) -> str:
    """A README line made runnable: comment dropped, `[X ...]` left out, JOB_ID a real id,
    a fixed port replaced by a free one (0)."""
    line = re.sub(r"\s+#.*$", "", line)
    line = re.sub(r"\s*\[[A-Z_]+ \.\.\.\]", "", line)
    line = re.sub(r"\bJOB_ID\b", lambda _: next(ids), line)
    return re.sub(r"--port \d+", "--port 0", line)


@pytest.mark.parametrize(
    ("block", "n", "line"), CLI, ids=[f"{b.id}+{n}: {line[:40]}" for b, n, line in CLI]
)
def test_cli_line_runs(
    block: Block, n: int, line: str, fake_server: tuple[str, list[str]], workdir: Path
) -> None:
    url, done_ids = fake_server
    command = _command(line, iter(done_ids[2 * n :]))
    env = cli_env(GLADIA_API_URL=url, GLADIA_API_KEY=KEY)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    bash = ["bash", "-o", "pipefail", "-c", command]
    if "until Ctrl-C" in line:  # a server: it must start, then stop cleanly on Ctrl-C
        proc = subprocess.Popen(
            bash, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip
        assert proc.stdout is not None
        assert "fake Gladia API at" in proc.stdout.readline()
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        return
    done = subprocess.run(
        bash, cwd=workdir, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"{command}\n{done.stderr}"
    assert "Traceback" not in done.stderr
    if ">" not in command:
        assert done.stdout.strip(), f"{command}: no output"


def test_collector_finds_every_example() -> None:
    """The collector sees README's examples (a broken fence would silently drop them)."""
    readme = blocks(ROOT / "README.md")
    assert len(PYTHON) >= 7
    assert len(CLI) >= 10
    assert sum(b.lang == "python" for b in readme) == len(
        re.findall(r"^ *```python$", (ROOT / "README.md").read_text(), re.M)
    )
