"""Event hooks, aiohttp trace_configs (OpenTelemetry) and GLADIA_LOG logging."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
from opentelemetry.instrumentation.aiohttp_client import (
    AioHttpClientInstrumentor,
    create_trace_config,
)
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gladia_async import (
    EventHooks,
    GladiaClient,
    GladiaConfigError,
    NotFoundError,
    PageEvent,
    RequestEvent,
    ResponseEvent,
    RetryEvent,
    current_attempt,
    otel_request_hook,
)
from gladia_async._logging import setup_logging
from gladia_async.testing import FakeGladia

from ._servers import KEY


@pytest.fixture
async def fake() -> AsyncIterator[FakeGladia]:
    async with FakeGladia(api_key=KEY, jobs=5, seed=2) as f:
        yield f


async def instant(_delay: float) -> None:
    return None


class Recorder(EventHooks):
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def on_request(self, event: RequestEvent) -> None:
        self.events.append(("request", event))

    def on_response(self, event: ResponseEvent) -> None:
        self.events.append(("response", event))

    def on_retry(self, event: RetryEvent) -> None:
        self.events.append(("retry", event))

    def on_page(self, event: PageEvent) -> None:
        self.events.append(("page", event))


# -- event hooks ----------------------------------------------------------------------------------


async def test_hooks_see_every_attempt_retry_and_page(fake: FakeGladia) -> None:
    hooks = Recorder()
    job_id = fake.store.add_job(status="done").id
    fake.inject("pre_recorded.get", "status", status=503, times=1)
    async with GladiaClient(api_key=KEY, base_url=fake.url, hooks=[hooks]) as gladia:
        gladia._transport.sleep = instant
        await gladia.pre_recorded.get(job_id)
        kinds = [kind for kind, _ in hooks.events]
        assert kinds == ["request", "response", "retry", "request", "response"]
        first, failed, retry, second, ok = (event for _, event in hooks.events)
        assert first == RequestEvent("GET", f"{fake.url}/v2/pre-recorded/{job_id}", 1)
        assert failed.status == 503 and failed.attempt == 1 and failed.request_id
        assert retry.status == 503 and retry.attempt == 1 and retry.delay >= 0
        assert second.attempt == 2 and ok.status == 200 and ok.attempt == 2
        assert ok.bytes is not None and ok.bytes > 0 and ok.duration > 0
        assert ok.request_id is not None and ok.request_id.startswith("G-")

        hooks.events.clear()
        async with gladia.pre_recorded.list(page_size=2, concurrency=2) as stream:
            assert len([job async for job in stream]) == 6
        pages = [event for kind, event in hooks.events if kind == "page"]
        assert [p.offset for p in pages] == [0, 2, 4]
        assert [p.items for p in pages] == [2, 2, 2]
        assert all(p.path == "/v2/pre-recorded" and p.bytes > 0 for p in pages)
        hooks.events.clear()
        await gladia.pre_recorded.list_page(limit=4)
        assert [kind for kind, _ in hooks.events] == ["request", "response", "page"]
        for _, event in hooks.events:
            assert KEY not in repr(event)


async def test_connection_failures_reach_the_hooks(fake: FakeGladia) -> None:
    hooks = Recorder()
    job_id = fake.store.add_job(status="done").id
    fake.inject("pre_recorded.get", "reset", times=2)  # aiohttp itself retries a reset once
    async with GladiaClient(api_key=KEY, base_url=fake.url, hooks=[hooks]) as gladia:
        gladia._transport.sleep = instant
        await gladia.pre_recorded.get(job_id)
    failed = hooks.events[1][1]
    assert failed.status is None and failed.error is not None and failed.bytes is None
    retry = hooks.events[2][1]
    assert isinstance(retry, RetryEvent) and retry.status is None and retry.error is not None


async def test_a_failing_hook_is_logged_and_ignored(
    fake: FakeGladia, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(EventHooks):
        def on_response(self, event: ResponseEvent) -> None:
            raise ValueError("boom")

    after = Recorder()
    job_id = fake.store.add_job(status="done").id
    with caplog.at_level(logging.WARNING, "gladia_async"):
        async with GladiaClient(api_key=KEY, base_url=fake.url, hooks=[Broken(), after]) as g:
            assert (await g.pre_recorded.get(job_id)).id == job_id
    assert "Broken.on_response failed" in caplog.text and "boom" in caplog.text
    assert [kind for kind, _ in after.events] == ["request", "response"]  # later hooks still run


async def test_hooks_and_trace_configs_are_checked(fake: FakeGladia) -> None:
    with pytest.raises(GladiaConfigError, match="hooks"):
        GladiaClient(api_key=KEY, base_url=fake.url, hooks=Recorder())  # type: ignore[arg-type]
    async with aiohttp.ClientSession() as session:
        with pytest.raises(GladiaConfigError, match="trace_configs"):
            trace = aiohttp.TraceConfig()
            GladiaClient(api_key=KEY, base_url=fake.url, session=session, trace_configs=[trace])


async def test_trace_configs_see_the_attempt_number(fake: FakeGladia) -> None:
    seen: list[int | None] = []

    async def on_start(*_: object) -> None:
        seen.append(current_attempt())

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    job_id = fake.store.add_job(status="done").id
    fake.inject("pre_recorded.get", "status", status=502, times=2)
    async with GladiaClient(api_key=KEY, base_url=fake.url, trace_configs=[trace]) as gladia:
        gladia._transport.sleep = instant
        await gladia.pre_recorded.get(job_id)
        chunks = [c async for c in gladia.pre_recorded.stream_file(job_id)]
    assert chunks
    assert seen == [1, 2, 3, 1]
    assert current_attempt() is None  # reset once the request is sent


# -- OpenTelemetry ---------------------------------------------------------------------------------


async def test_opentelemetry_one_span_per_request_without_the_key(fake: FakeGladia) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace = create_trace_config(tracer_provider=provider, request_hook=otel_request_hook)
    job_id = fake.store.add_job(status="done").id
    fake.inject("pre_recorded.get", "status", status=503, times=1)
    async with GladiaClient(api_key=KEY, base_url=fake.url, trace_configs=[trace]) as gladia:
        gladia._transport.sleep = instant
        await gladia.pre_recorded.get(job_id)
        await gladia.pre_recorded.list_page(limit=2)
    spans = exporter.get_finished_spans()
    assert len(spans) == len(fake.requests) == 3  # one span per HTTP request, retries included
    attrs = [dict(span.attributes or {}) for span in spans]
    assert [a["http.status_code"] for a in attrs] == [503, 200, 200]
    assert [a.get("http.request.resend_count") for a in attrs] == [None, 1, None]
    assert [a["gladia.attempt"] for a in attrs] == [1, 2, 1]
    assert all(span.name == "GET" for span in spans)
    for span in spans:
        for value in (span.attributes or {}).values():
            assert KEY not in str(value)
        for event in span.events:
            assert KEY not in str(event.attributes)
    # the trace context went to the server, the key only in its own header
    assert all("traceparent" in r.headers for r in fake.requests)
    provider.shutdown()


async def test_opentelemetry_global_instrumentor_covers_the_client_session(
    fake: FakeGladia,
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = AioHttpClientInstrumentor()
    instrumentor.instrument(tracer_provider=provider, request_hook=otel_request_hook)
    try:
        async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
            await gladia.pre_recorded.list_page(limit=2)
    finally:
        instrumentor.uninstrument()
    (span,) = exporter.get_finished_spans()
    attrs = dict(span.attributes or {})
    assert attrs["http.status_code"] == 200 and attrs["gladia.attempt"] == 1
    assert all(KEY not in str(value) for value in attrs.values())
    provider.shutdown()


# -- logging ---------------------------------------------------------------------------------------


@pytest.fixture
def restore_logger() -> Iterator[logging.Logger]:
    logger = logging.getLogger("gladia_async")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield logger
    logger.handlers[:] = saved[0]
    logger.setLevel(saved[1])
    logger.propagate = saved[2]


async def _retried_get(fake: FakeGladia) -> str:
    job_id = fake.store.add_job(status="done").id
    fake.inject("pre_recorded.get", "status", status=503, times=1)
    async with GladiaClient(api_key=KEY, base_url=fake.url) as gladia:
        gladia._transport.sleep = instant
        await gladia.pre_recorded.get(job_id)
    return job_id


async def test_gladia_log_debug_one_line_per_request(
    fake: FakeGladia, restore_logger: logging.Logger
) -> None:
    out = io.StringIO()
    assert setup_logging({"GLADIA_LOG": "debug"}, out) is not None
    setup_logging({"GLADIA_LOG": "debug"}, out)  # twice: still one handler
    job_id = await _retried_get(fake)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3, lines
    failed, retry, ok = lines
    assert f"GET /v2/pre-recorded/{job_id} -> 503" in failed and "attempt 1" in failed
    assert "INFO" in retry and "retrying GET" in retry and "after 503" in retry
    assert "DEBUG" in ok and "-> 200 in" in ok and " ms " in ok and "attempt 2" in ok
    assert "request id G-" in ok
    assert KEY not in out.getvalue() and KEY[-4:] not in out.getvalue()


async def test_gladia_log_info_json(fake: FakeGladia, restore_logger: logging.Logger) -> None:
    out = io.StringIO()
    setup_logging({"GLADIA_LOG": "info", "GLADIA_LOG_FORMAT": "json"}, out)
    job_id = await _retried_get(fake)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(records) == 1  # info: the retry only
    (retry,) = records
    assert retry["level"] == "info" and retry["logger"] == "gladia_async"
    assert retry["event"] == "retry" and retry["status"] == 503 and retry["attempt"] == 1
    assert retry["method"] == "GET" and retry["path"] == f"/v2/pre-recorded/{job_id}"
    assert retry["request_id"].startswith("G-") and retry["delay_ms"] >= 0
    out.truncate(0)
    out.seek(0)
    setup_logging({"GLADIA_LOG": "debug", "GLADIA_LOG_FORMAT": "json"}, out)
    await _retried_get(fake)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    ok = records[-1]
    assert ok["event"] == "response" and ok["status"] == 200 and ok["attempt"] == 2
    assert isinstance(ok["ms"], float) and ok["request_id"].startswith("G-") and ok["bytes"] > 0
    assert KEY not in out.getvalue()


async def test_the_key_is_redacted_even_in_a_path(
    fake: FakeGladia, restore_logger: logging.Logger
) -> None:
    out = io.StringIO()
    setup_logging({"GLADIA_LOG": "debug"}, out)
    hooks = Recorder()
    async with GladiaClient(api_key=KEY, base_url=fake.url, hooks=[hooks]) as gladia:
        with pytest.raises(NotFoundError):
            await gladia.pre_recorded.get(KEY)  # a caller mixing up the key and a job id
    text = out.getvalue()
    assert "-> 404" in text and "/v2/pre-recorded/..." + KEY[-4:] in text
    assert KEY not in text and KEY not in repr(hooks.events)
    assert hooks.events and all(KEY not in event.url for _, event in hooks.events)


def test_gladia_log_unset_or_unknown_changes_nothing(restore_logger: logging.Logger) -> None:
    before = list(restore_logger.handlers)
    assert setup_logging({}) is None
    assert setup_logging({"GLADIA_LOG": "verbose"}) is None
    assert restore_logger.handlers == before


def test_gladia_log_is_read_at_import() -> None:
    code = (
        "import logging, gladia_async; lg = logging.getLogger('gladia_async'); "
        "print(lg.level, type(lg.handlers[0].formatter).__name__)"
    )
    env = {"GLADIA_LOG": "info", "GLADIA_LOG_FORMAT": "json", "PATH": ""}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == [str(logging.INFO), "JSONFormatter"]
