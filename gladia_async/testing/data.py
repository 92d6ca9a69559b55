"""Seeded synthetic data: transcripts with word timings, add-on blocks, job metadata.

Everything is a pure function of a seed, so a store can be rebuilt identically and large
results can be generated lazily, only when a job is first served.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache, lru_cache
from typing import Any, NamedTuple

__all__ = [
    "DEFAULT_END",
    "FEATURES",
    "DataSpec",
    "format_time",
    "make_result",
    "make_utterances",
    "random_id",
    "request_id",
    "synth_wav",
]

DEFAULT_END = datetime(2026, 11, 1, tzinfo=UTC)
"""Generated jobs are dated before this fixed instant (so data does not depend on today)."""

FEATURES = (
    "diarization",
    "translation",
    "summarization",
    "named_entity_recognition",
    "sentiment_analysis",
    "sentences",
    "subtitles",
    "audio_to_llm",
    "chapterization",
)
"""Add-on names a job can carry; each adds its block to the result."""

FULL_PAGE_FEATURES = (
    "diarization",
    "sentences",
    "subtitles",
    "summarization",
    "named_entity_recognition",
    "sentiment_analysis",
    "chapterization",
)
"""The add-ons of DataSpec.full_pages (about 160 KB per 10-minute job)."""

PRERECORDED_FLAGS = (
    "custom_vocabulary",
    "callback",
    "subtitles",
    "diarization",
    "translation",
    "summarization",
    "named_entity_recognition",
    "custom_spelling",
    "sentiment_analysis",
    "audio_to_llm",
    "pii_redaction",
    "sentences",
    "punctuation_enhanced",
)
"""The boolean flags of a pre-recorded request body."""

LIVE_FEATURES = (
    "translation",
    "named_entity_recognition",
    "sentiment_analysis",
    "summarization",
    "chapterization",
)

_WORDS = (
    "the a we our team this that it is was be to of and in for on with as at by from "
    "project budget launch meeting customer order delivery report quarter sales design "
    "review plan release product feature issue ticket update deadline schedule market "
    "think need should could would will can just really also very well so then now "
    "next week month today tomorrow morning call email data numbers results growth "
    "support invoice contract price team client service quality test build deploy "
    "about after before again because between during into over under until while "
    "good great better important clear simple quick final new first last other same"
).split()
_FR = (
    "le un nous notre équipe ce cela il est était être à de et dans pour sur avec comme "
    "chez par depuis projet budget lancement réunion client commande livraison rapport "
    "trimestre ventes conception revue plan version produit fonction problème ticket "
    "mise délai calendrier marché pense besoin devrait pourrait voudrait va peut juste "
    "vraiment aussi très bien donc puis maintenant prochaine semaine mois aujourd'hui "
    "demain matin appel courriel données chiffres résultats croissance support facture "
    "contrat prix équipe client service qualité test construire déployer sur après avant "
    "encore parce entre pendant dans sur sous jusqu'à pendant bon super mieux important "
    "clair simple rapide final nouveau premier dernier autre même"
).split()
_NAMES = ("Maya", "Lucas", "Amara", "Jonas", "Priya", "Diego", "Sofia", "Kenji")
_SENTIMENTS = ("positive", "neutral", "negative", "mixed")
_EMOTIONS = ("interest", "neutral", "contentment", "confusion", "disappointment", "relief")


def random_id(rng: random.Random) -> str:
    """A UUID-4-shaped id drawn from rng (deterministic for a seed)."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def request_id(rng: random.Random) -> str:
    """A Gladia debug id: 'G-' and 8 hex digits."""
    return f"G-{rng.getrandbits(32):08x}"


