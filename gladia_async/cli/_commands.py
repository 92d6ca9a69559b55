"""The API commands: list, get, delete, upload, transcribe."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import msgspec

from .. import APIConnectionError, APIStatusError, Checkpoint, GladiaClient, JobFailedError
from ..types import (
    CallbackConfig,
    DiarizationConfig,
    LanguageConfig,
    PreRecordedRequest,
    SubtitlesConfig,
    TranslationConfig,
)
from ..types.common import KNOWN_STATUSES, suggest_status
from ._context import Context, ExitCode, UsageError
from ._format import RowWriter, make_writer, parse_fields
from ._progress import make_progress, want_progress

__all__ = ["cmd_delete", "cmd_get", "cmd_list", "cmd_transcribe", "cmd_upload", "list_kwargs"]


def _json_object(text: str | None, option: str) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{option}: not valid JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise UsageError(f"{option}: must be a JSON object")
    return value


def _statuses(values: list[str] | None) -> list[str] | None:
    """--status values split on commas and checked locally (a typo would list nothing)."""
    if not values:
        return None
    out = [part.strip() for value in values for part in value.split(",") if part.strip()]
    for status in out:
        if status not in KNOWN_STATUSES:
            guess = suggest_status(status)
            hint = f" (did you mean {guess!r}?)" if guess else ""
            raise UsageError(
                f"--status: unknown job status {status!r}{hint}; known: {', '.join(KNOWN_STATUSES)}"
            )
    return out


def _writer(args: argparse.Namespace) -> RowWriter:
    try:
        fields = parse_fields(args.fields)
    except ValueError as exc:
        raise UsageError(f"--fields: {exc}") from None
    # A resumed csv run appends to the first run's output: one header in all.
    header = getattr(args, "resume", None) is None
    return make_writer(args.format, sys.stdout, fields, header=header)


def _check_fields(writer: RowWriter) -> None:
    """--fields: a path that matched nothing in any item written is a usage error (exit 2)."""
    missing = writer.unmatched()
    if missing:
        raise UsageError(
            f"--fields: {', '.join(map(repr, missing))} matched nothing in any job written "
            "(paths use the API's names, e.g. file.audio_duration; see --help)"
        )


def filter_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The listing filters that were given, as keyword arguments."""
    kwargs: dict[str, Any] = {
        "status": _statuses(args.status),
        "date": args.date,
        "before_date": args.before_date,
        "after_date": args.after_date,
        "custom_metadata": _json_object(args.custom_metadata, "--custom-metadata"),
    }
    return {name: value for name, value in kwargs.items() if value is not None}


