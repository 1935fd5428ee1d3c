"""A small spreadsheet formula evaluator for the Sheets emulator.

Formulas come as the Sheets API takes them whatever the spreadsheet's locale: English function
names, `,` between arguments, `.` in decimals. Supported: numbers, "strings" (`""` escapes a
quote), booleans, cell and range references (`B2`, `Etat!A:B`, `'Mon onglet'!A1:C9`), the
operators `+ - * / ^ &` and `= <> < > <= >=`, and the functions below. Anything else is `#NAME?`,
as Google shows an unknown function. Dates are serial numbers (days since 1899-12-30, fractions
for the time of day); `NOW()` is what the context says it is, which is how the emulator plays the
spreadsheet's recalculation setting (`autoRecalc`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

EPOCH = datetime(1899, 12, 30)


class FormulaError(Exception):
    """A spreadsheet error value (`#N/A`, `#VALUE!`, `#NAME?`, `#REF!`, `#DIV/0!`)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Range:
    sheet: str | None
    r0: int
    r1: int | None  # exclusive; None: to the end
    c0: int
    c1: int | None


@dataclass
class Context:
    """What a formula can see: cells by (sheet or None for its own, row, column), and now."""

    cell: Callable[[str | None, int, int], Any]
    height: Callable[[str | None], int]
    now: datetime


def serial(moment: datetime) -> float:
    return (moment.replace(tzinfo=None) - EPOCH).total_seconds() / 86400


_TOKEN = re.compile(
    r"""\s*(?:
    (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+) |
    (?P<string>"(?:[^"]|"")*") |
    (?P<ref>(?:(?:'(?:[^']|'')+'|[A-Za-z_][A-Za-z0-9_]*)!)?\$?[A-Za-z]{1,3}\$?\d*
        (?::\$?[A-Za-z]{1,3}\$?\d*)?(?![A-Za-z0-9_(])) |
    (?P<name>[A-Za-z_][A-Za-z0-9_.]*) |
    (?P<op><>|<=|>=|[-+*/^&=<>(),])
    )""",
    re.X,
)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise FormulaError("#ERROR!")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _column(letters: str) -> int:
    value = 0
    for ch in letters.upper():
        value = value * 26 + ord(ch) - 64
    return value - 1


def _reference(text: str) -> Range:
    sheet: str | None = None
    if "!" in text:
        name, _, text = text.rpartition("!")
        sheet = name[1:-1].replace("''", "'") if name.startswith("'") else name
    text = text.replace("$", "")
    start, _, end = text.partition(":")
    part = re.compile(r"([A-Za-z]{1,3})(\d*)")
    first = part.fullmatch(start)
    last = part.fullmatch(end or start)
    if first is None or last is None:
        raise FormulaError("#REF!")
    r0 = int(first.group(2)) - 1 if first.group(2) else 0
    r1 = int(last.group(2)) if last.group(2) else None
    return Range(sheet, r0, r1, _column(first.group(1)), _column(last.group(1)) + 1)


