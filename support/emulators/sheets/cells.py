"""Cell values: what a French-locale sheet makes of typed text (numbers, dates, formulas), how
a cell renders for each ``valueRenderOption``, and the trimming of answered grids."""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class Cell:
    """A non-string cell: number, boolean, date serial or formula result."""

    value: Any
    formatted: str
    formula: str | None = None
    dynamic: bool = False  # functions or references: evaluated when read (see `recalc`)


def _format_number(value: float | int) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return format(value, ".15g").replace(".", ",")


def number_cell(value: float | int | bool) -> Cell:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    return Cell(value, _format_number(value))


_NUMBER_RE = re.compile(r"^[+-]?(\d+(,\d*)?|,\d+)([eE][+-]?\d+)?$")
_DATE_RE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_EPOCH = datetime(1899, 12, 30)
_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}


def _arithmetic(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _arithmetic(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _arithmetic(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_arithmetic(node.left), _arithmetic(node.right))
    raise ValueError("not arithmetic")


def _formula(text: str) -> Cell:
    expression = text[1:].replace("^", "**").replace(",", ".")
    try:
        result = _arithmetic(ast.parse(expression, mode="eval"))
    except (SyntaxError, ValueError, ZeroDivisionError, OverflowError):
        return Cell(None, "", text, dynamic=True)
    cell = number_cell(result)
    cell.formula = text
    return cell


def user_entered(text: str) -> str | Cell:
    """Parse a value as a French-locale Google Sheet would when a user types it."""
    if text.startswith("'"):
        return text[1:]
    stripped = text.strip()
    if stripped.startswith("=") and len(stripped) > 1:
        return _formula(stripped)
    if _NUMBER_RE.match(stripped):
        number = float(stripped.replace(",", "."))
        return number_cell(int(number) if number.is_integer() and abs(number) < 1e15 else number)
    if stripped.upper() in ("TRUE", "FALSE", "VRAI", "FAUX"):
        value = stripped.upper() in ("TRUE", "VRAI")
        return Cell(value, "TRUE" if value else "FALSE")
    match = _DATE_RE.match(stripped)
    if match:
        day, month, year, hour, minute, second = match.groups()
        try:
            moment = datetime(
                int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
            )
        except ValueError:
            return text
        serial = (moment - _EPOCH).total_seconds() / 86400
        shown = moment.strftime("%d/%m/%Y %H:%M:%S" if hour else "%d/%m/%Y")
        return Cell(int(serial) if serial.is_integer() else serial, shown)
    return text


def is_empty(cell: Any) -> bool:
    return cell is None or cell == ""


def render(cell: Any, option: str) -> Any:
    if isinstance(cell, Cell):
        if option == "FORMATTED_VALUE":
            return cell.formatted
        if option == "FORMULA" and cell.formula is not None:
            return cell.formula
        return cell.value
    return "" if cell is None else cell


def trimmed(rows: Iterable[list[Any]]) -> list[list[Any]]:
    result: list[list[Any]] = []
    for row in rows:
        end = len(row)
        while end and is_empty(row[end - 1]):
            end -= 1
        result.append(row[:end])
    while result and not result[-1]:
        result.pop()
    return result


def transpose(rows: list[list[Any]]) -> list[list[Any]]:
    width = max((len(r) for r in rows), default=0)
    return [[row[i] if i < len(row) else None for row in rows] for i in range(width)]
