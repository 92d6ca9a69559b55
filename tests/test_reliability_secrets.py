"""The API key never shows: not in logs at DEBUG, exception text, reprs, checkpoint tokens or
CLI output, whatever happens on the way (retries, resets, bad bodies, wrong key, redirects).

The key is recognisable ("sk-SECRET-" + a uuid) and every check also looks for identifying
pieces of it (without its last four characters, its base64) - see _reliability_helpers.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import uuid
from typing import Any

import pytest
from aiohttp import web

from gladia_async import GladiaClient, GladiaError
from gladia_async.testing import FakeGladia

from ._cli_helpers import cli_env, run_cli
from ._reliability_helpers import (
    LoopbackServer,
    assert_no_secret,
    exception_text,
    fast_retry_kwargs,
    log_text,
    secret_key,
)
from ._servers import free_port

JOB_ID = str(uuid.UUID(int=1))


@pytest.fixture
def key() -> str:
    return secret_key()


def _token_text(token: str) -> str:
    """The token and its decoded payload (base64url after the version prefix)."""
    body = token.split(".", 1)[-1]
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    return token + "\n" + raw.decode("utf-8", errors="replace")


async def test_repr_of_client_and_its_parts_hides_key(key: str) -> None:
    async with GladiaClient(api_key=key, base_url="http://127.0.0.1:9") as gladia:
        stream = gladia.pre_recorded.list(status="done", page_size=7)
        texts = [
            repr(gladia),
            str(gladia),
            repr(gladia.pre_recorded),
            repr(gladia.upload),
            repr(gladia.live),
            repr(stream),
            repr(stream.checkpoint),
            _token_text(stream.checkpoint.token),
            repr(vars(gladia)),
        ]
        await stream.aclose()
    texts.append(repr(gladia))  # closed
    for text in texts:
        assert_no_secret(text, key, "a repr")
    assert key[-4:] in repr(gladia) or "..." in repr(gladia)


@pytest.mark.parametrize("where", ["arg", "env"])
def test_config_errors_do_not_echo_the_key(key: str, where: str, monkeypatch: Any) -> None:
    if where == "env":
        monkeypatch.setenv("GLADIA_API_KEY", key)
    for bad_url in ("http://example.com", "ftp://127.0.0.1", "http://user:pw@127.0.0.1", "::"):
        with pytest.raises(GladiaError) as info:
            GladiaClient(api_key=key if where == "arg" else None, base_url=bad_url)
        assert_no_secret(exception_text(info.value), key, "a configuration error")
    with pytest.raises(GladiaError) as info:
        GladiaClient(api_key=key + "\n", base_url="http://127.0.0.1:9")
    assert_no_secret(exception_text(info.value), key, "a configuration error")


# -- a full run at DEBUG through retries and errors -------------------------------------------


async def _collect(coro: Any, errors: list[BaseException]) -> Any:
    try:
        return await coro
    except GladiaError as exc:
        errors.append(exc)
        return None


async def test_key_never_in_debug_logs_or_errors_across_a_faulted_run(
    key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # root: the client's logger, aiohttp's, asyncio's
    errors: list[BaseException] = []
    async with FakeGladia(api_key=key, jobs=300, seed=3) as fake:
        fake.inject("pre_recorded.list", "status", status=429, retry_after=0, on={1})
        fake.inject("pre_recorded.list", "status", status=500, on={2})
        fake.inject("pre_recorded.list", "reset", on={3})
        fake.inject("pre_recorded.list", "truncate", on={4})
        fake.inject("pre_recorded.list", "status", status=503, probability=0.1, times=None)
        fake.inject("pre_recorded.get", "malformed_json", on={1})
        fake.inject("pre_recorded.get", "html", on={2})
        fake.inject("pre_recorded.get", "redirect", on={3}, foreign_origin="http://127.0.0.1:9")
        fake.inject("pre_recorded.get", "reset", times=None, on={4, 5, 6, 7, 8, 9, 10})
        async with GladiaClient(api_key=key, base_url=fake.url, **fast_retry_kwargs(4)) as gladia:
            stream = gladia.pre_recorded.list(page_size=25, concurrency=2)
            ids = [job.id async for job in stream]
            assert len(ids) == 300
            assert_no_secret(_token_text(stream.checkpoint.token), key, "a checkpoint token")
            for _ in range(4):
                await _collect(gladia.pre_recorded.get(ids[0]), errors)
            await _collect(gladia.pre_recorded.get("no-such-job"), errors)
            await _collect(gladia.pre_recorded.delete("no-such-job"), errors)
            failing = gladia.pre_recorded.list(page_size=10, max_items=30)
            fake.inject("pre_recorded.list", "status", status=502, times=None)
            try:
                async for _ in failing:
                    pass
            except GladiaError as exc:
                errors.append(exc)
                assert exc.checkpoint is not None
                assert_no_secret(_token_text(exc.checkpoint.token), key, "an error's checkpoint")
            finally:
                await failing.aclose()
        async with GladiaClient(api_key="wrong-" + key[::-1], base_url=fake.url) as other:
            await _collect(other.pre_recorded.get(ids[0]), errors)
    refused = f"http://127.0.0.1:{free_port()}"
    async with GladiaClient(api_key=key, base_url=refused, **fast_retry_kwargs(2)) as gone:
        await _collect(gone.pre_recorded.get(JOB_ID), errors)
    kinds = {type(e).__name__ for e in errors}
    assert {"DecodeError", "NotFoundError", "AuthenticationError"} <= kinds, kinds
    assert "APIConnectionError" in kinds or "APITimeoutError" in kinds, kinds
    for error in errors:
        assert_no_secret(exception_text(error), key, f"{type(error).__name__}")
    assert any("retry" in r.getMessage().lower() for r in caplog.records), "no retry was logged"
    assert_no_secret(log_text(caplog.records), key, "the DEBUG log")


@pytest.mark.parametrize("status", [400, 401, 403, 422, 500])
async def test_key_echoed_by_the_server_is_not_repeated_in_errors(
    key: str, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    """A server (or proxy) that echoes the key back must not make the client print it."""
    caplog.set_level(logging.DEBUG)

    async def echo(request: web.Request) -> web.StreamResponse:
        sent = request.headers.get("x-gladia-key", "")
        body = {
            "statusCode": status,
            "message": f"key {sent} is not valid here",
            "request_id": "G-0000beef",
            "validation_errors": [f"x-gladia-key={sent}"],
        }
        return web.json_response(body, status=status)

    async with LoopbackServer(echo) as api:
        async with GladiaClient(api_key=key, base_url=api.url, **fast_retry_kwargs(1)) as gladia:
            with pytest.raises(GladiaError) as info:
                await gladia.pre_recorded.get(JOB_ID)
    exc = info.value
    for text in (str(exc), repr(exc), "".join(__import__("traceback").format_exception(exc))):
        assert_no_secret(text, key, "an error built from an echoing server's body")
    assert_no_secret(log_text(caplog.records), key, "the DEBUG log")


# -- the command line -------------------------------------------------------------------------


def _assert_cli_clean(key: str, code: int, out: str, err: str, what: str) -> None:
    assert_no_secret(out, key, f"stdout of {what} (exit {code})")
    assert_no_secret(err, key, f"stderr of {what} (exit {code})")


async def test_cli_output_never_shows_the_key(key: str) -> None:
    async def html(request: web.Request) -> web.StreamResponse:
        return web.Response(body=b"<html>proxy error</html>", content_type="text/html")

    async with FakeGladia(api_key=key, jobs=40, seed=5) as fake, LoopbackServer(html) as proxy:
        fake.inject("pre_recorded.list", "status", status=503, on={1})
        url = fake.url
        runs: list[tuple[str, tuple[str, ...], dict[str, str]]] = [
            ("list ok", ("list", "--format", "jsonl", "--api-key", key, "--base-url", url), {}),
            (
                "list -v",
                ("-v", "list", "--format", "table", "--max-items", "5", "--base-url", url),
                {"GLADIA_API_KEY": key},
            ),
            ("get ok", ("get", fake.store.ids()[0], "--api-key", key, "--base-url", url), {}),
            ("get 404", ("-v", "get", "nope", "--api-key", key, "--base-url", url), {}),
            (
                "wrong key",
                ("-v", "list", "--max-items", "1", "--base-url", url),
                {"GLADIA_API_KEY": key + "x"},
            ),
            ("html body", ("-v", "list", "--api-key", key, "--base-url", proxy.url), {}),
            (
                "refused",
                (
                    "-v",
                    "get",
                    "x",
                    "--max-retries",
                    "0",
                    "--api-key",
                    key,
                    "--base-url",
                    f"http://127.0.0.1:{free_port()}",
                ),
                {},
            ),
            (
                "http off loopback",
                ("get", "x", "--api-key", key, "--base-url", "http://example.com"),
                {},
            ),
            ("bad resume", ("list", "--api-key", key, "--base-url", url, "--resume", key), {}),
            ("usage error", ("list", "--api-key", key, "--bogus"), {}),
        ]
        results = await asyncio.gather(
            *(run_cli(*args, env=cli_env(**env)) for _, args, env in runs)
        )
    codes = {}
    for (what, _, _), (code, out, err) in zip(runs, results, strict=True):
        _assert_cli_clean(key, code, out, err, what)
        codes[what] = code
    assert codes["list ok"] == 0 and codes["get ok"] == 0, codes
    assert all(codes[w] != 0 for w in ("get 404", "wrong key", "html body", "refused")), codes
    # the run worked: 40 jobs, one JSON object a line
    list_out = results[0][1]
    lines = [json.loads(line) for line in list_out.splitlines() if line.strip()]
    assert len(lines) == 40


async def test_key_only_sent_to_base_url_origin(key: str) -> None:
    """The fake's request log: every request to base_url carried the key; the foreign origin
    targeted by a redirect and a next link got nothing."""
    async with LoopbackServer() as foreign, FakeGladia(api_key=key, jobs=60, seed=9) as fake:
        fake.inject("pre_recorded.list", "foreign_next", times=None, foreign_origin=foreign.url)
        fake.inject("pre_recorded.get", "redirect", times=None, foreign_origin=foreign.url)
        async with GladiaClient(api_key=key, base_url=fake.url, **fast_retry_kwargs(1)) as gladia:
            for concurrency in (1, 3):
                async with gladia.pre_recorded.list(page_size=10, concurrency=concurrency) as s:
                    got = [job.id async for job in s]
                assert got == fake.store.ids()
            with pytest.raises(GladiaError) as info:
                await gladia.pre_recorded.get(got[0])
        assert_no_secret(exception_text(info.value), key, "a redirect error")
        assert foreign.requests == [], "a request reached the foreign origin"
        assert len(fake.requests) > 0
        for request in fake.requests:
            assert request.headers.get("x-gladia-key") == key
