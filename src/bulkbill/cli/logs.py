"""Where a command's logs go: stderr, as plain lines or as one JSON object per line (settings.log_format).

The standard `logging` module does the work; JSON is one small formatter, so that every library's
records (uvicorn's, SQLAlchemy's) come out in the same shape with nothing to wire per library.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# With several server processes, each line names the process that wrote it.
PLAIN_FORMAT_WITH_PID = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"
# Attributes every LogRecord has; anything else on a record came in through `extra=` and is a field.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "taskName"}
# uvicorn's coloured duplicate of the message.
_SKIPPED = frozenset({"color_message"})


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, (pid,) message, then the `extra=` fields."""

    def __init__(self, *, with_pid: bool = False) -> None:
        super().__init__()
        self.with_pid = with_pid

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        if self.with_pid:
            out["pid"] = record.process
        out["message"] = record.getMessage()
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in _SKIPPED:
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, default=str)


def formatter(log_format: str, *, with_pid: bool = False) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter(with_pid=with_pid)
    return logging.Formatter(PLAIN_FORMAT_WITH_PID if with_pid else PLAIN_FORMAT)


def configure_logging(log_format: str, level: str, *, with_pid: bool = False) -> None:
    """Every logger to one stderr handler in the chosen format, at the chosen level (bulkbill's included);
    `with_pid` (several server processes writing to one stderr) puts the writing process's id on each line."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format, with_pid=with_pid))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger("bulkbill").setLevel(level.upper())
    # Alembic narrates every migration check at INFO; its news is in `bulkbill migrate`'s own output.
    logging.getLogger("alembic").setLevel(max(logging.getLevelName(level.upper()), logging.WARNING))
