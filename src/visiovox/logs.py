"""Logging for every VisioVox process, with secrets taken out of every line.

uvicorn logs each WebSocket URL at INFO (``?api_key=vvk_…``) and the
``websockets`` library logs handshake headers at DEBUG, so a key could reach a
log file. ``RedactSecrets`` rewrites API keys (``vvk_…``), ``api_key=`` values,
``Bearer`` tokens and ``X-API-Key`` values to ``***`` in a record's message, its
arguments and its traceback. A filter on a logger sees only the records logged
to that logger, not those its children propagate, so ``install_redaction``
puts it on each logger's handlers too.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

REDACTED = "***"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The root logger (every module's records reach its handlers) and uvicorn's own,
# which have handlers of their own and do not propagate to the root.
LOGGER_NAMES = ("", "uvicorn", "uvicorn.error", "uvicorn.access")

# (pattern, replacement): what precedes the secret is kept, the secret becomes ***.
_SECRETS = (
    (re.compile(r"vvk_[A-Za-z0-9_\-]+"), REDACTED),
    (re.compile(r"(api[_-]?key=)[^&\s\"'#;,]+", re.IGNORECASE), r"\1" + REDACTED),
    (re.compile(r"(\bbearer\s+)[^\s\"',;)]+", re.IGNORECASE), r"\1" + REDACTED),
    # "X-API-Key: k", "'x-api-key': 'k'", "(b'x-api-key', b'k')"
    (
        re.compile(r"(x-api-key['\"]?\s*[:=,]\s*b?['\"]?)[^\s\"',;)]+", re.IGNORECASE),
        r"\1" + REDACTED,
    ),
)
_TRACEBACKS = logging.Formatter()


def redact(text: str) -> str:
    """``text`` with every API key, bearer token and ``X-API-Key`` value replaced by ``***``."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def _redact_arg(arg: object) -> object:
    if isinstance(arg, str):
        return redact(arg)
    if isinstance(arg, bytes):
        text = arg.decode("latin-1")
        clean = redact(text)
        return arg if clean == text else clean.encode("latin-1")
    return arg


def _redact_args(args: Any) -> Any:
    if isinstance(args, tuple):
        return tuple(_redact_arg(arg) for arg in args)
    if isinstance(args, Mapping):
        return {name: _redact_arg(value) for name, value in args.items()}
    return args


class RedactSecrets(logging.Filter):
    """Rewrites secrets in a record's message, arguments, traceback and stack to ``***``.

    Arguments are redacted one by one, so formatters that read them (uvicorn's
    access log) still work; a secret only the formatted line shows (split
    between the message and an argument, or inside an object's ``str``) makes
    the record carry its redacted line instead.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.args = _redact_args(record.args)
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: the handler reports it as usual
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(_TRACEBACKS.formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _add_once(target: logging.Logger | logging.Handler) -> None:
    if not any(isinstance(f, RedactSecrets) for f in target.filters):
        target.addFilter(RedactSecrets())


def install_redaction(*loggers: logging.Logger) -> None:
    """Put ``RedactSecrets`` on ``loggers`` (default: root and uvicorn's) and their handlers.

    Idempotent; call it again after anything (uvicorn, Celery) replaces handlers.
    """
    for logger in loggers or tuple(logging.getLogger(name) for name in LOGGER_NAMES):
        _add_once(logger)
        for handler in logger.handlers:
            _add_once(handler)


def setup_logging(level: str) -> None:
    """The process's log format and level, with secrets redacted from every line."""
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT)
    install_redaction()
