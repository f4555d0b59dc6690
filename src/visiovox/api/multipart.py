"""A streaming ``multipart/form-data`` reader that writes file parts straight to storage.

Starlette's own parser spools file parts with no total cap, so the gateway
parses ``request.stream()`` itself with python-multipart's callback parser:
every body byte is counted as it arrives and the request stops at once past
the cap. File parts are written under server-chosen names (the field name),
each into a ``FileSink`` (a local file, or an upload to the storage backend
that keeps a local copy), and hashed (SHA-256) as they are written; text parts
are kept in memory, each capped. A text field sent twice is refused (422
``repeated_field``): every param is one value, so 10,000 copies of one are an
attack, not a request; only names
ending in ``[]`` (OpenAI's ``timestamp_granularities[]``) and ``webhook_events``
(``api/webhook_options.py``) are lists.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

import anyio.to_thread
from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header

from visiovox.api.errors import ApiError

MAX_TEXT_FIELD_BYTES = 64 * 1024
MAX_TEXT_FIELDS = 100
# Submission options that may be repeated, each repeat one more value.
LIST_FIELDS = frozenset({"webhook_events"})
# Written to disk (in a worker thread) once this much file data is buffered.
_FLUSH_BYTES = 1024 * 1024


def too_large(max_bytes: int) -> ApiError:
    return ApiError(413, "upload_too_large", f"the request body is over the {max_bytes}-byte cap")


def invalid_multipart(message: str) -> ApiError:
    return ApiError(400, "invalid_multipart", message)


class FileSink(Protocol):
    """Where one file part goes; ``path`` is a local file holding what was written."""

    path: Path

    def write(self, data: bytes) -> None: ...

    def close(self) -> None:
        """All of the part is in."""

    def abort(self) -> None:
        """The body failed: drop what was written."""


class LocalFileSink:
    """A file part written to a local file (its folder made)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._handle: BinaryIO = path.open("wb")

    def write(self, data: bytes) -> None:
        self._handle.write(data)

    def close(self) -> None:
        self._handle.close()

    def abort(self) -> None:
        self._handle.close()
        self.path.unlink(missing_ok=True)


@dataclass
class ReceivedFile:
    """A file part now stored through ``sink``; ``filename`` is the client's, metadata only."""

    field: str
    sink: FileSink
    filename: str | None
    size: int = 0
    # dataclasses.field: the name ``field`` is this class's first attribute.
    digest: hashlib._Hash = dataclasses.field(default_factory=hashlib.sha256, repr=False)

    @property
    def path(self) -> Path:
        """A local file with the part's bytes (to sniff and probe)."""
        return self.sink.path

    @property
    def sha256(self) -> str:
        """The hex SHA-256 of the bytes written so far (all of them once parsing ended)."""
        return self.digest.hexdigest()


FieldValue = str | list[str]


def add_field(fields: dict[str, FieldValue], name: str, value: str) -> None:
    """Add one form field: a second value of a scalar field is 422 ``repeated_field``."""
    if name.endswith("[]") or name in LIST_FIELDS:
        previous = fields.setdefault(name, [])
        assert isinstance(previous, list)
        previous.append(value)
    elif name in fields:
        raise ApiError(422, "repeated_field", f"the field {name[:64]!r} was sent more than once")
    else:
        fields[name] = value


@dataclass
class ReceivedForm:
    fields: dict[str, FieldValue] = field(default_factory=dict)
    files: list[ReceivedFile] = field(default_factory=list)


async def capped_chunks(chunks: AsyncIterator[bytes], *, max_bytes: int) -> AsyncIterator[bytes]:
    """``chunks`` as they come, failing with 413 the moment their total passes ``max_bytes``."""
    total = 0
    async for chunk in chunks:
        total += len(chunk)
        if total > max_bytes:
            raise too_large(max_bytes)
        yield chunk


