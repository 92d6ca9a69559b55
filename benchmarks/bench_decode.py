"""Figure 1 — decode one 100-item list page with full 10-minute transcripts (~17-20 MB).

Same bytes for every decoder:
- ours, full: ``msgspec.json.Decoder(Page[PreRecordedJob])`` on the public types — exactly what
  the client runs on ``await resp.read()`` (one cached Decoder per type, see gladia_async._decode);
- ours, lean: the same page decoded as ``Page[<lean job type>]`` (what ``list(lean=True)`` yields);
- pydantic v2: ``Page.model_validate_json`` over models of the same shape (baselines/);
- orjson: ``orjson.loads`` to plain dicts (no types, no validation);
- official SDK: ``PreRecordedV2ListResponse.from_dict(json.loads(body))`` — what its ``list()``
  does with a body (one run after a small warm-up: it is slow).

    python -m benchmarks.bench_decode [--quick] [--json out.json] [--source example|fake]
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import msgspec
import orjson

from benchmarks import _harness as h
from benchmarks._payloads import list_page, make_jobs
from benchmarks.baselines import official_sdk
from benchmarks.baselines import pydantic_models as pm


def lean_type() -> Any:
    """The lean item type ``pre_recorded.list(lean=True)`` yields."""
    from gladia_async.types import PreRecordedJobSummary

    return PreRecordedJobSummary


def _fake_page_bytes(jobs: int) -> bytes:
    """A list page of the fake's own benchmark preset (``DataSpec.full_pages``: 10-minute
    transcripts, every add-on), built from the same per-job bytes the fake serves."""
    from gladia_async.testing import DataSpec, build_store

    store = build_store(DataSpec.full_pages(jobs=jobs, seed=7))
    items = b",".join(store.get(i).encoded() for i in store.ids())
    base = "http://127.0.0.1:8080/v2/pre-recorded"
    head = (
        f'{{"first":"{base}?offset=0&limit={jobs}","current":"{base}?offset=0&limit={jobs}",'
        f'"next":"{base}?offset={jobs}&limit={jobs}","items":['
    )
    return head.encode() + items + b"]}"


def payload(args: argparse.Namespace) -> tuple[bytes, int]:
    """The page bytes and the number of items, per ``--source``."""
    n = 10 if args.quick else 100
    if args.source == "fake":
        body = _fake_page_bytes(n)
    else:
        jobs, _words = make_jobs(n, 600.0)
        body = list_page(jobs)
    return body, n


def main() -> int:
    """Run figure 1 and print its ratios."""
    p = h.parser(__doc__.splitlines()[0])
    p.add_argument("--source", choices=["example", "fake"], default="example")
    p.add_argument("--skip-sdk", action="store_true", help="skip the (slow) official SDK run")
    args = p.parse_args()
    repeat = args.repeat or (5 if args.quick else 9)
    rep = h.Report("figure 1: decode one list page", args)

    from gladia_async.types import Page, PreRecordedJob

    t0 = time.perf_counter()
    body, n = payload(args)
    words = body.count(b'"word":')
    rep.note("times are CPU time of the decoding thread (time.thread_time), immune to other load")
    rep.note(
        f"page: {n} jobs, {len(body) / 1e6:.1f} MB, {words} words, source={args.source}"
        f" (built in {time.perf_counter() - t0:.1f} s)"
    )

    full = msgspec.json.Decoder(Page[PreRecordedJob])
    lean = msgspec.json.Decoder(Page[lean_type()])
    untyped = msgspec.json.Decoder()

    # Sanity: every decoder sees the same items, and ours keeps the transcript.
    page = full.decode(body)
    assert len(page.items) == n
    assert page.items[0].result is not None and page.items[0].result.transcription is not None
    assert len(pm.Page.model_validate_json(body).items) == n
    assert len(lean.decode(body).items) == n
    del page

    cases = h.measure_rounds(
        {
            "ours full (msgspec Structs)": lambda: full.decode(body),
            "ours lean (PreRecordedJobSummary)": lambda: lean.decode(body),
            "msgspec untyped dicts": lambda: untyped.decode(body),
            "orjson.loads dicts": lambda: orjson.loads(body),
            "json.loads dicts": lambda: json.loads(body),
            "pydantic v2 model_validate_json": lambda: pm.Page.model_validate_json(body),
        },
        repeat=repeat,
        clock=time.thread_time,
    )
    for case in cases.values():
        rep.add(case)
    ours = cases["ours full (msgspec Structs)"]
    ours_lean = cases["ours lean (PreRecordedJobSummary)"]
    oj = cases["orjson.loads dicts"]
    pyd = cases["pydantic v2 model_validate_json"]

    rep.ratio("pydantic / ours", pyd.median / ours.median, 8)
    rep.ratio("orjson dicts / ours", oj.median / ours.median, 2.5)
    rep.ratio("ours full / ours lean", ours.median / ours_lean.median, 5)

    if not args.skip_sdk:
        # Warm dataclasses-json's schema caches on a 1-job page first, then one timed run.
        small_jobs, _ = make_jobs(1, 15)
        official_sdk.decode_page(list_page(small_jobs))
        sdk = rep.add(
            h.measure(
                lambda: official_sdk.decode_page(body),
                repeat=1,
                warmup=0,
                name="official SDK",
                clock=time.thread_time,
            )
        )
        rep.ratio("official SDK / ours", sdk.median / ours.median, 300, note="one SDK run")
    return rep.finish()


if __name__ == "__main__":
    raise SystemExit(main())
