"""Locate files of the built static site safely (no traversal, no hidden files)."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Final

_TYPES: Final[dict[str, str]] = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".pdf": "application/pdf",
    ".webmanifest": "application/manifest+json",
}


def content_type(path: Path) -> str:
    """Content type for a file name; text types carry `charset=utf-8`."""
    suffix = path.suffix.lower()
    if path.name.lower().endswith((".atom.xml", ".atom")):
        return _TYPES[".atom"]
    if suffix in _TYPES:
        return _TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path.name)
    if guessed is None:
        return "application/octet-stream"
    if guessed.startswith("text/"):
        return guessed + "; charset=utf-8"
    return guessed


@dataclass(frozen=True, slots=True)
class Located:
    """`file` to serve, or `redirect` (a local path ending in /), or neither: not found."""

    file: Path | None = None
    redirect: str | None = None


NOT_FOUND: Final = Located()


def decode_path(path_info: str) -> str | None:
    """WSGI gives the path as latin-1 characters of the raw bytes; the URL itself is UTF-8."""
    try:
        return path_info.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None


def locate(site_root: Path, path: str) -> Located:
    """Find the file for a decoded URL path inside `site_root` (already resolved).

    Refuses `..`, hidden names, back-slashes, NUL and anything that resolves (through symbolic
    links) outside the site. A directory asked without its final slash is redirected.
    """
    if "\x00" in path or "\\" in path or not path.startswith("/"):
        return NOT_FOUND
    parts = [part for part in path.split("/") if part]
    if any(part.startswith(".") or ":" in part for part in parts):
        return NOT_FOUND
    try:
        real = site_root.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        return NOT_FOUND
    if not real.is_relative_to(site_root):
        return NOT_FOUND
    if real.is_dir():
        if parts and not path.endswith("/"):
            return Located(redirect="/" + "/".join(parts) + "/")
        try:
            real = (real / "index.html").resolve(strict=True)
        except (OSError, RuntimeError):
            return NOT_FOUND
        if not real.is_relative_to(site_root):
            return NOT_FOUND
    if not real.is_file():
        return NOT_FOUND
    return Located(file=real)
