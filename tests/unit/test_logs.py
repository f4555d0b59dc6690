"""Secrets never reach a log line: keys, bearer tokens and X-API-Key values become ***."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from visiovox.logs import LOG_FORMAT, RedactSecrets, install_redaction, redact

KEY = "vvk_AbC-12_xyz"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"GET /v1/jobs/1/ws?api_key={KEY}&after=0", "GET /v1/jobs/1/ws?api_key=***&after=0"),
        ("ws?api_key=plainsecret HTTP/1.1", "ws?api_key=*** HTTP/1.1"),
        ("Authorization: Bearer sk-other-secret", "Authorization: Bearer ***"),
        ("X-API-Key: sk-other-secret", "X-API-Key: ***"),
        ("(b'x-api-key', b'sk-other-secret')", "(b'x-api-key', b'***')"),
        ("{'X-Api-Key': 'sk-other-secret'}", "{'X-Api-Key': '***'}"),
        (f"unknown key {KEY}.", "unknown key ***."),
        ("nothing secret here", "nothing secret here"),
    ],
)
def test_redact(line: str, expected: str) -> None:
    assert redact(line) == expected


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    parent = logging.getLogger("test_logs_parent")
    parent.addHandler(handler)
    parent.setLevel(logging.DEBUG)
    install_redaction(parent)
    yield logging.getLogger("test_logs_parent.child"), stream
    parent.removeHandler(handler)


def test_a_child_loggers_records_are_redacted_by_the_handler(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logger.info('%s - "WebSocket %s" [accepted]', "127.0.0.1:5000", f"/ws?api_key={KEY}")
    logger.debug("headers %s", [(b"authorization", f"Bearer {KEY}".encode())])
    logger.warning("Bearer %s", "no-prefix-secret")
    assert KEY not in stream.getvalue()
    assert "no-prefix-secret" not in stream.getvalue()
    assert 'WebSocket /ws?api_key=***" [accepted]' in stream.getvalue()


def test_tracebacks_are_redacted(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    try:
        raise ValueError(f"bad key {KEY}")
    except ValueError:
        logger.exception("failed")
    assert "ValueError: bad key ***" in stream.getvalue()
    assert KEY not in stream.getvalue()


def test_arguments_keep_their_types_when_nothing_is_secret() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%d jobs on %s", (3, "w1"), None)
    assert RedactSecrets().filter(record)
    assert record.args == (3, "w1")
    assert record.getMessage() == "3 jobs on w1"


def test_access_log_arguments_stay_a_tuple() -> None:
    # uvicorn's AccessFormatter unpacks exactly these five arguments.
    args = ("127.0.0.1:1", "GET", f"/v1/x?api_key={KEY}", "1.1", 200)
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, "%s", args, None)
    RedactSecrets().filter(record)
    assert record.args == ("127.0.0.1:1", "GET", "/v1/x?api_key=***", "1.1", 200)


def test_install_is_idempotent() -> None:
    logger = logging.getLogger("test_logs_idempotent")
    handler = logging.NullHandler()
    logger.addHandler(handler)
    install_redaction(logger)
    install_redaction(logger)
    assert sum(isinstance(f, RedactSecrets) for f in logger.filters) == 1
    assert sum(isinstance(f, RedactSecrets) for f in handler.filters) == 1
    logger.removeHandler(handler)
