"""Deterministic list-page payloads for the decode benchmark, grown from the API's own example.

Each job is /work/shared/gladia-api/examples/prerecorded_job_done.json (every §6.5/§6.6 block,
as the real API returns it) with ``result.transcription`` grown to the requested audio length:
about 3 words per second, utterances of 6-14 words split between two speakers, and the matching
``full_transcript``, ``sentences`` and ``subtitles`` (srt + vtt). The other add-on blocks keep
their example size. Every decoder in a figure gets the same bytes.
"""

from __future__ import annotations

import copy
import json
import random
import uuid
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "shared" / "gladia-api" / "examples"
_FALLBACK = Path("/work/shared/gladia-api/examples")


def _example(name: str) -> dict[str, Any]:
    for base in (EXAMPLES, _FALLBACK):
        path = base / name
        if path.exists():
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return data
    raise FileNotFoundError(name)


def _vocabulary(job: dict[str, Any]) -> list[str]:
    words = []
    for utt in job["result"]["transcription"]["utterances"]:
        words.extend(w["word"] for w in utt["words"])
    return words


def _ts(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def grow_transcription(
    job: dict[str, Any], seconds: float, rng: random.Random, vocab: list[str]
) -> int:
    """Replace the job's transcription with one covering ``seconds`` of audio; returns words."""
    utterances = []
    t = 0.48
    n_words = 0
    while t < seconds - 1:
        count = rng.randint(6, 14)
        words = []
        for _ in range(count):
            dur = round(rng.uniform(0.15, 0.45), 2)
            words.append(
                {
                    "word": rng.choice(vocab),
                    "start": round(t, 2),
                    "end": round(t + dur, 2),
                    "confidence": round(rng.uniform(0.7, 1.0), 2),
                }
            )
            t += dur + 0.02
        text = " ".join(w["word"] for w in words)
        utterances.append(
            {
                "start": words[0]["start"],
                "end": words[-1]["end"],
                "confidence": round(rng.uniform(0.8, 1.0), 2),
                "channel": 0,
                "speaker": len(utterances) % 2,
                "words": words,
                "text": text,
                "language": "en",
            }
        )
        n_words += count
        t += rng.uniform(0.2, 0.8)
    texts = [u["text"] for u in utterances]
    srt = "".join(
        f"{i}\n{_ts(u['start'], ',')} --> {_ts(u['end'], ',')}\n{u['text']}\n\n"
        for i, u in enumerate(utterances, 1)
    )
    vtt = "WEBVTT\n\n" + "".join(
        f"{_ts(u['start'], '.')} --> {_ts(u['end'], '.')}\n{u['text']}\n\n" for u in utterances
    )
    tr = job["result"]["transcription"]
    tr["utterances"] = utterances
    tr["full_transcript"] = " ".join(texts)
    tr["sentences"][0]["results"] = texts
    tr["subtitles"] = [{"format": "srt", "subtitles": srt}, {"format": "vtt", "subtitles": vtt}]
    for key in ("audio_duration", "billing_time"):
        job["result"]["metadata"][key] = round(seconds, 2)
    job["file"]["audio_duration"] = round(seconds, 2)
    return n_words


def make_jobs(count: int, seconds: float, seed: int = 7) -> tuple[list[dict[str, Any]], int]:
    """``count`` distinct finished jobs with ``seconds`` of transcript each; -> (jobs, words)."""
    base = _example("prerecorded_job_done.json")
    vocab = _vocabulary(base)
    rng = random.Random(seed)
    jobs = []
    total = 0
    for i in range(count):
        job = copy.deepcopy(base)
        job["id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        job["request_id"] = f"G-{rng.getrandbits(32):08x}"
        job["created_at"] = f"2026-07-14T09:{59 - i % 60:02d}:03.481Z"
        total += grow_transcription(job, seconds, rng, vocab)
        jobs.append(job)
    return jobs, total


def list_page(jobs: list[dict[str, Any]], base_url: str = "https://api.gladia.io") -> bytes:
    """A ``GET /v2/pre-recorded`` page around ``jobs`` (with a ``next`` link), as JSON bytes."""
    n = len(jobs)
    page = {
        "first": f"{base_url}/v2/pre-recorded?offset=0&limit={n}",
        "current": f"{base_url}/v2/pre-recorded?offset=0&limit={n}",
        "next": f"{base_url}/v2/pre-recorded?offset={n}&limit={n}",
        "items": jobs,
    }
    return json.dumps(page, ensure_ascii=False, separators=(",", ":")).encode()
