"""Logging switched on from the environment: `GLADIA_LOG=debug|info`, `GLADIA_LOG_FORMAT=json`.

Like openai-python's `OPENAI_LOG`, but the library's records go to their own stderr handler on
the `gladia_async` logger (the application's root logging is left alone). Request records carry
their fields in `record.gladia` (method, path, status, ms, request_id, attempt, ...): the JSON
format writes them as keys of one object per line, for log shippers.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
from collections.abc import Mapping
from typing import IO, Any

import msgspec

from . import _config

__all__ = ["ENV_LOG", "ENV_LOG_FORMAT", "JSONFormatter", "setup_logging"]

ENV_LOG = "GLADIA_LOG"
ENV_LOG_FORMAT = "GLADIA_LOG_FORMAT"
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}
_TEXT_FORMAT = "[%(asctime)s %(name)s %(levelname)s] %(message)s"
_ENCODER = msgspec.json.Encoder()


class JSONFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, then the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "gladia", None)
        if isinstance(fields, Mapping):
            out.update(fields)
        if record.exc_info and record.exc_info[1] is not None:
            out["error"] = repr(record.exc_info[1])
        return _ENCODER.encode(out).decode()


class _Handler(logging.StreamHandler[IO[str]]):
    """Marks the handler this module installed, so setting up twice does not add a second."""


def setup_logging(
    env: Mapping[str, str] | None = None, stream: IO[str] | None = None
) -> logging.Handler | None:
    """Configure the `gladia_async` logger from `GLADIA_LOG` / `GLADIA_LOG_FORMAT` in `env`
    (default: os.environ). Returns the handler, or None when `GLADIA_LOG` is unset or unknown.
    Called once when the package is imported."""
    env = os.environ if env is None else env
    level = _LEVELS.get(env.get(ENV_LOG, "").strip().lower())
    if level is None:
        return None
    logger = logging.getLogger(_config.LOGGER_NAME)
    for old in [h for h in logger.handlers if isinstance(h, _Handler)]:
        logger.removeHandler(old)
    handler = _Handler(stream if stream is not None else sys.stderr)
    if env.get(ENV_LOG_FORMAT, "").strip().lower() == "json":
        handler.setFormatter(JSONFormatter())
    else:
        handler.setFormatter(logging.Formatter(_TEXT_FORMAT))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False  # the records are printed here; no second copy from the root
    return handler