def list_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of `pre_recorded.list(...)` for the list options that were given."""
    kwargs: dict[str, Any] = {
        **filter_kwargs(args),
        "shards": args.shards,
        "max_depth": args.max_depth,
        "page_size": args.page_size,
        "concurrency": args.concurrency,
        "max_items": args.max_items,
        "start_offset": args.start_offset,
        "resume": args.resume,
    }
    if args.lean:
        kwargs["lean"] = True
    return {name: value for name, value in kwargs.items() if value is not None}


def _write(ctx: Context, writer: RowWriter, item: Any) -> bool:
    """Write one item; False once the reader went away (`| head`), which ends the run quietly."""
    try:
        writer.write(item)
    except BrokenPipeError:
        ctx.stdout_broken = True
        return False
    return True


def _close(ctx: Context, writer: RowWriter) -> None:
    if ctx.stdout_broken:
        return
    try:
        writer.close()
    except BrokenPipeError:
        ctx.stdout_broken = True


async def cmd_list(ctx: Context) -> int:
    """Stream jobs to stdout; on an early stop the context prints the checkpoint token."""
    args = ctx.args
    writer = _writer(args)
    kwargs = list_kwargs(args)
    show = want_progress(args.progress)
    progress = make_progress(False)
    cap = args.max_items
    if cap is not None:
        kwargs["max_items"] = cap + 1  # one more, to tell "stopped at the cap" from "the end"
    written = 0
    more = False
    try:
        async with ctx.client() as gladia:
            stream = gladia.pre_recorded.list(**kwargs)
            ctx.stream = stream
            total = await _total(gladia, args, stream.checkpoint) if show else None
            progress = make_progress(show, total=total, desc="jobs")
            async with stream:
                if cap == 0:
                    ctx.checkpoint = stream.checkpoint
                async for job in stream:
                    if written == cap:
                        more = True  # the checkpoint saved at the cap is where to go on
                        break
                    if not _write(ctx, writer, job):
                        break
                    written += 1
                    progress.update()
                    if written == cap:
                        ctx.checkpoint = stream.checkpoint
            _close(ctx, writer)
    finally:
        progress.close()
    ctx.stream = None
    _check_fields(writer)  # a wrong path fails the run: no token for the next batch
    if more and not ctx.stdout_broken:
        ctx.print_resume_hint(None)  # the cap was reached: say how to take the next batch
    ctx.checkpoint = None
    return ExitCode.OK


async def _total(gladia: GladiaClient, args: argparse.Namespace, cp: Checkpoint) -> int | None:
    """The bar's total (so it shows an ETA): the count of the listing the stream walks, from
    its pin, less what a resume or start offset skips; None for a resumed sharded walk."""
    if args.resume is not None and (cp.shards or cp.offset):
        return None
    filters = {**filter_kwargs(args), **_depth(args), "before_date": cp.before_date}
    total = max(0, await gladia.pre_recorded.count(**filters) - cp.offset)
    return total if args.max_items is None else min(total, args.max_items)


def _depth(args: argparse.Namespace) -> dict[str, Any]:
    return {} if args.max_depth is None else {"max_depth": args.max_depth}


async def cmd_count(ctx: Context) -> int:
    """Print how many jobs match the filters."""
    args = ctx.args
    async with ctx.client() as gladia:
        n = await gladia.pre_recorded.count(**filter_kwargs(args), **_depth(args))
    print(n, flush=True)
    return ExitCode.OK


async def _each(ctx: Context, action: Callable[[str], Awaitable[bool]], ids: list[str]) -> ExitCode:
    """Run `action` on every id: an API error on one is reported with its id and the others
    are still tried (exit 1 if any failed); a connection error ends the run. `action` returns
    False to stop early (the reader of stdout went away)."""
    failed = 0
    for job_id in ids:
        try:
            if not await action(job_id):
                break
        except APIConnectionError:
            raise
        except APIStatusError as exc:
            failed += 1
            ctx.error(f"{job_id}: {type(exc).__name__}: {exc}")
    return ExitCode.API if failed else ExitCode.OK


async def cmd_get(ctx: Context) -> int:
    """Print jobs by id, in the order given; a failed id is reported and the others still
    fetched (exit 1 if any failed)."""
    writer = _writer(ctx.args)
    async with ctx.client() as gladia:

        async def get(job_id: str) -> bool:
            return _write(ctx, writer, await gladia.pre_recorded.get(job_id))

        code = await _each(ctx, get, ctx.args.ids)
        _close(ctx, writer)
    if code == ExitCode.OK:
        _check_fields(writer)
    return code


async def cmd_delete(ctx: Context) -> int:
    """Delete each id; an API error on one is reported and the others are still tried."""
    async with ctx.client() as gladia:

        async def delete(job_id: str) -> bool:
            await gladia.pre_recorded.delete(job_id)
            print(f"deleted {job_id}", flush=True)
            return True

        return await _each(ctx, delete, ctx.args.ids)


def _local_file(text: str) -> Path:
    path = Path(text).expanduser()
    if not path.is_file():
        raise UsageError(f"no such file: {text}")
    return path


def _print_json(obj: Any) -> None:
    sys.stdout.write(msgspec.json.encode(obj).decode() + "\n")
    sys.stdout.flush()


async def cmd_upload(ctx: Context) -> int:
    """Upload a file and print its audio_url (or the whole result with --json)."""
    path = _local_file(ctx.args.file)
    async with ctx.client() as gladia:
        result = await gladia.upload(path)
    if ctx.args.json:
        _print_json(result)
    else:
        print(result.audio_url, flush=True)
    return ExitCode.OK


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def transcription_request(
    args: argparse.Namespace, audio_url: str, custom_metadata: dict[str, Any] | None = None
) -> PreRecordedRequest:
    """The POST /v2/pre-recorded body for the transcribe options (unset ones are not sent)."""
    options: dict[str, Any] = {"custom_metadata": custom_metadata}
    if args.language or args.code_switching:
        options["language_config"] = LanguageConfig(
            languages=args.language or None, code_switching=args.code_switching or None
        )
    if args.diarization or args.speakers:
        options["diarization"] = True
        if args.speakers:
            options["diarization_config"] = DiarizationConfig(number_of_speakers=args.speakers)
    if args.translate:
        options["translation"] = True
        options["translation_config"] = TranslationConfig(target_languages=args.translate)
    if args.summarize:
        options["summarization"] = True
    if args.subtitles:
        options["subtitles"] = True
        options["subtitles_config"] = SubtitlesConfig(formats=args.subtitles)
    if args.sentences:
        options["sentences"] = True
    if args.callback_url:
        options["callback"] = True
        options["callback_config"] = CallbackConfig(url=args.callback_url)
    return PreRecordedRequest(audio_url=audio_url, **options)


async def cmd_transcribe(ctx: Context) -> int:
    """Upload if needed, create the job, and (with --wait) wait and print the transcript."""
    args = ctx.args
    source = args.source
    path = None if _is_url(source) else _local_file(source)
    metadata = _json_object(args.custom_metadata, "--custom-metadata")
    async with ctx.client() as gladia:
        if path is not None:
            uploaded = await gladia.upload(path)
            audio_url = uploaded.audio_url
        else:
            audio_url = source
        created = await gladia.pre_recorded.create(transcription_request(args, audio_url, metadata))
        if not args.wait:
            if args.json:
                _print_json(created)
            else:
                print(created.id, flush=True)
            return ExitCode.OK
        ctx.info(f"job {created.id} created; waiting for the result")
        ctx.hints.append(f"job {created.id} goes on without us: gladia-async get {created.id}")
        wait_kwargs: dict[str, Any] = {}
        if args.poll_interval is not None:
            wait_kwargs["poll_interval"] = args.poll_interval
        if args.wait_timeout is not None:
            wait_kwargs["timeout"] = args.wait_timeout
        try:
            job = await gladia.pre_recorded.wait(created.id, **wait_kwargs)
        except JobFailedError:
            ctx.hints.clear()  # it ended: nothing goes on
            raise
        ctx.hints.clear()
    if args.json:
        _print_json(job)
        return ExitCode.OK
    transcription = job.result.transcription if job.result is not None else None
    print(transcription.full_transcript if transcription is not None else "", flush=True)
    return ExitCode.OK
