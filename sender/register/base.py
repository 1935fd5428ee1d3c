"""The register interface shared by the SQLite and Google Sheets backends.

A register is a set of tabs; each tab has a header row and data rows of text. Rows are addressed
by an opaque integer key (sheet row number, SQLite rowid) that stays valid between a read and
the write that follows it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sender.register.protection import Protection
from sender.tables import CellChange, Table


@dataclass(slots=True)
class InitReport:
    """What `initialiser` did; empty lists mean the register was already complete."""

    created_tabs: list[str] = field(default_factory=list)
    added_columns: list[str] = field(default_factory=list)
    added_rows: list[str] = field(default_factory=list)
    formatting: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # things a person should fix

    @property
    def changed(self) -> bool:
        return bool(self.created_tabs or self.added_columns or self.added_rows or self.formatting)


class Register(ABC):
    """Tabs of rows with headers. Implementations must make `read` and `write` one round trip."""

    @abstractmethod
    def describe(self) -> str:
        """Where the register lives, in French, for messages to users."""

    @abstractmethod
    def read(self, tabs: Sequence[str]) -> dict[str, Table]:
        """Read all rows of the given tabs in one request. Missing tabs come back empty."""

    def reread(self, tabs: Sequence[str]) -> dict[str, Table]:
        """Read tabs again (one request) without changing which rows the keys of the last
        `read` designate: a running dispatch looks at its row while the cycle's later write
        still uses the keys of the cycle's read. Registers whose keys never move (SQLite row
        ids) simply read."""
        return self.read(tabs)

    @abstractmethod
    def write(self, changes: Iterable[CellChange]) -> int:
        """Apply cell changes in one request; return the number of cells written."""

    @abstractmethod
    def append(self, tab: str, rows: Sequence[Mapping[str, str]]) -> list[int]:
        """Append rows (missing columns left empty); return their keys."""

    @abstractmethod
    def delete_rows(self, tab: str, keys: Sequence[int]) -> int:
        """Delete whole rows of the last read of `tab`, found by identity as `write` finds
        them (a row moved since is still found, one deleted since is skipped, a key this
        register did not read is never taken for a position); return the number of rows
        deleted. The other keys of that read must not be used afterwards: read again."""

    @abstractmethod
    def initialise(self) -> InitReport:
        """Create missing tabs, headers and default rows. Idempotent."""

    def protections(self) -> Mapping[str, Sequence[Protection]] | None:
        """The current protections of the tabs that decide who may send alerts (`Alertes`,
        `Habilitations`), read afresh; None when the register has no such notion (a local
        file: whoever can write it can write alerts)."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""

    def __enter__(self) -> Register:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
