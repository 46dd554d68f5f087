"""How a log line looks: JSON (or plain text in development), times in UTC with their offset, and no
credential in it. Free of Django imports, so a server's own log config (uvicorn's `--log-config`,
gunicorn's `--log-config-json`) can use it before the application is loaded.

Secrets are removed twice: `RedactSecretsFilter` cleans a record's message and arguments for every
handler, and the formatters clean the finished line, which also covers extras (django.request's
`request`) and tracebacks.
"""

import logging
import logging.config
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

REDACTED = "[redacted]"
# A value ends at whitespace, a quote, a backslash (JSON escapes), `&`, `,` or a closing bracket; one
# already redacted is left alone.
_VALUE = r"(?!\[redacted\])[^\s\"'\\&,)>\]}]+"
# Each pattern with the words one of which a text must hold (case folded, as `(?i)` matches) for the
# pattern to match: most lines hold none, and a substring test costs far less than a regex pass.
_SECRETS = [
    # `?token=<jwt>` in a URL (the WebSocket streams' old way to authenticate).
    (re.compile(rf"(?i)(\btoken=){_VALUE}"), ("token=",)),
    # `Authorization: Bearer <jwt>` and the `bearer.<jwt>` WebSocket subprotocol.
    (re.compile(rf"(?i)(\bbearer[ .]){_VALUE}"), ("bearer",)),
    # `"access": "<jwt>"`, `refresh=<jwt>`, `access_token: <jwt>` (login and refresh bodies).
    (
        re.compile(rf"""(?i)(\b(?:access|refresh)(?:_token)?["']?\s*[:=]\s*["']?){_VALUE}"""),
        ("access", "refresh"),
    ),
    # Any JWT on its own.
    (re.compile(r"()\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), ("eyj",)),
]


def redact(text: str) -> str:
    """`text` with every token value replaced by `[redacted]`."""
    folded = text.casefold()
    for pattern, words in _SECRETS:
        if any(word in folded for word in words):
            text = pattern.sub(rf"\g<1>{REDACTED}", text)
    return text


def _redact_argument(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, int | float):
        return value
    text = str(value)
    cleaned = redact(text)
    return value if cleaned == text else cleaned


#: What the WebSocket protocol under uvicorn writes on uvicorn's error logger for every socket.
_PER_SOCKET_LINES = frozenset({"connection open", "connection closed"})


class NoWebSocketAccessFilter(logging.Filter):
    """Drops the lines uvicorn writes on its error logger for every socket, whatever `--no-access-log`
    says: the handshake's access line (`<client> - "WebSocket <path>" [accepted]`, `403`, ...) and the
    protocol's "connection open" / "connection closed". The `ws` process opens thousands of sockets a
    second when a deploy reconnects them, and these lines cost a tenth of an open; sockets are counted
    by the `loship_websocket_connections` gauge instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg
        return not (
            isinstance(message, str)
            and (message.startswith('%s - "WebSocket %s"') or message in _PER_SOCKET_LINES)
        )


class RedactSecretsFilter(logging.Filter):
    """Removes token values (`token=...`, `Bearer ...`, `access`/`refresh`, any JWT) from a record's
    message and arguments.

    A record whose arguments are a mapping is rendered first and its message cleaned once: gunicorn's
    access line passes every request header, response header and WSGI variable (some sixty values) of
    which its format uses nine, and cleaning each of them cost more than serving a health check.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, Mapping) and _render_mapping(record):
            return True
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, Mapping):
            record.args = {key: _redact_argument(value) for key, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_redact_argument(value) for value in record.args)
        return True


def _render_mapping(record: logging.LogRecord) -> bool:
    """Put the record's finished, cleaned message in place of its template and arguments; False (the
    record untouched) when the template does not render, so the handler reports it as usual."""
    try:
        message = record.getMessage()
    except (KeyError, TypeError, ValueError):
        return False
    record.msg, record.args = redact(message), None
    return True


def utc_time(record: logging.LogRecord) -> str:
    """ISO-8601 in UTC with milliseconds and the offset: `2026-11-30T09:12:03.123+00:00`."""
    return datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")


#: Extras uvicorn puts on its records that say nothing in a JSON line (an ANSI-coloured copy of the
#: message, the protocol object).
_NOISE_FIELDS = ("color_message", "websocket")


class JsonFormatter(BaseJsonFormatter):
    """One JSON object per line; `request_id` is "-" outside a request or task."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return utc_time(record)

    def process_log_record(self, log_record: dict[str, Any]) -> dict[str, Any]:
        if log_record.get("request_id") is None:
            log_record["request_id"] = "-"
        for field in _NOISE_FIELDS:
            log_record.pop(field, None)
        return log_record

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class PlainFormatter(logging.Formatter):
    """Text lines for development, with the same times and the same redaction."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return utc_time(record)

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = "-"
        return redact(super().format(record))


#: Loggers a server process set up with its own handlers before Django configured logging.
SERVER_LOGGERS = ("uvicorn", "uvicorn.access", "gunicorn.error", "gunicorn.access", "daphne")


def configure_logging(config: dict[str, Any]) -> None:
    """Django's LOGGING_CONFIG: the dict config, Python warnings as log lines (not bare text), and the
    server's loggers through the project's handlers.

    A server logger that has handlers of its own gives them up and propagates to the root. Naming these
    loggers in the dict config instead would reset their levels and their children (dictConfig does),
    and uvicorn writes access lines whenever `uvicorn.access` has a handler: one it switched off with
    `--no-access-log` (no handler, no propagation) stays off.
    """
    logging.config.dictConfig(config)
    logging.captureWarnings(True)
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if logger.handlers:
            logger.handlers = []
            logger.propagate = True
