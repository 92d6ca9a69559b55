"""The fake's in-memory job store: records, list order, filtered selections, cached JSON bytes.

Built for 100,000 jobs: the list order is kept sorted on insert, date filters are bisections,
other filters are cached per store version, and each job's JSON is encoded once.
"""

from __future__ import annotations

import random
import time
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from . import data

__all__ = ["JobRecord", "Store", "UploadedFile", "build_store"]

KINDS = ("pre-recorded", "live")
STATUSES = ("queued", "processing", "done", "error")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_encode = msgspec.json.encode


def to_us(dt: datetime) -> int:
    """Microseconds since the epoch of an aware (or UTC-naive) datetime."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return (dt - _EPOCH) // timedelta(microseconds=1)


def now_us() -> int:
    """The current wall-clock time in microseconds since the epoch, at millisecond precision."""
    return time.time_ns() // 1_000_000 * 1000


@dataclass
class UploadedFile:
    """An uploaded (or URL-fetched) audio file: bytes served back by the file endpoints."""

    id: str
    filename: str
    data: bytes
    extension: str
    source: str | None
    audio_duration: float
    number_of_channels: int


class JobRecord:
    """One job (pre-recorded or live). Its JSON is built lazily and cached until it changes."""

    __slots__ = (
        "_bytes",
        "audio_url",
        "completed_us",
        "created_us",
        "custom_metadata",
        "error_code",
        "features",
        "file_bytes",
        "file_id",
        "filename",
        "id",
        "kind",
        "params",
        "request_id",
        "result",
        "seconds",
        "seed",
        "status",
    )

    def __init__(
        self,
        *,
        id: str,
        kind: str,
        request_id: str,
        created_us: int,
        status: str,
        seed: int,
        seconds: float,
        features: tuple[str, ...] = (),
        custom_metadata: dict[str, Any] | None = None,
        error_code: int | None = None,
        completed_us: int | None = None,
        params: dict[str, Any] | None = None,
        audio_url: str | None = None,
        file_id: str | None = None,
        filename: str | None = None,
    ) -> None:
        self.id = id
        self.kind = kind
        self.request_id = request_id
        self.created_us = created_us
        self.status = status
        self.seed = seed
        self.seconds = seconds
        self.features = features
        self.custom_metadata = custom_metadata
        self.error_code = error_code
        self.completed_us = completed_us
        self.params = params
        self.audio_url = audio_url
        self.file_id = file_id
        self.filename = filename
        self.file_bytes: bytes | None = None
        self.result: dict[str, Any] | None = None
        self._bytes: bytes | None = None

    def __repr__(self) -> str:
        return f"JobRecord(id={self.id!r}, kind={self.kind!r}, status={self.status!r})"

    @property
    def created_at(self) -> str:
        """created_at as the API writes it."""
        return data.format_time(self.created_us)

    def invalidate(self) -> None:
        """Forget the cached JSON (after a change)."""
        self._bytes = None

    def encoded(self) -> bytes:
        """The job object's JSON bytes (cached)."""
        if self._bytes is None:
            self._bytes = _encode(self.to_dict())
        return self._bytes

    def request_params(self) -> dict[str, Any]:
        """request_params as served (generated from the features when not given)."""
        if self.params is not None:
            return self.params
        if self.kind == "live":
            return data.live_params(None, self.features)
        return data.prerecorded_params(self.audio_url or "", self.features)

    def make_result(self) -> dict[str, Any]:
        """The result object (generated from the seed when not given)."""
        if self.result is not None:
            return self.result
        result = data.make_result(self.seed, self.seconds, self.features, kind=self.kind)
        if self.kind == "live":
            result["messages"] = [
                _encode(
                    {
                        "session_id": self.id,
                        "created_at": self.created_at,
                        "type": "transcript",
                        "data": {"id": f"00-{i:08d}", "is_final": True, "utterance": u},
                    }
                ).decode()
                for i, u in enumerate(result["transcription"]["utterances"], 1)
            ]
        return result

    def to_dict(self) -> dict[str, Any]:
        """The job object as the API returns it (GET /{id} and list items)."""
        status = self.status
        failed = status == "error"
        done = status == "done"
        duration = round(self.seconds + (0.5 if self.seconds else 0.0), 2)
        file: dict[str, Any] | None = None
        if not failed:
            file = {
                "id": self.file_id or self.id,
                "filename": (self.filename or f"{self.id}.wav") if done else None,
                "source": self.audio_url if self.kind == "pre-recorded" else None,
                "audio_duration": duration if done else None,
                "number_of_channels": 1 if done else None,
            }
        return {
            "id": self.id,
            "request_id": self.request_id,
            "version": 2,
            "status": status,
            "created_at": self.created_at,
            "completed_at": (
                data.format_time(self.completed_us) if self.completed_us is not None else None
            ),
            "custom_metadata": self.custom_metadata,
            "error_code": self.error_code if failed else None,
            "post_session_metadata": {},
            "kind": self.kind,
            "file": file,
            "request_params": None if failed else self.request_params(),
            "result": self.make_result() if done else None,
        }


