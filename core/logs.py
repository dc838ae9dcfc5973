"""The service's log lines: one JSON object each in production, readable text in development.

Every logger of the process (Django's, the service's, gunicorn's error and access loggers: see
``GunicornLogger``) writes through these formatters (``LOG_FORMAT``: ``json`` unless ``DEBUG``
is on). A JSON line always has ``time``, ``level``, ``logger`` and ``message``; a line logged
while a request is served has its ``request_id`` too (``X-Request-ID``: the caller's when
well-formed, else generated; echoed in the answer), and the request log's line carries the
request's fields at the top level (``health.request_log``). A traceback is one string field, so
it stays on the line.

Nothing here imports Django: gunicorn's master formats its own lines with it before any
application code is loaded.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime

from gunicorn import glogging

# The id of the request being served in this context (None outside requests).
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# What a caller may send as X-Request-ID (a UUID, a ULID, a trace id...): anything else is
# replaced, so that a log line never carries a caller's free text.
WELL_FORMED_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+=/-]{0,127}")


def stamp_request_ids() -> None:
    """Every record made from now on carries the id of the request being served
    (``record.request_id``), whenever and wherever it is formatted."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "stamps_request_id", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = request_id.get()
        return record

    factory.stamps_request_id = True
    logging.setLogRecordFactory(factory)


def forget_request_id(**kwargs) -> None:
    """``request_finished`` (the response is closed, after Django's own lines): no request is
    being served in this context any more."""
    request_id.set(None)


def request_id_for(sent: str | None) -> str:
    """The caller's ``X-Request-ID`` when well-formed, else a new one."""
    if sent is not None and WELL_FORMED_ID.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def escaped(text: str) -> str:
    """``text`` with control characters written as escapes: a path with a newline in it cannot
    forge a second text line (JSON lines escape by themselves)."""
    return CONTROL_CHARACTERS.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def _time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


def _access_fields(atoms: Mapping) -> dict:
    """gunicorn's access-log atoms, as fields (``-`` is gunicorn's "unknown")."""

    def atom(name: str) -> str | None:
        value = atoms[name]
        return None if value == "-" else value

    status = atom("s")
    return {
        "remote_addr": atom("h"),
        "method": atom("m"),
        "path": atom("U"),
        "status": int(status) if status and status.isdigit() else status,
        "bytes": int(atoms["B"] or 0) if str(atoms["B"]).isdigit() else None,
        "duration_ms": round(int(atoms["D"]) / 1000, 1) if str(atoms["D"]).isdigit() else None,
        "request_id": atom("{x-request-id}o"),
    }


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": _time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        current = getattr(record, "request_id", None)  # stamped when made (stamp_request_ids)
        if current is not None:
            line["request_id"] = current
        if record.name == "gunicorn.access" and isinstance(record.args, Mapping):
            line |= {k: v for k, v in _access_fields(record.args).items() if v is not None}
        fields = getattr(record, "request_fields", None)
        if fields:
            line |= fields
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        # ASCII only: U+2028 and its kind, which some readers take for line breaks, are escaped.
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    """A developer's terminal: the request log's own line, others with time, level and logger."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "request_fields", None)
        if fields:
            return f"{_time(record)} {request_line(fields)}"
        return escaped(super().format(record))


def request_line(fields: dict) -> str:
    """The request log's fields as a developer-readable line."""
    aliases = ",".join(fields["db_read_aliases"]) or "-"
    client = fields["client_id"] if fields["client_id"] is not None else "-"
    wrote = " db_wrote" if fields["db_wrote"] else ""
    retries = f" db_retries={fields['db_retries']}" if fields["db_retries"] else ""
    cache = (
        f" cache_failures={fields['cache_failures']} cache_wait={fields['cache_wait_ms']}ms"
        if fields["cache_failures"]
        else ""
    )
    return (
        f"{escaped(fields['method'])} {escaped(fields['path'])} {fields['status']} "
        f"{fields['duration_ms']}ms client={client} db_reads={aliases}{wrote}{retries}{cache}"
    )


FORMATTERS = {"json": JsonFormatter, "text": TextFormatter}


class GunicornLogger(glogging.Logger):
    """gunicorn's error and access loggers, writing in the service's format (``LOG_FORMAT``).

    The access log is off unless asked for (``--access-logfile -``): the request log
    (``health.request_log``) already has a line per request, with more in it.
    """

    def setup(self, cfg) -> None:
        super().setup(cfg)
        stamp_request_ids()
        from django.conf import settings  # configured by gunicorn.conf.py before this runs

        formatter = FORMATTERS[settings.LOG_FORMAT]()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(formatter)
