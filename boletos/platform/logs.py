"""Structured logging: one event per line, JSON by default, readable on a console.

Callers log an event name plus fields: ``log.info("upload.finished", upload_id=..., rows=...)``.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import format_span_id, format_trace_id

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        event.update(_fields(record))
        if record.exc_info:
            event["exc"] = self.formatException(record.exc_info)
        return json.dumps(event, default=str, ensure_ascii=False)


class ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        fields = " ".join(f"{k}={v}" for k, v in _flat(_fields(record)))
        line = f"{stamp} {record.levelname[:4]:4} {record.name:8} {record.getMessage()} {fields}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line.rstrip()


def _flat(fields: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Nested settings as dotted keys and lists as comma-separated values: one readable
    line for people, where Python's own reprs would show braces and quotes."""
    flat: list[tuple[str, str]] = []
    for key, value in fields.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.extend(_flat(value, f"{name}."))
        elif isinstance(value, list | tuple | set):
            flat.append((name, ",".join(str(v) for v in value) or "-"))
        elif value == "":
            flat.append((name, "-"))
        else:
            flat.append((name, str(value)))
    return flat


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    return {
        k: v for k, v in record.__dict__.items() if k not in _RESERVED and not k.startswith("_")
    }


class EventLogger:
    """A thin wrapper that turns keyword arguments into structured fields."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger

    def debug(self, event: str, **fields: Any) -> None:
        self._logger.debug(event, extra=_traced(fields), stacklevel=2)

    def info(self, event: str, **fields: Any) -> None:
        self._logger.info(event, extra=_traced(fields), stacklevel=2)

    def warning(self, event: str, **fields: Any) -> None:
        self._logger.warning(event, extra=_traced(fields), stacklevel=2)

    def error(self, event: str, **fields: Any) -> None:
        self._logger.error(event, extra=_traced(fields), stacklevel=2)

    def exception(self, event: str, **fields: Any) -> None:
        self._logger.exception(event, extra=_traced(fields), stacklevel=2)


def _traced(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields, with the ids of the span current when the line is written: a log line
    leads to its trace, and a trace to its lines."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return fields
    return {
        **fields,
        "trace_id": format_trace_id(context.trace_id),
        "span_id": format_span_id(context.span_id),
    }


def get_logger(name: str) -> EventLogger:
    return EventLogger(logging.getLogger(name))


def keep_grpc_quiet(level: int = logging.INFO, logger: str = "grpc") -> None:
    """gRPC's own DEBUG lines never reach the handlers, whatever LOG_LEVEL says. Its Cython
    layer logs every event loop lookup at DEBUG, while holding a lock of its own; a garbage
    collection on another thread, started while that thread holds a handler's lock, finalizes
    gRPC objects that wait for the same lock, and both threads stop for good (a test logging
    at DEBUG hung so)."""
    logging.getLogger(logger).setLevel(max(level, logging.INFO))


def configure(fmt: str = "json", level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(ConsoleFormatter() if fmt == "console" else JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    keep_grpc_quiet(root.level)


def mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"