def format_time(us: int) -> str:
    """ISO 8601 UTC with milliseconds, as the API writes it: 2026-07-14T09:12:03.481Z."""
    days, ms = divmod(us // 1000, 86_400_000)
    return f"{_iso_day(days)}T{_clock(ms, '.')}Z"


@lru_cache(maxsize=4096)
def _iso_day(days: int) -> str:
    """YYYY-MM-DD of a day counted from 1970-01-01 (cached: a store spans few days)."""
    return date.fromordinal(_EPOCH_ORDINAL + days).isoformat()


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _clock(ms: int, sep: str) -> str:
    """HH:MM:SS<sep>mmm for a count of milliseconds (timestamps and subtitle cues)."""
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


@dataclass(frozen=True)
class DataSpec:
    """What a generated store contains: counts, seed, status mix, dates, transcript sizes.

    `transcript_seconds`: None = realistic mix (about 3% empty, most a few minutes, some up to
    an hour), a number = every job exactly that long, a (low, high) pair = uniform range.
    `feature_rate`: chance that each add-on of FEATURES is present on a generated job.
    Dates are uniform in [end - days, end).
    """

    jobs: int = 0
    live_jobs: int = 0
    seed: int = 0
    statuses: Mapping[str, float] = field(
        default_factory=lambda: {"done": 0.92, "error": 0.04, "processing": 0.02, "queued": 0.02}
    )
    end: datetime = DEFAULT_END
    days: float = 365.0
    transcript_seconds: float | tuple[float, float] | None = None
    feature_rate: float = 0.15
    features: tuple[str, ...] | None = None
    """When set, every job carries exactly these add-ons (feature_rate is ignored)."""
    tenants: int = 5

    @classmethod
    def full_pages(cls, jobs: int = 100, seed: int = 0) -> DataSpec:
        """Benchmark preset: done 10-minute jobs with most add-ons (about 16 MB per 100 jobs)."""
        return cls(
            jobs=jobs,
            seed=seed,
            statuses={"done": 1.0},
            transcript_seconds=600.0,
            features=FULL_PAGE_FEATURES,
        )

    @classmethod
    def short(cls, jobs: int = 10_000, seed: int = 0) -> DataSpec:
        """Benchmark preset: done jobs with short transcripts (a few KB each), no add-ons."""
        return cls(
            jobs=jobs, seed=seed, statuses={"done": 1.0}, transcript_seconds=8.0, feature_rate=0
        )

    @classmethod
    def lean(cls, jobs: int = 100_000, seed: int = 0) -> DataSpec:
        """Benchmark preset: many jobs with empty transcripts (the listing cost, not the data)."""
        return cls(jobs=jobs, seed=seed, transcript_seconds=0.0, feature_rate=0)

    def seconds_for(self, rng: random.Random) -> float:
        """Draw one job's speech duration in seconds."""
        ts = self.transcript_seconds
        if ts is None:
            r = rng.random()
            if r < 0.03:
                return 0.0
            if r < 0.98:
                return round(min(3600.0, rng.lognormvariate(4.6, 1.0)), 2)
            return round(rng.uniform(1800.0, 3600.0), 2)
        if isinstance(ts, tuple):
            return round(rng.uniform(ts[0], ts[1]), 2)
        return float(ts)


# --- transcripts --------------------------------------------------------------------------


_SHAPES = 1024


class _Shape(NamedTuple):
    """One utterance's words with timings relative to its start, in centiseconds."""

    words: tuple[tuple[str, int, int, float], ...]  # (word, start_cs, end_cs, confidence)
    text: str
    confidence: float
    length: int  # end of the last word, in centiseconds


@cache
def _shapes() -> tuple[_Shape, ...]:
    """A fixed pool of utterance shapes (4 to 21 words, names here and there), built once.

    Transcripts are sequences of shapes placed on a timeline: drawing a shape and shifting
    its timings costs a few operations per word instead of several random draws, roundings
    and string edits, which makes hour-long transcripts cheap to synthesize.
    """
    rng = random.Random("utterance-shapes")
    rnd = rng.random
    shapes = []
    for _ in range(_SHAPES):
        words: list[tuple[str, int, int, float]] = []
        t = 0
        n = 4 + int(rnd() * 18)
        for i in range(n):
            w = _WORDS[int(rnd() * len(_WORDS))]
            if (i == 0 or rnd() < 0.08) and rnd() < 0.2:
                w = rng.choice(_NAMES)
            if i == 0:
                w = w[:1].upper() + w[1:]
            if i == n - 1:
                w += "."
            end = t + 12 + round(len(w) * 4.5 + rnd() * 10)
            words.append((w, t, end, round(0.7 + rnd() * 0.3, 2)))
            t = end + 3 + int(rnd() * 5)
        shapes.append(_shape(words))
    return tuple(shapes)


def _shape(words: Sequence[tuple[str, int, int, float]]) -> _Shape:
    text = " ".join(w[0] for w in words)
    confidence = round(sum(w[3] for w in words) / len(words), 2)
    return _Shape(tuple(words), text, confidence, words[-1][2])


def _cut(shape: _Shape, limit: int) -> _Shape:
    """The words of a shape that start before `limit`, the last one ending by it, with a period."""
    words = [w for w in shape.words if w[1] < limit]
    w, s, e, c = words[-1]
    words[-1] = (w if w.endswith(".") else w + ".", s, min(e, limit), c)
    return _shape(words)


def make_utterances(
    rng: random.Random,
    seconds: float,
    *,
    speakers: int = 0,
    channels: int = 1,
    language: str = "en",
) -> list[dict[str, Any]]:
    """Utterances covering about `seconds` of speech, with per-word timings (deterministic
    for the rng's state). Times are exact hundredths: the speech clock counts centiseconds."""
    shapes = _shapes()
    rnd = rng.random
    out: list[dict[str, Any]] = []
    t = 10 + int(rnd() * 50)  # centiseconds
    end = round(seconds * 100)
    while t < end - 30:
        shape = shapes[int(rnd() * _SHAPES)]
        if t + shape.length > end:  # the audio ends inside this utterance
            shape = _cut(shape, end - t)
        words = [
            {"word": w, "start": (t + s) / 100, "end": (t + e) / 100, "confidence": c}
            for w, s, e, c in shape.words
        ]
        u_end = t + shape.length
        utt: dict[str, Any] = {
            "start": t / 100,
            "end": u_end / 100,
            "confidence": shape.confidence,
            "channel": int(rnd() * channels) if channels > 1 else 0,
        }
        if speakers:
            utt["speaker"] = len(out) % speakers if rnd() < 0.8 else int(rnd() * speakers)
        utt["words"] = words
        utt["text"] = shape.text
        utt["language"] = language
        out.append(utt)
        t = u_end + 30 + int(rnd() * 90)
    return out


def make_window_utterance(
    rng: random.Random, t0: float, t1: float, *, language: str = "en", channel: int = 0
) -> dict[str, Any]:
    """One utterance whose words fill [t0, t1] (at least one word): a live transcript."""
    words: list[dict[str, Any]] = []
    t = t0 + min(0.1, (t1 - t0) / 4)
    end_t = max(t1 - 0.05, t + 0.01)
    while t < end_t and (not words or t + 0.12 < end_t):
        w = _WORDS[int(rng.random() * len(_WORDS))]
        if not words:
            w = w[:1].upper() + w[1:]
        w_end = min(t + 0.12 + len(w) * 0.045 + rng.random() * 0.1, end_t)
        words.append(
            {
                "word": w,
                "start": round(t, 2),
                "end": round(w_end, 2),
                "confidence": round(0.7 + rng.random() * 0.3, 2),
            }
        )
        t = w_end + 0.04
    words[-1]["word"] += "."
    return {
        "start": words[0]["start"],
        "end": words[-1]["end"],
        "confidence": round(sum(w["confidence"] for w in words) / len(words), 2),
        "channel": channel,
        "words": words,
        "text": " ".join(w["word"] for w in words),
        "language": language,
    }


def _addon(results: Any, rng: random.Random) -> dict[str, Any]:
    return {
        "success": True,
        "is_empty": not results,
        "exec_time": round(0.01 + rng.random() * 3, 3),
        "error": None,
        "results": results,
    }


def _subtitles(utts: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    cues = [
        (
            f"{_clock(round(u['start'] * 1000), ',')} --> {_clock(round(u['end'] * 1000), ',')}",
            u["text"],
        )
        for u in utts
    ]
    srt = "".join(f"{i}\n{cue}\n{text}\n\n" for i, (cue, text) in enumerate(cues, 1))
    vtt = "".join(f"{cue.replace(',', '.')}\n{text}\n\n" for cue, text in cues)
    return [{"format": "srt", "subtitles": srt}, {"format": "vtt", "subtitles": "WEBVTT\n\n" + vtt}]


def _transcription(
    utts: list[dict[str, Any]], features: Iterable[str], rng: random.Random, language: str
) -> dict[str, Any]:
    feats = set(features)
    out: dict[str, Any] = {
        "full_transcript": " ".join(u["text"] for u in utts),
        "languages": [language],
    }
    if "sentences" in feats:
        out["sentences"] = [_addon([u["text"] for u in utts], rng)]
    if "subtitles" in feats:
        out["subtitles"] = _subtitles(utts)
    out["utterances"] = utts
    return out


_FR_OF = {w: _FR[i % len(_FR)] for i, w in enumerate(_WORDS)}


@cache
def _french(word: str) -> str:
    """The French stand-in of a word (names and unknown words unchanged), without a period."""
    raw = word.rstrip(".")
    return _FR_OF.get(raw.lower(), raw)


def _translate(utts: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for u in utts:
        words = [{**w, "word": _french(w["word"])} for w in u["words"]]
        if words:
            words[0]["word"] = words[0]["word"][:1].upper() + words[0]["word"][1:]
            words[-1]["word"] += "."
        out.append(
            {**u, "words": words, "text": " ".join(w["word"] for w in words), "language": "fr"}
        )
    return out


def make_result(
    seed: int,
    seconds: float,
    features: Iterable[str] = (),
    *,
    channels: int = 1,
    language: str = "en",
    kind: str = "pre-recorded",
    utterances: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A job `result` (TranscriptionResult) for `seconds` of speech with the add-on blocks named.

    Pass `utterances` to build the result around an existing transcript (live sessions).
    """
    rng = random.Random(seed)
    feats = set(features)
    speakers = 2 + seed % 2 if "diarization" in feats and kind == "pre-recorded" else 0
    if utterances is None:
        utterances = make_utterances(
            rng, seconds, speakers=speakers, channels=channels, language=language
        )
    duration = round(seconds + (0.5 if seconds else 0.0), 2)
    result: dict[str, Any] = {
        "metadata": {
            "audio_duration": duration,
            "number_of_distinct_channels": channels,
            "billing_time": round(duration * channels, 2),
            "transcription_time": round(1.0 + duration * 0.05 + rng.random(), 2),
        },
        "transcription": _transcription(utterances, feats, rng, language),
    }
    texts = [u["text"] for u in utterances]
    if "translation" in feats:
        tr = _translate(utterances)
        item = _transcription(tr, feats, rng, "fr")
        item["languages"] = ["fr"]
        result["translation"] = _addon([{"error": None, **item}], rng)
    if "summarization" in feats:
        result["summarization"] = _addon(" ".join(texts[:3]), rng)
    if "named_entity_recognition" in feats:
        ents = [
            {
                "entity_type": "NAME_GIVEN",
                "text": w["word"].rstrip("."),
                "start": w["start"],
                "end": w["end"],
            }
            for u in utterances
            for w in u["words"]
            if w["word"].rstrip(".") in _NAMES
        ]
        result["named_entity_recognition"] = _addon(ents, rng)
    if "sentiment_analysis" in feats:
        sa = []
        for u in utterances:
            item = {
                "text": u["text"],
                "sentiment": rng.choice(_SENTIMENTS),
                "emotion": rng.choice(_EMOTIONS),
                "start": u["start"],
                "end": u["end"],
                "channel": u["channel"],
            }
            if "speaker" in u:
                item["speaker"] = u["speaker"]
            sa.append(item)
        result["sentiment_analysis"] = _addon(sa, rng)
    if "audio_to_llm" in feats and kind == "pre-recorded":
        prompts = ("List the action items", "Give this meeting a title")
        result["audio_to_llm"] = _addon(
            [_addon({"prompt": p, "response": " ".join(texts[:1]) or None}, rng) for p in prompts],
            rng,
        )
    if "sentences" in feats and kind == "pre-recorded":
        result["sentences"] = _addon(texts, rng)
    if "chapterization" in feats:
        chapters = []
        for i in range(0, len(utterances), 20):
            part = utterances[i : i + 20]
            chapters.append(
                {
                    "summary": " ".join(u["text"] for u in part[:2]),
                    "headline": part[0]["text"][:60],
                    "gist": part[0]["text"][:30],
                    "keywords": sorted({w["word"].rstrip(".").lower() for w in part[0]["words"]})[
                        :4
                    ],
                    "start": part[0]["start"],
                    "end": part[-1]["end"],
                }
            )
        result["chapterization"] = _addon(chapters, rng)
    return result


# --- request params and files --------------------------------------------------------------


def prerecorded_params(audio_url: str, features: Iterable[str]) -> dict[str, Any]:
    """request_params echoing a request with these add-ons enabled."""
    feats = set(features)
    p: dict[str, Any] = {"audio_url": audio_url}
    for flag in PRERECORDED_FLAGS:
        p[flag] = flag in feats
    if "subtitles" in feats:
        p["subtitles_config"] = {"formats": ["srt", "vtt"], "style": "default"}
    if "translation" in feats:
        p["translation_config"] = {
            "target_languages": ["fr"],
            "model": "base",
            "match_original_utterances": True,
            "lipsync": True,
            "context_adaptation": True,
            "informal": False,
        }
    if "summarization" in feats:
        p["summarization_config"] = {"type": "general"}
    if "audio_to_llm" in feats:
        p["audio_to_llm_config"] = {
            "prompts": ["List the action items", "Give this meeting a title"],
            "model": "openai/gpt-5.4-nano",
        }
    p["language_config"] = {"languages": ["en"], "code_switching": False}
    return p


MESSAGES_DEFAULTS = {
    "receive_partial_transcripts": False,
    "receive_final_transcripts": True,
    "receive_speech_events": False,
    "receive_pre_processing_events": True,
    "receive_realtime_processing_events": True,
    "receive_post_processing_events": True,
    "receive_acknowledgments": False,
    "receive_errors": False,
    "receive_lifecycle_events": False,
}


def live_params(
    body: Mapping[str, Any] | None = None, features: Iterable[str] = ()
) -> dict[str, Any]:
    """Live request_params: the init body with server defaults filled (minus custom_metadata)."""
    body = dict(body or {})
    body.pop("custom_metadata", None)
    feats = set(features)
    rt: dict[str, Any] = {
        "custom_vocabulary": False,
        "custom_spelling": False,
        "translation": "translation" in feats,
        "named_entity_recognition": "named_entity_recognition" in feats,
        "sentiment_analysis": "sentiment_analysis" in feats,
    }
    if rt["translation"]:
        rt["translation_config"] = {"target_languages": ["fr"], "model": "base"}
    post = {"summarization": "summarization" in feats, "chapterization": "chapterization" in feats}
    p: dict[str, Any] = {
        "encoding": "wav/pcm",
        "bit_depth": 16,
        "sample_rate": 16000,
        "channels": 1,
        "model": "solaria-1",
        "endpointing": 0.05,
        "maximum_duration_without_endpointing": 5,
        "language_config": {"languages": [], "code_switching": False},
        "pre_processing": {"audio_enhancer": False, "speech_threshold": 0.6},
        "realtime_processing": rt,
        "post_processing": post,
        "messages_config": dict(MESSAGES_DEFAULTS),
        "callback": False,
    }
    for key, value in body.items():
        if isinstance(value, Mapping) and isinstance(p.get(key), dict):
            p[key] = {**p[key], **value}
        else:
            p[key] = value
    return p


def live_features(params: Mapping[str, Any]) -> tuple[str, ...]:
    """The add-on names a live request_params enables."""
    rt = params.get("realtime_processing") or {}
    post = params.get("post_processing") or {}
    out = [
        f for f in ("translation", "named_entity_recognition", "sentiment_analysis") if rt.get(f)
    ]
    out += [f for f in ("summarization", "chapterization") if post.get(f)]
    return tuple(out)


def synth_wav(
    seconds: float = 1.0,
    sample_rate: int = 16000,
    pcm: bytes | None = None,
    bit_depth: int = 16,
    channels: int = 1,
) -> bytes:
    """A WAV file: the given PCM bytes, or `seconds` of silence."""
    if pcm is None:
        pcm = bytes(int(seconds * sample_rate) * (bit_depth // 8) * channels)
    block = channels * bit_depth // 8
    header = b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVE"
    header += b"fmt " + struct.pack(
        "<IHHIIHH", 16, 1, channels, sample_rate, sample_rate * block, block, bit_depth
    )
    return header + b"data" + struct.pack("<I", len(pcm)) + pcm


def wav_duration(data: bytes) -> tuple[float, int] | None:
    """(seconds, channels) of a PCM WAV file, or None if `data` is not one."""
    if len(data) < 44 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos, rate, chans, bits = 12, 0, 0, 0
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if cid == b"fmt " and pos + 24 <= len(data):
            _, chans, rate, _, _, bits = struct.unpack("<HHIIHH", data[pos + 8 : pos + 24])
        elif cid == b"data":
            size = min(size, len(data) - pos - 8)
            if rate and chans and bits:
                return round(size / (rate * chans * bits / 8), 3), chans
            return None
        pos += 8 + size + (size & 1)
    return None