class _FormCollector:
    """python-multipart callbacks: collects text parts, queues file data for writing."""

    def __init__(self, *, open_file: Callable[[str], FileSink]) -> None:
        self._open_file = open_file
        self.form = ReceivedForm()
        self.ended = False
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, bytes] = {}
        self._text: bytearray | None = None
        self._text_name = ""
        self._file: ReceivedFile | None = None
        self._handle: FileSink | None = None
        self._pending: list[tuple[FileSink, ReceivedFile, bytes | None]] = []
        self._opened: list[FileSink] = []
        self.pending_bytes = 0

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda d, s, e: self._header_name.extend(d[s:e]),
            "on_header_value": lambda d, s, e: self._header_value.extend(d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._headers = {}

    def _header_end(self) -> None:
        self._headers[self._header_name.decode("latin-1").lower()] = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get("content-disposition"))
        name = options.get(b"name")
        if disposition != b"form-data" or not name:
            raise invalid_multipart("every part needs Content-Disposition: form-data; name=...")
        field_name = name.decode("utf-8", errors="replace")
        if b"filename" not in options:
            if len(self.form.fields) >= MAX_TEXT_FIELDS:
                raise invalid_multipart(f"more than {MAX_TEXT_FIELDS} form fields")
            self._text, self._text_name = bytearray(), field_name
            return
        if any(f.field == field_name for f in self.form.files):
            raise ApiError(400, "duplicate_input", f"the file field {field_name!r} was sent twice")
        sink = self._open_file(field_name)  # raises for fields the pipeline does not take
        self._opened.append(sink)
        filename = options[b"filename"].decode("utf-8", errors="replace")
        self._file = ReceivedFile(field=field_name, sink=sink, filename=filename[-255:] or None)
        self.form.files.append(self._file)
        self._handle = sink

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._text is not None:
            self._text.extend(data[start:end])
            if len(self._text) > MAX_TEXT_FIELD_BYTES:
                raise ApiError(
                    413,
                    "field_too_large",
                    f"the form field {self._text_name!r} is over {MAX_TEXT_FIELD_BYTES} bytes",
                )
        elif self._file is not None and self._handle is not None:
            self._file.size += end - start
            self._pending.append((self._handle, self._file, data[start:end]))
            self.pending_bytes += end - start

    def _part_end(self) -> None:
        if self._text is not None:
            try:
                add_field(self.form.fields, self._text_name, self._text.decode("utf-8"))
            except UnicodeDecodeError as exc:
                raise invalid_multipart(f"the field {self._text_name!r} is not UTF-8") from exc
            self._text = None
        elif self._handle is not None and self._file is not None:
            self._pending.append((self._handle, self._file, None))
            self._handle, self._file = None, None

    def _end(self) -> None:
        self.ended = True

    @property
    def must_flush(self) -> bool:
        return self.pending_bytes >= _FLUSH_BYTES or any(d is None for _, _, d in self._pending)

    def flush(self) -> None:
        """Write and hash queued file data, close finished files (run in a worker thread)."""
        pending, self._pending, self.pending_bytes = self._pending, [], 0
        for handle, received, data in pending:
            if data is None:
                handle.close()
            else:
                handle.write(data)
                received.digest.update(data)

    def abort_all(self) -> None:
        """Drop every file this form opened (a worker thread: an abort may be a network call)."""
        self._pending, self.pending_bytes, self._handle = [], 0, None
        for sink in self._opened:
            sink.abort()


async def read_multipart(
    chunks: AsyncIterator[bytes], *, boundary: bytes, open_file: Callable[[str], FileSink]
) -> ReceivedForm:
    """Parse a multipart body from ``chunks``; ``open_file(field)`` says where a file part goes.

    When this raises, every sink opened is aborted first (shielded from cancellation).
    """
    collector = _FormCollector(open_file=open_file)
    try:
        parser = MultipartParser(boundary, collector.callbacks())  # type: ignore[arg-type]
    except FormParserError as exc:
        raise invalid_multipart(f"bad multipart boundary: {exc}") from exc
    try:
        async for chunk in chunks:
            try:
                parser.write(chunk)
            except FormParserError as exc:
                raise invalid_multipart(f"malformed multipart body: {exc}") from exc
            if collector.must_flush:
                await anyio.to_thread.run_sync(collector.flush)
        if collector.pending_bytes or collector.must_flush:
            await anyio.to_thread.run_sync(collector.flush)
        if not collector.ended:
            raise invalid_multipart("the multipart body ended before its closing boundary")
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(collector.abort_all)
        raise
    return collector.form