def metadata_matches(want: Any, have: Any) -> bool:
    """True when `want` is a (recursive) subset of `have`; non-objects compare equal."""
    if isinstance(want, dict):
        if not isinstance(have, dict):
            return False
        return all(k in have and metadata_matches(v, have[k]) for k, v in want.items())
    return bool(want == have)


class _Table:
    """Jobs of one kind in list order: newest created_at first, ties by id ascending."""

    def __init__(self) -> None:
        self.keys: list[tuple[int, str]] = []
        self.neg: list[int] = []
        self.recs: list[JobRecord] = []
        self.version = 0
        self.cache: dict[Any, list[JobRecord]] = {}
        self.cache_version = 0

    def bulk(self, recs: Iterable[JobRecord]) -> None:
        merged = self.recs + list(recs)
        merged.sort(key=lambda r: (-r.created_us, r.id))
        self.recs = merged
        self.keys = [(-r.created_us, r.id) for r in merged]
        self.neg = [k[0] for k in self.keys]
        self.version += 1

    def insert(self, rec: JobRecord) -> None:
        key = (-rec.created_us, rec.id)
        i = bisect_left(self.keys, key)
        self.keys.insert(i, key)
        self.neg.insert(i, key[0])
        self.recs.insert(i, rec)
        self.version += 1

    def delete(self, rec: JobRecord) -> None:
        key = (-rec.created_us, rec.id)
        i = bisect_left(self.keys, key)
        if i < len(self.keys) and self.keys[i] == key:
            del self.keys[i], self.neg[i], self.recs[i]
            self.version += 1

    def select(
        self,
        *,
        statuses: frozenset[str] | None = None,
        after_us: int | None = None,
        before_us: int | None = None,
        metadata: Any = None,
        metadata_key: str | None = None,
    ) -> tuple[Sequence[JobRecord], int, int]:
        """(records, lo, hi): the matching jobs are records[lo:hi], in list order."""
        lo, hi = 0, len(self.recs)
        if before_us is not None:  # created < before  <=>  neg > -before
            lo = bisect_right(self.neg, -before_us)
        if after_us is not None:  # created > after  <=>  neg < -after
            hi = bisect_left(self.neg, -after_us)
        if hi < lo:
            hi = lo
        if statuses is None and metadata is None:
            return self.recs, lo, hi
        if self.cache_version != self.version:
            self.cache.clear()
            self.cache_version = self.version
        ckey = (statuses, metadata_key, lo, hi)
        hit = self.cache.get(ckey)
        if hit is None:
            hit = [
                r
                for r in self.recs[lo:hi]
                if (statuses is None or r.status in statuses)
                and (metadata is None or metadata_matches(metadata, r.custom_metadata))
            ]
            if len(self.cache) > 32:
                self.cache.clear()
            self.cache[ckey] = hit
        return hit, 0, len(hit)


