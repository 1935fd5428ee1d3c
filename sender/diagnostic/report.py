"""The diagnostic's answer: one line per check."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

LOCAL = "mode local"


class Status(Enum):
    OK = "✓"
    WARN = "!"
    FAIL = "✗"


@dataclass(frozen=True)
class Line:
    """One check: its French title, status, what was found and what to do (when not ✓)."""

    title: str
    status: Status
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"controle": self.title, "etat": self.status.value, "detail": self.detail,
                "a_faire": self.fix}


def ok(title: str, detail: str) -> Line:
    return Line(title, Status.OK, detail)


def local(title: str, detail: str) -> Line:
    """A check that does not apply to the local default: ✓, saying « mode local »."""
    return Line(title, Status.OK, f"{LOCAL} : {detail}")


def warn(title: str, detail: str, fix: str) -> Line:
    return Line(title, Status.WARN, detail, fix)


def fail(title: str, detail: str, fix: str) -> Line:
    return Line(title, Status.FAIL, detail, fix)


def blocking(lines: Iterable[Line]) -> bool:
    """True when a line blocks sending (✗)."""
    return any(line.status is Status.FAIL for line in lines)
