"""The web console's files: plain HTML, ES modules and CSS, served as they are (no build step).

``api/routes/console.py`` serves them; ``CONSOLE_FILES`` is every file the
console has, found once, so a request can name only one of them.
"""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).parent / "static"

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}

CONSOLE_FILES: dict[str, Path] = {
    path.relative_to(STATIC).as_posix(): path
    for path in sorted(STATIC.rglob("*"))
    if path.is_file() and path.suffix in MEDIA_TYPES
}