class Store:
    """All jobs and uploaded files of one fake; mutate it freely between (or during) requests."""

    def __init__(self, seed: int = 0) -> None:
        self.tables = {kind: _Table() for kind in KINDS}
        self.jobs: dict[str, JobRecord] = {}
        self.files: dict[str, UploadedFile] = {}
        self.rng = random.Random(f"store-{seed}")

    def __len__(self) -> int:
        return len(self.jobs)

    def __repr__(self) -> str:
        return f"Store(jobs={len(self.jobs)}, files={len(self.files)})"

    def count(self, kind: str | None = None) -> int:
        """Number of jobs (of one kind, or all)."""
        return len(self.jobs) if kind is None else len(self.tables[kind].recs)

    def get(self, job_id: str) -> JobRecord | None:
        """The job with this id, or None."""
        return self.jobs.get(job_id)

    def ids(self, kind: str = "pre-recorded") -> list[str]:
        """Job ids of one kind in list order (newest first)."""
        return [r.id for r in self.tables[kind].recs]

    def job_json(self, job_id: str) -> dict[str, Any]:
        """The job object as served, decoded (KeyError if unknown)."""
        result: dict[str, Any] = msgspec.json.decode(self.jobs[job_id].encoded())
        return result

    def insert(self, rec: JobRecord) -> JobRecord:
        """Add a prepared record (its id must be new)."""
        if rec.id in self.jobs:
            raise ValueError(f"duplicate job id {rec.id}")
        self.jobs[rec.id] = rec
        self.tables[rec.kind].insert(rec)
        return rec

    def add_job(
        self,
        kind: str = "pre-recorded",
        *,
        status: str = "done",
        created_at: datetime | None = None,
        custom_metadata: dict[str, Any] | None = None,
        transcript_seconds: float = 30.0,
        features: Iterable[str] = (),
        error_code: int | None = None,
        job_id: str | None = None,
    ) -> JobRecord:
        """Add one job (created now by default) and return it."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}")
        created = to_us(created_at) if created_at is not None else now_us()
        jid = job_id or data.random_id(self.rng)
        rec = JobRecord(
            id=jid,
            kind=kind,
            request_id=data.request_id(self.rng),
            created_us=created,
            status=status,
            seed=self.rng.getrandbits(32),
            seconds=float(transcript_seconds),
            features=tuple(features),
            custom_metadata=custom_metadata,
            error_code=(error_code or 500) if status == "error" else None,
            completed_us=created + 1_000_000 if status in ("done", "error") else None,
            audio_url=f"https://storage.example.com/recordings/{jid[:8]}.wav",
        )
        return self.insert(rec)

    def add_jobs(self, n: int, kind: str = "pre-recorded", **kwargs: Any) -> list[JobRecord]:
        """Add n jobs with add_job(**kwargs) (created now by default)."""
        return [self.add_job(kind, **kwargs) for _ in range(n)]

    def remove(self, job_id: str) -> bool:
        """Delete a job; False when it did not exist."""
        rec = self.jobs.pop(job_id, None)
        if rec is None:
            return False
        self.tables[rec.kind].delete(rec)
        return True

    def delete_random(self, n: int, kind: str, rng: random.Random) -> list[str]:
        """Delete up to ``n`` random finished (done/error) jobs of one kind; their ids."""
        recs = self.tables[kind].recs
        out: list[str] = []
        for _ in range(4 * max(n, 0)):
            if len(out) >= n or not recs:
                break
            rec = recs[rng.randrange(len(recs))]
            if rec.status in ("done", "error") and self.remove(rec.id):
                out.append(rec.id)
        return out

    def tie(self, size: int, *, seed: int = 0) -> None:
        """Timestamp ties: give runs of consecutive jobs (random lengths averaging ``size``,
        seeded) one shared millisecond, the newest of the run."""
        rng = random.Random(f"ties-{seed}")
        for table in self.tables.values():
            recs, i = table.recs, 0
            while i < len(recs):
                run = rng.randint(1, max(1, 2 * size - 1))
                for rec in recs[i + 1 : i + run]:
                    rec.created_us = recs[i].created_us
                    rec.invalidate()
                i += run
            table.recs = []
            table.bulk(recs)

    def set_status(self, job_id: str, status: str, *, error_code: int | None = None) -> JobRecord:
        """Move a job to a status (sets completed_at for done/error); KeyError if unknown."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}")
        rec = self.jobs[job_id]
        rec.status = status
        if status in ("done", "error"):
            rec.completed_us = rec.completed_us or now_us()
        else:
            rec.completed_us = None
        if status == "error":
            rec.error_code = error_code or rec.error_code or 500
        rec.invalidate()
        self.tables[rec.kind].version += 1
        return rec

    def touch(self, rec: JobRecord) -> None:
        """Note that a record changed (drops cached bytes and filtered selections)."""
        rec.invalidate()
        self.tables[rec.kind].version += 1

    def warm(self) -> None:
        """Encode every job's JSON now, so later requests cost the same for every client."""
        for rec in self.jobs.values():
            rec.encoded()

    def generate(self, spec: data.DataSpec) -> None:
        """Add spec.jobs pre-recorded and spec.live_jobs live jobs, deterministic for spec.seed."""
        rng = random.Random(spec.seed)
        end_us = to_us(spec.end)
        span = int(spec.days * 86_400_000)  # milliseconds
        statuses = list(spec.statuses)
        weights = [spec.statuses[s] for s in statuses]
        cum = []
        acc = 0.0
        for w in weights:
            acc += w
            cum.append(acc)
        feature_rate = spec.feature_rate
        for kind, n in (("pre-recorded", spec.jobs), ("live", spec.live_jobs)):
            feats_all = data.FEATURES if kind == "pre-recorded" else data.LIVE_FEATURES
            recs = []
            rnd = rng.random
            for _ in range(n):
                h = f"{rng.getrandbits(128):032x}"
                jid = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"
                created = end_us - (1 + int(rnd() * span)) * 1000
                r = rnd() * acc
                status = statuses[-1]
                for s, c in zip(statuses, cum, strict=True):
                    if r < c:
                        status = s
                        break
                if spec.features is not None:
                    feats = tuple(f for f in spec.features if f in feats_all)
                elif feature_rate:
                    feats = tuple(f for f in feats_all if rnd() < feature_rate)
                else:
                    feats = ()
                tenant = int(rnd() * spec.tenants) if spec.tenants else 0
                rec = JobRecord(
                    id=jid,
                    kind=kind,
                    request_id=f"G-{h[:8]}",
                    created_us=created,
                    status=status,
                    seed=rng.getrandbits(32),
                    seconds=spec.seconds_for(rng),
                    features=feats,
                    custom_metadata={"tenant_id": f"tenant-{tenant}", "batch": tenant * 7 % 10},
                    error_code=(500, 422, 400)[int(rnd() * 3)] if status == "error" else None,
                    completed_us=(
                        created + int(5 + rnd() * 120) * 1_000_000
                        if status in ("done", "error")
                        else None
                    ),
                    audio_url=f"https://storage.example.com/recordings/{h[:12]}.wav",
                )
                recs.append(rec)
            for rec in recs:
                self.jobs[rec.id] = rec
            self.tables[kind].bulk(recs)


def build_store(spec: data.DataSpec | None = None, **kwargs: Any) -> Store:
    """A store holding the jobs of `spec` (or of DataSpec(**kwargs))."""
    spec = spec or data.DataSpec(**kwargs)
    store = Store(seed=spec.seed)
    store.generate(spec)
    return store


def parse_time(value: str) -> int:
    """ISO date-time or date (UTC assumed when naive) -> microseconds; ValueError if invalid."""
    v = value.strip()
    if v.endswith(("Z", "z")):
        v = v[:-1] + "+00:00"
    return to_us(datetime.fromisoformat(v))


def filter_metadata_key(meta: Mapping[str, Any]) -> str:
    """Canonical text of a metadata filter, for cache keys."""
    return _encode(meta, order="sorted").decode()
