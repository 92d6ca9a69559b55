"""`gladia-async sync` (mirror the job history into a database) and `gladia-async export`
(the mirror as Parquet, JSON lines or CSV)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ._context import Context, ExitCode

__all__ = ["DEFAULT_DB", "add_parsers", "cmd_export", "cmd_sync"]

DEFAULT_DB = "sqlite:///gladia-jobs.db"


def _filters(p: argparse.ArgumentParser) -> None:
    f = p.add_argument_group("filters")
    f.add_argument(
        "--status", action="append", metavar="STATUS", help="queued, processing, done or error"
    )
    f.add_argument("--date", metavar="YYYY-MM-DD", help="jobs created on this (UTC) day")
    f.add_argument("--before-date", metavar="ISO", help="jobs created before this instant")
    f.add_argument("--after-date", metavar="ISO", help="jobs created after this instant")
    f.add_argument(
        "--custom-metadata", metavar="JSON", help="jobs whose custom_metadata contains this"
    )


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `sync` and `export`."""
    from ._parser import _command, _positive_int, _progress_option

    p = _command(
        sub,
        "sync",
        "mirror the job history into SQLite or PostgreSQL",
        "Bring the table `jobs` of a database to Gladia's job history: the first run copies "
        "every job, later runs fetch new jobs, refresh unfinished ones and find deleted ones "
        "by re-counting time windows. Prints what changed and what it cost. Safe to interrupt: "
        "the next run finishes the work.",
    )
    p.add_argument("--db", default=DEFAULT_DB, metavar="URL", help=f"default {DEFAULT_DB}")
    p.add_argument("--kind", choices=("pre-recorded", "live"), default="pre-recorded")
    _filters(p)
    p.add_argument("--page-size", type=_positive_int, default=100, metavar="N")
    p.add_argument("--concurrency", type=_positive_int, default=4, metavar="N")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    _progress_option(p)
    p.set_defaults(handler="_sync.cmd_sync")

    p = _command(
        sub,
        "export",
        "write the synced jobs as Parquet, JSON lines or CSV",
        "Write the jobs of a database filled by `sync` as a flat table (id, kind, status, "
        "created_at, completed_at, audio_duration, billing_time, languages, error_code, "
        "custom_metadata), in row groups of bounded size. Parquet needs the 'export' extra.",
        connection=False,
    )
    p.add_argument("--db", default=DEFAULT_DB, metavar="URL", help=f"default {DEFAULT_DB}")
    p.add_argument("--kind", choices=("pre-recorded", "live"), default="pre-recorded")
    p.add_argument("--format", choices=("parquet", "jsonl", "csv"), required=True)
    p.add_argument("--out", required=True, metavar="PATH", help="file to write")
    _filters(p)
    p.set_defaults(handler="_sync.cmd_export")


def _filter_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    from ._commands import _json_object, _statuses

    kwargs = {
        "status": _statuses(args.status),
        "date": args.date,
        "before_date": args.before_date,
        "after_date": args.after_date,
        "custom_metadata": _json_object(args.custom_metadata, "--custom-metadata"),
    }
    return {k: v for k, v in kwargs.items() if v is not None}


async def cmd_sync(ctx: Context) -> int:
    """Run one sync and print its report."""
    from ..sync import sync
    from ._progress import make_progress, want_progress

    args = ctx.args
    progress = make_progress(want_progress(args.progress), desc="jobs walked")
    try:
        async with ctx.client() as gladia:
            collection = gladia.live if args.kind == "live" else gladia.pre_recorded
            report = await sync(
                collection,
                args.db,
                page_size=args.page_size,
                concurrency=args.concurrency,
                progress=progress.update,
                **_filter_kwargs(args),
            )
    finally:
        progress.close()
    if args.json:
        fields = ("new", "changed", "deleted", "unchanged", "requests", "bytes", "seconds")
        print(json.dumps({f: getattr(report, f) for f in fields}))
    else:
        print(f"{args.kind} jobs: {report}")
    sys.stdout.flush()
    return ExitCode.OK


async def cmd_export(ctx: Context) -> int:
    """Write the stored jobs to a file; the count goes to stderr."""
    from ..sync import export

    args = ctx.args
    n = await export(args.db, args.out, format=args.format, kind=args.kind, **_filter_kwargs(args))
    ctx.info(f"wrote {n} jobs to {args.out}")
    return ExitCode.OK
