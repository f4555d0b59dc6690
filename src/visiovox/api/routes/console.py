"""The web console: its page at ``/`` and its files under ``/console/``, without a key.

The page asks for the API key itself and sends it on every call
(``Authorization``; ``?api_key=`` on WebSockets), so serving its files needs
none. ``/console/config.json`` tells the page whether a key is needed before
it makes a call that would be refused. A Content-Security-Policy keeps every
request the page makes on the gateway's own origin.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse

from visiovox.api.deps import SettingsDep
from visiovox.api.errors import ApiError
from visiovox.console import CONSOLE_FILES, MEDIA_TYPES

router = APIRouter(include_in_schema=False)

# 'self' only: nothing from a CDN, no inline script; blob: and data: for the previews
# the page makes from downloaded outputs and camera frames.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; "
    "worker-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


def _file(name: str) -> FileResponse:
    path = CONSOLE_FILES.get(name)
    if path is None:
        raise ApiError(404, "not_found", f"the console has no file {name[:64]!r}")
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=_HEADERS)


@router.get("/")
async def console_page() -> FileResponse:
    """The console's single page."""
    return _file("index.html")


@router.get("/console/config.json")
async def console_config(settings: SettingsDep) -> JSONResponse:
    """What the page needs before its first call: whether it must ask for a key."""
    return JSONResponse({"auth": settings.auth_enabled}, headers=_HEADERS)


@router.get("/console/{name:path}")
async def console_file(name: str) -> FileResponse:
    """One of the console's files (``CONSOLE_FILES``); any other name is 404."""
    return _file(name)