class _Parser:
    """Precedence climbing over the tokens; evaluates as it parses (no side effects)."""

    LEVELS = (("=", "<>", "<", ">", "<=", ">="), ("&",), ("+", "-"), ("*", "/"), ("^",))

    def __init__(self, tokens: list[tuple[str, str]], context: Context) -> None:
        self.tokens = tokens
        self.index = 0
        self.context = context

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise FormulaError("#ERROR!")
        self.index += 1
        return token

    def expression(self, level: int = 0) -> Any:
        if level == len(self.LEVELS):
            return self.unary()
        left = self.expression(level + 1)
        while (token := self.peek()) is not None and token[0] == "op" and (
            token[1] in self.LEVELS[level]
        ):
            self.take()
            left = _binary(token[1], left, self.expression(level + 1))
        return left

    def unary(self) -> Any:
        token = self.peek()
        if token is not None and token[1] in ("-", "+"):
            self.take()
            value = _number(_scalar(self.unary()))
            return -value if token[1] == "-" else value
        return self.primary()

    def primary(self) -> Any:
        kind, text = self.take()
        if kind == "number":
            return float(text)
        if kind == "string":
            return text[1:-1].replace('""', '"')
        if kind == "ref":
            return self.fetch(_reference(text))
        if kind == "name":
            upper = text.upper()
            if upper in ("TRUE", "FALSE") and (self.peek() or ("", ""))[1] != "(":
                return upper == "TRUE"
            self.take("(")
            return self.call(upper)
        if text == "(":
            value = self.expression()
            self.take(")")
            return value
        raise FormulaError("#ERROR!")

    def arguments(self) -> list[Callable[[], Any]]:
        """Each argument as a thunk (IF and IFERROR evaluate only what they need)."""
        thunks: list[Callable[[], Any]] = []
        if (self.peek() or ("", ""))[1] == ")":
            self.take(")")
            return thunks
        while True:
            start = self.index
            depth = 0
            while True:
                token = self.peek()
                if token is None:
                    raise FormulaError("#ERROR!")
                if token[1] == "(":
                    depth += 1
                elif token[1] == ")":
                    if depth == 0:
                        break
                    depth -= 1
                elif token[1] == "," and depth == 0:
                    break
                self.index += 1
            thunks.append(self.thunk(self.tokens[start:self.index]))
            separator = self.take()[1]
            if separator == ")":
                return thunks

    def thunk(self, tokens: list[tuple[str, str]]) -> Callable[[], Any]:
        def run() -> Any:
            parser = _Parser(tokens, self.context)
            value = parser.expression()
            if parser.peek() is not None:
                raise FormulaError("#ERROR!")
            return value

        return run

    def call(self, name: str) -> Any:
        function = FUNCTIONS.get(name)
        args = self.arguments()
        if function is None:
            raise FormulaError("#NAME?")
        return function(self.context, args)

    def fetch(self, ref: Range) -> Any:
        if ref.r1 == ref.r0 + 1 and ref.c1 == ref.c0 + 1:
            return self.context.cell(ref.sheet, ref.r0, ref.c0)
        r1 = ref.r1 if ref.r1 is not None else self.context.height(ref.sheet)
        c1 = ref.c1 if ref.c1 is not None else ref.c0 + 1
        return [
            [self.context.cell(ref.sheet, r, c) for c in range(ref.c0, c1)]
            for r in range(ref.r0, r1)
        ]


def _scalar(value: Any) -> Any:
    if isinstance(value, list):
        raise FormulaError("#VALUE!")
    return value


def _number(value: Any) -> float:
    value = _scalar(value)
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if value is None or value == "":
        return 0.0
    try:
        return float(str(value).strip().replace(",", "."))
    except ValueError:
        raise FormulaError("#VALUE!") from None


