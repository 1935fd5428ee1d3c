"""Partial responses: the ``fields`` mask (``sheets(properties(sheetId,title),protectedRanges)``)
parsed into a tree and applied to an answer, as on the metadata endpoint."""

from __future__ import annotations

import re
from typing import Any

from support.emulators.sheets.errors import ApiError
from support.emulators.sheets.routes import param
from support.emulators.sheets.state import SpreadsheetState

_MASK_FIELD = re.compile(r"\s*([A-Za-z_*][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*")


def parse_mask(text: str) -> dict[str, Any]:
    """A partial-response field mask (``a,b.c,d(e,f(g))``) as a tree; None leaves keep all."""
    tree: dict[str, Any] = {}
    position = 0

    def fields(into: dict[str, Any]) -> None:
        nonlocal position
        while position < len(text):
            match = _MASK_FIELD.match(text, position)
            if match is None:
                raise ApiError(400, f"Invalid field selection {text}")
            position = match.end()
            node: dict[str, Any] | None = into
            names = match.group(1).split(".")
            for name in names[:-1]:
                if node is None:
                    break
                # A field already selected whole stays so.
                node = None if name in node and node[name] is None else node.setdefault(name, {})
            if node is None:
                node = {}  # a detached tree: the field is already selected whole
            last = names[-1]
            if position < len(text) and text[position] == "(":
                position += 1
                sub = node.setdefault(last, {})
                if sub is None:
                    sub = node[last] = {}
                fields(sub)
                if position >= len(text) or text[position] != ")":
                    raise ApiError(400, f"Invalid field selection {text}")
                position += 1
            else:
                node[last] = None
            if position < len(text) and text[position] == ",":
                position += 1
                continue
            return

    fields(tree)
    if position != len(text):
        raise ApiError(400, f"Invalid field selection {text}")
    return tree


def _select(value: Any, tree: dict[str, Any] | None) -> Any:
    if tree is None or "*" in tree:
        return value
    if isinstance(value, list):
        return [_select(v, tree) for v in value]
    if not isinstance(value, dict):
        return value
    return {k: _select(value[k], sub) for k, sub in tree.items() if k in value}


def apply_fields(payload: dict[str, Any], mask: str) -> dict[str, Any]:
    """Keep only what the ``fields`` mask asks for, as Google's partial responses do."""
    return _select(payload, parse_mask(mask))


def get_metadata(state: SpreadsheetState, range_text: str | None,
                 query: dict[str, list[str]], body: Any) -> dict[str, Any]:
    """``GET /v4/spreadsheets/{id}``, through its ``fields`` mask when one is given."""
    mask = param(query, "fields", "")
    return apply_fields(state.metadata(), mask) if mask else state.metadata()
