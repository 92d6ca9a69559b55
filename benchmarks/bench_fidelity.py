"""What API fidelity costs: ``raw_json=True`` on a listing, and the fake's request validation.

- raw_json: one 100-item list page with full 10-minute transcripts decoded as the listing does
  with ``raw_json=True`` (a ``Page[msgspec.Raw]`` pass, then each item, keeping a copy of its
  bytes) against the plain decode, for full jobs and lean summaries: a ratio (1.0 = free).
- validation: microseconds the fake spends validating one realistic pre-recorded body against
  the OpenAPI document (compiled once).

    python -m benchmarks.bench_fidelity [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from benchmarks._payloads import list_page, make_jobs
from gladia_async.resources import decode_page
from gladia_async.testing.validate import validate_prerecorded
from gladia_async.types import PreRecordedJob, PreRecordedJobSummary

BODY = {
    "audio_url": "https://example.com/a.wav",
    "model": "solaria-3",
    "diarization": True,
    "diarization_config": {"min_speakers": 1, "max_speakers": 3},
    "language_config": {"languages": ["en", "fr"], "code_switching": True},
    "translation": True,
    "translation_config": {"target_languages": ["de"], "model": "enhanced"},
    "subtitles": True,
    "subtitles_config": {"formats": ["srt", "vtt"]},
    "custom_metadata": {"tenant": "acme", "batch": 7},
}


def median_of(func: Callable[[], Any], repeats: int) -> float:
    func()  # warm-up
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--quick", action="store_true", help="10 jobs, fewer repeats")
    quick = args.parse_args().quick
    jobs, _ = make_jobs(10 if quick else 100, 600.0)
    page = list_page(jobs)
    repeats = 5 if quick else 15
    print(f"page: {len(page) / 1e6:.1f} MB, {len(jobs)} jobs")
    for item_type in (PreRecordedJob, PreRecordedJobSummary):
        plain = median_of(lambda t=item_type: decode_page(page, t), repeats)
        kept = median_of(lambda t=item_type: decode_page(page, t, raw_json=True), repeats)
        print(
            f"raw_json=True, {item_type.__name__}: {kept / plain:.2f}x the plain decode "
            f"({plain * 1e3:.1f} ms -> {kept * 1e3:.1f} ms)"
        )
    n = 2_000 if quick else 20_000
    per_body = median_of(lambda: [validate_prerecorded(BODY) for _ in range(n)], 5) / n
    print(f"fake validation of one pre-recorded body: {per_body * 1e6:.1f} us")


if __name__ == "__main__":
    main()
