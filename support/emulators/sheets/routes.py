"""Which endpoint a request path names, and the reading of its query parameters."""

from __future__ import annotations

import re
from urllib.parse import unquote

from support.emulators.sheets.errors import ApiError

_PLAIN = {
    ("GET", ""): "get_metadata",
    ("POST", ":batchUpdate"): "batch_update",
    ("GET", "/values:batchGet"): "values_batch_get",
    ("POST", "/values:batchUpdate"): "values_batch_update",
    ("POST", "/values:batchClear"): "values_batch_clear",
}


def route(method: str, path: str) -> tuple[str, str, str | None]:
    """Return (kind, spreadsheet key, range or None) for a request path."""
    match = re.match(r"^/v4/spreadsheets/([^/:]+)(.*)$", path)
    if not match:
        raise ApiError(404, f"Method not found: {method} {path}")
    key, rest = match.group(1), match.group(2)
    if (method, rest) in _PLAIN:
        return _PLAIN[(method, rest)], key, None
    if rest.startswith("/values/"):
        encoded = rest[len("/values/") :]
        for suffix, kind in ((":append", "values_append"), (":clear", "values_clear")):
            if method == "POST" and encoded.endswith(suffix):
                return kind, key, unquote(encoded[: -len(suffix)])
        if method == "GET":
            return "values_get", key, unquote(encoded)
        if method == "PUT":
            return "values_update", key, unquote(encoded)
    raise ApiError(404, f"Method not found: {method} {path}")


def param(query: dict[str, list[str]], name: str, default: str) -> str:
    """The last value of a query parameter, as Google reads a repeated one."""
    values = query.get(name)
    return values[-1] if values else default
