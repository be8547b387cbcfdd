"""One JSON line per log record (and so one per request, from the access logger)."""

from __future__ import annotations

import logging
import logging.config
from datetime import UTC, datetime
from typing import Any

import orjson

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,  # which worker, when several serve
            "msg": record.getMessage(),
        }
        data.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        # orjson: a line per request is written on the request's path (UTF-8, not \u escapes).
        return orjson.dumps(data, default=str).decode()


def logging_config(json_lines: bool = True, level: int = logging.INFO) -> dict[str, Any]:
    """A ``dictConfig`` for the service's loggers. Given to uvicorn as ``log_config``, which
    applies it in every worker process: with ``--workers 2`` the workers are new processes, and
    logging set up in the parent alone wrote no line at all (issue 10)."""
    formatter: dict[str, Any] = (
        {"()": JsonFormatter} if json_lines else {"format": "%(levelname)s %(name)s %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"anjian": formatter},
        "handlers": {"anjian": {"class": "logging.StreamHandler", "formatter": "anjian"}},
        "loggers": {
            "anjian": {"handlers": ["anjian"], "level": level, "propagate": False},
            # uvicorn's own errors (a worker failing to start, say) in the same shape
            "uvicorn": {"handlers": ["anjian"], "level": logging.WARNING, "propagate": False},
        },
    }


def configure_logging(json_lines: bool = True, level: int = logging.INFO) -> None:
    logging.config.dictConfig(logging_config(json_lines, level))
