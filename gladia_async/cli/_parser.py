"""The argparse tree of `gladia-async`: global options (accepted before or after the command)
and one subparser per command; handlers are named as "module.function" and imported on use."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeVar

from .. import __version__
from ._format import FORMATS

__all__ = ["EPILOG", "PROG", "build_parser"]

PROG = "gladia-async"
_N = TypeVar("_N", int, float)

EPILOG = """\
exit codes: 0 ok, 1 API error, 2 usage or configuration error, 3 connection error,
4 other error (unexpected response, failed job, wait timeout), 130 interrupted (Ctrl-C),
143 terminated (SIGTERM). list prints 'resume with: --resume TOKEN' on stderr when it
stops early and running again can help (not after 400, 401, 403 or 404).
"""


def _global_options(
    parser: argparse.ArgumentParser, *, suppress: bool, connection: bool = True
) -> None:
    """--api-key/--base-url/... accepted before and after the command name."""
    default = argparse.SUPPRESS if suppress else None
    if connection:
        group = parser.add_argument_group("connection")
        group.add_argument(
            "--api-key",
            metavar="KEY",
            default=default,
            help="Gladia API key (default: $GLADIA_API_KEY); never printed",
        )
        group.add_argument(
            "--base-url",
            metavar="URL",
            default=default,
            help="API base URL (default: $GLADIA_API_URL, then https://api.gladia.io)",
        )
        group.add_argument(
            "--timeout",
            type=_positive_float,
            metavar="SECONDS",
            default=default,
            help="per-request timeout in seconds",
        )
        group.add_argument(
            "--max-retries",
            type=_non_negative_int,
            metavar="N",
            default=default,
            help="retries of safe requests on connection errors, 429 and 5xx",
        )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="debug logging on stderr (the key is redacted)",
    )


def _number(
    convert: Callable[[str], _N], what: str, ok: Callable[[_N], bool], rule: str
) -> Callable[[str], _N]:
    """An argparse `type`: `convert(text)` (1_000 accepted), rejected unless `ok(value)`."""

    def parse(text: str) -> _N:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
        if not ok(value):  # `not` so that NaN fails every rule
            raise argparse.ArgumentTypeError(f"{rule}: {text!r}")
        return value

    return parse


_positive_int = _number(int, "an integer", lambda v: v >= 1, "must be at least 1")
_max_depth = _number(int, "an integer", lambda v: v >= 2, "must be at least 2")
_non_negative_int = _number(int, "an integer", lambda v: v >= 0, "must not be negative")
_positive_float = _number(float, "a number", lambda v: v > 0, "must be positive")
_non_negative_float = _number(float, "a number", lambda v: v >= 0, "must not be negative")


def _output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="jsonl",
        help="jsonl: one JSON object a line (default); csv: with a header (none with "
        "--resume, so the output appends); table: aligned",
    )
    parser.add_argument(
        "--fields",
        metavar="F1,F2",
        help="comma-separated dotted paths in API names, e.g. "
        "id,status,created_at,file.audio_duration,result.metadata.billing_time "
        "(jsonl default: whole objects; csv/table default: id,status,created_at,"
        "completed_at,file.audio_duration); a path found in no job is an error (exit 2)",
    )


def _progress_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: only when stderr is a terminal; "
        "needs the 'cli' extra, tqdm)",
    )


def _list_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = _command(
        sub,
        "list",
        "stream pre-recorded jobs to stdout",
        "Stream every matching pre-recorded job to stdout, newest first, fetching pages ahead. "
        "On Ctrl-C or a fatal error, the checkpoint token is printed on stderr as "
        "'resume with: --resume TOKEN'; rerun with the same command plus --resume TOKEN to "
        "continue with exactly the next job.",
    )
    _filter_options(p)
    s = p.add_argument_group("paging")
    s.add_argument("--page-size", type=_positive_int, metavar="N", help="items per request")
    s.add_argument(
        "--concurrency",
        type=_positive_int,
        metavar="N",
        help="page requests in flight at once (1 = sequential; per window with --shards)",
    )
    s.add_argument(
        "--shards",
        type=_positive_int,
        metavar="N",
        help="walk the listing as time windows, N at once, each re-counted when done: "
        "exactly once even while jobs are deleted, and never deeper than --max-depth",
    )
    s.add_argument(
        "--max-depth",
        type=_max_depth,
        metavar="D",
        help="with --shards: the deepest offset requested; windows hold at most D jobs "
        "(default 5000)",
    )
    s.add_argument("--max-items", type=_non_negative_int, metavar="N", help="stop after N jobs")
    s.add_argument(
        "--start-offset", type=_non_negative_int, metavar="N", help="skip the first N jobs"
    )
    s.add_argument("--resume", metavar="TOKEN", help="continue from a checkpoint token")
    s.add_argument(
        "--lean",
        action="store_true",
        help="lean listing: ids, statuses, dates and file metadata; skip transcripts",
    )
    _output_options(p)
    _progress_option(p)
    p.set_defaults(handler="_commands.cmd_list")


def _count_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = _command(
        sub,
        "count",
        "print how many pre-recorded jobs match the filters",
        "Count the matching pre-recorded jobs, pinned to now, with a few tiny requests "
        "(about 2 x log2 of the count; none deeper than --max-depth), and print the number.",
    )
    _filter_options(p)
    p.add_argument(
        "--max-depth", type=_max_depth, metavar="D", help="deepest offset requested (default 5000)"
    )
    p.set_defaults(handler="_commands.cmd_count")


def _filter_options(p: argparse.ArgumentParser) -> None:
    """The listing filters of `list` and `count`."""
    f = p.add_argument_group("filters")
    f.add_argument(
        "--status",
        action="append",
        metavar="STATUS",
        help="queued, processing, done or error (checked before any request); repeat or "
        "comma-separate for several",
    )
    f.add_argument("--date", metavar="YYYY-MM-DD", help="jobs created on this (UTC) day")
    f.add_argument("--before-date", metavar="ISO", help="jobs created before this instant")
    f.add_argument("--after-date", metavar="ISO", help="jobs created after this instant")
    f.add_argument(
        "--custom-metadata",
        metavar="JSON",
        help='jobs whose custom_metadata contains this JSON object, e.g. \'{"team": "a"}\'',
    )


def _command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    summary: str,
    text: str,
    *,
    connection: bool = True,
) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=summary, description=text)
    _global_options(p, suppress=True, connection=connection)
    return p


def _job_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = _command(
        sub,
        "get",
        "print pre-recorded jobs by id",
        "Print jobs by id, one a line. Every id is tried; a failed one is reported on stderr "
        "with its id and the exit code is 1.",
    )
    p.add_argument("ids", nargs="+", metavar="ID", help="job id(s)")
    _output_options(p)
    p.set_defaults(handler="_commands.cmd_get")

    p = _command(
        sub,
        "delete",
        "delete pre-recorded jobs by id",
        "Delete jobs (and their audio and results). Every id is tried; the exit code is 1 "
        "when any deletion failed (e.g. 403: a job still queued or processing).",
    )
    p.add_argument("ids", nargs="+", metavar="ID", help="job id(s)")
    p.set_defaults(handler="_commands.cmd_delete")

    p = _command(
        sub,
        "upload",
        "upload an audio or video file",
        "Upload a local file (streamed) and print the audio_url to pass to transcribe.",
    )
    p.add_argument("file", metavar="FILE", help="path of the audio or video file")
    p.add_argument("--json", action="store_true", help="print the whole upload result as JSON")
    p.set_defaults(handler="_commands.cmd_upload")

    p = _command(
        sub,
        "transcribe",
        "transcribe a file or URL",
        "Upload FILE (or use URL as is), create a pre-recorded job and, with --wait (the "
        "default), wait for it and print the transcript. The job id is printed on stderr as "
        "soon as the job exists.",
    )
    p.add_argument("source", metavar="FILE_OR_URL", help="local file, or an http(s) URL")
    p.add_argument(
        "--wait",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="wait for the result (default) or print the job id and return",
    )
    p.add_argument("--json", action="store_true", help="print the whole job (or id) as JSON")
    o = p.add_argument_group("transcription options")
    o.add_argument(
        "--language",
        action="append",
        metavar="CODE",
        help="expected language (repeat for several; none = detect)",
    )
    o.add_argument("--code-switching", action="store_true", help="detect language per utterance")
    o.add_argument("--diarization", action="store_true", help="label speakers")
    o.add_argument("--speakers", type=_positive_int, metavar="N", help="number of speakers hint")
    o.add_argument("--translate", action="append", metavar="CODE", help="translate to (repeatable)")
    o.add_argument("--summarize", action="store_true", help="add a summary")
    o.add_argument(
        "--subtitles",
        action="append",
        choices=("srt", "vtt"),
        help="subtitle format (repeatable)",
    )
    o.add_argument("--sentences", action="store_true", help="sentence segmentation")
    o.add_argument("--custom-metadata", metavar="JSON", help="JSON object stored with the job")
    o.add_argument("--callback-url", metavar="URL", help="URL the API calls when done")
    o.add_argument(
        "--poll-interval", type=_positive_float, metavar="SECONDS", help="seconds between polls"
    )
    o.add_argument(
        "--wait-timeout", type=_positive_float, metavar="SECONDS", help="give up waiting after"
    )
    p.set_defaults(handler="_commands.cmd_transcribe")


def _demo_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = _command(
        sub,
        "demo",
        "stream a large synthetic history from the built-in fake API",
        "Start the built-in fake Gladia API on a free loopback port with a seeded history, "
        "stream every job through the real client with prefetch, and print a summary. "
        "Needs no key and no network.",
        connection=False,
    )
    p.add_argument("--jobs", type=_non_negative_int, default=20_000, help="jobs (default 20000)")
    p.add_argument("--seed", type=int, default=7, help="data seed (default 7)")
    p.add_argument("--lean", action="store_true", help="use the lean listing")
    p.add_argument("--page-size", type=_positive_int, default=100, metavar="N", help="default 100")
    p.add_argument("--concurrency", type=_positive_int, default=4, metavar="N", help="default 4")
    p.add_argument(
        "--latency-ms",
        type=_non_negative_float,
        default=0.0,
        metavar="MS",
        help="added to every fake response (default 0)",
    )
    p.add_argument(
        "--transcript-seconds",
        default="0-60",
        metavar="SPEC",
        help="speech per done job: LOW-HIGH (uniform), N, or 'realistic' (the fake's mix, up "
        "to an hour: much more data, slower to synthesize); default 0-60",
    )
    p.add_argument(
        "--sync",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="act 2: sync the history into a temporary SQLite file, change it, sync again "
        "(default: on)",
    )
    _progress_option(p)
    p.set_defaults(handler="_demo.cmd_demo")

    p = _command(
        sub,
        "fake-server",
        "serve the fake API until Ctrl-C",
        "Serve the in-memory fake Gladia API on loopback with a seeded history, for trying "
        "the client and the CLI without a key. Prints the URL and the test key.",
        connection=False,
    )
    p.add_argument("--key", default="test-key", help="the API key it accepts (default test-key)")
    p.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    p.add_argument("--port", type=_non_negative_int, default=0, help="port (default 0: a free one)")
    p.add_argument("--jobs", type=_non_negative_int, default=1_000, help="jobs (default 1000)")
    p.add_argument("--seed", type=int, default=7, help="data seed (default 7)")
    p.add_argument(
        "--latency-ms", type=_non_negative_float, default=0.0, metavar="MS", help="default 0"
    )
    p.add_argument(
        "--transcript-seconds",
        default="realistic",
        metavar="SPEC",
        help="speech per done job: 'realistic' (default: a mix up to an hour), N or LOW-HIGH",
    )
    p.set_defaults(handler="_demo.cmd_fake_server")


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree: global options, then one subcommand."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Command line for the Gladia speech-to-text API v2 (gladia_async).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _global_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _demo_parsers(sub)
    _list_parser(sub)
    _count_parser(sub)
    _job_parsers(sub)
    from ._sync import add_parsers as _sync_parsers

    _sync_parsers(sub)
    return parser