def _text(value: Any) -> str:
    value = _scalar(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _binary(op: str, left: Any, right: Any) -> Any:
    if op == "&":
        return _text(left) + _text(right)
    if op in ("=", "<>", "<", ">", "<=", ">="):
        a, b = _scalar(left), _scalar(right)
        if isinstance(a, str) or isinstance(b, str):
            a, b = _text(a).casefold(), _text(b).casefold()
        else:
            a, b = _number(a), _number(b)
        return {"=": a == b, "<>": a != b, "<": a < b, ">": a > b, "<=": a <= b,
                ">=": a >= b}[op]
    a, b = _number(left), _number(right)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        if b == 0:
            raise FormulaError("#DIV/0!")
        return a / b
    return a ** b


def _need(args: list[Callable[[], Any]], low: int, high: int) -> None:
    if not low <= len(args) <= high:
        raise FormulaError("#N/A")


def _if(context: Context, args: list[Callable[[], Any]]) -> Any:
    _need(args, 2, 3)
    condition = _scalar(args[0]())
    truth = condition if isinstance(condition, bool) else _number(condition) != 0
    if truth:
        return args[1]()
    return args[2]() if len(args) == 3 else False


def _iferror(context: Context, args: list[Callable[[], Any]]) -> Any:
    _need(args, 1, 2)
    try:
        return _scalar(args[0]())
    except FormulaError:
        return args[1]() if len(args) == 2 else ""


def _vlookup(context: Context, args: list[Callable[[], Any]]) -> Any:
    _need(args, 3, 4)
    wanted, table, column = _text(args[0]()).casefold(), args[1](), int(_number(args[2]()))
    exact = len(args) == 3 or not _number(args[3]())
    if not isinstance(table, list) or column < 1:
        raise FormulaError("#REF!")
    if not exact:
        raise FormulaError("#N/A")  # sorted lookups are not played
    for row in table:
        if row and _text(row[0]).casefold() == wanted:
            if column > len(row):
                raise FormulaError("#REF!")
            return row[column - 1]
    raise FormulaError("#N/A")


def _date(context: Context, args: list[Callable[[], Any]]) -> Any:
    _need(args, 3, 3)
    year, month, day = (int(_number(a())) for a in args)
    try:
        return serial(datetime(year, month, day))
    except ValueError:
        raise FormulaError("#NUM!") from None


def _time(context: Context, args: list[Callable[[], Any]]) -> Any:
    _need(args, 3, 3)
    hours, minutes, seconds = (_number(a()) for a in args)
    return ((hours * 3600 + minutes * 60 + seconds) / 86400) % 1


def _mid(context: Context, args: list[Callable[[], Any]]) -> Any:
    _need(args, 3, 3)
    text, start, length = _text(args[0]()), int(_number(args[1]())), int(_number(args[2]()))
    if start < 1 or length < 0:
        raise FormulaError("#VALUE!")
    return text[start - 1:start - 1 + length]


def _left(context: Context, args: list[Callable[[], Any]]) -> Any:
    _need(args, 1, 2)
    count = int(_number(args[1]())) if len(args) == 2 else 1
    return _text(args[0]())[:count]


def _value(context: Context, args: list[Callable[[], Any]]) -> Any:
    _need(args, 1, 1)
    value = _scalar(args[0]())
    if isinstance(value, str) and not value.strip():
        raise FormulaError("#VALUE!")
    return _number(value)


def _now(context: Context, args: list[Callable[[], Any]]) -> Any:
    _need(args, 0, 0)
    return serial(context.now)


def _and(context: Context, args: list[Callable[[], Any]]) -> Any:
    return all(_number(a()) != 0 for a in args)


def _or(context: Context, args: list[Callable[[], Any]]) -> Any:
    return any(_number(a()) != 0 for a in args)


def _not(context: Context, args: list[Callable[[], Any]]) -> Any:
    _need(args, 1, 1)
    return _number(args[0]()) == 0


def _int(context: Context, args: list[Callable[[], Any]]) -> Any:
    _need(args, 1, 1)
    return float(int(_number(args[0]()) // 1))


FUNCTIONS: dict[str, Callable[[Context, list[Callable[[], Any]]], Any]] = {
    "IF": _if, "IFERROR": _iferror, "VLOOKUP": _vlookup, "DATE": _date, "TIME": _time,
    "MID": _mid, "LEFT": _left, "VALUE": _value, "NOW": _now, "AND": _and, "OR": _or,
    "NOT": _not, "INT": _int,
}


def evaluate(formula: str, context: Context) -> Any:
    """The value of `formula` (with its leading `=`): a number, text or boolean; a spreadsheet
    error as `FormulaError`."""
    parser = _Parser(_tokens(formula.lstrip()[1:]), context)
    value = parser.expression()
    if parser.peek() is not None:
        raise FormulaError("#ERROR!")
    return _scalar(value)
