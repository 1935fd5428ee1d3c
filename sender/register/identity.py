"""Which row a write is meant for, whatever staff did to the tab since it was read.

Row keys (sheet row numbers, SQLite row ids) are what a read returns, but between a read and
the write that follows — seconds, or hours for a dispatch held back by the daily limit — a clerk
may sort the tab, insert or delete rows, insert or move columns. A write therefore targets rows
by identity:

- the `id` of `Inscriptions` and `Alertes`, the `cle` of `Etat`;
- for rows without one (a row typed by hand before the sender gave it an id, the other tabs) or
  sharing one, the values of the row's cells that the sender never writes (its fingerprint).

`Identities` remembers, for each tab, the identity of every row of the last read; `locate` finds
where those rows are now in a fresh copy of the tab. Pure functions: the backends do the I/O.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sender import schema
from sender.register.ids import numeric_id
from sender.tables import Row

IDENTITY_COLUMN: dict[str, str] = {
    schema.INSCRIPTIONS: "id",
    schema.ALERTES: "id",
    schema.ETAT: "cle",
}

# Cells the sender writes (they change after a read) never identify a row.
_WRITTEN: dict[str, frozenset[str]] = {
    schema.INSCRIPTIONS: frozenset({"id", *schema.SENDER_COLUMNS[schema.INSCRIPTIONS]}),
    schema.ALERTES: frozenset({"id", "statut", *schema.SENDER_COLUMNS[schema.ALERTES]}),
    schema.DESINSCRIPTIONS: frozenset(schema.SENDER_COLUMNS[schema.DESINSCRIPTIONS]),
    schema.ETAT: frozenset({"valeur", "mis_a_jour"}),
}


TRACKED_TABS = frozenset(_WRITTEN)


@dataclass(frozen=True, slots=True)
class RowIdentity:
    ident: str  # the id (or `cle`) cell, stripped; "" when the row has none or the tab none
    fingerprint: int  # hash of the cells the sender never writes


def identity_of(tab: str, values: Mapping[str, str]) -> RowIdentity:
    column = IDENTITY_COLUMN.get(tab)
    ident = str(values.get(column, "") or "").strip() if column else ""
    written = _WRITTEN.get(tab, frozenset())
    # A set, not a tuple: moving a column must not change it; empty cells left out: adding a
    # column must not either.
    content = frozenset(
        (name, text) for name, value in values.items()
        if name not in written and (text := str(value or "").strip())
    )
    return RowIdentity(ident, hash(content))


NO_FINGERPRINT = 0  # a row told apart by its id alone: its content was not kept


class _TabIdentities:
    """One tab's identities, compact: rows with a unique id written as a plain number (the usual
    case) cost two array slots, not objects — 100,000 sign-ups take about 1.6 MB."""

    __slots__ = ("idents", "keys", "other")

    def __init__(self) -> None:
        self.keys = array("q")  # ascending row keys of rows with a plain numeric id
        self.idents = array("q")  # their id
        self.other: dict[int, RowIdentity] = {}  # every other row

    def put(self, key: int, identity: RowIdentity) -> None:
        ident = identity.ident
        number = numeric_id(ident) if identity.fingerprint == NO_FINGERPRINT else None
        plain = number is not None and str(number) == ident
        if plain and (not self.keys or key > self.keys[-1]) and key not in self.other:
            self.keys.append(key)
            self.idents.append(int(ident))
        else:
            self._drop_plain(key)
            self.other[key] = identity

    def _drop_plain(self, key: int) -> None:
        index = bisect_left(self.keys, key)
        if index < len(self.keys) and self.keys[index] == key:
            self.idents[index] = -1

    def get(self, key: int) -> RowIdentity | None:
        found = self.other.get(key)
        if found is not None:
            return found
        index = bisect_left(self.keys, key)
        if index < len(self.keys) and self.keys[index] == key and self.idents[index] >= 0:
            return RowIdentity(str(self.idents[index]), NO_FINGERPRINT)
        return None


@dataclass
class Identities:
    """The identity of each row key of the last read of each tab: a row with an id no other
    row of the read shares is remembered by that id alone, the others by id and fingerprint."""

    tabs: dict[str, _TabIdentities] = field(default_factory=dict)

    def remember(self, tab: str, rows: Sequence[Row]) -> None:
        if tab not in TRACKED_TABS:  # tabs the sender never writes to: nothing to remember
            return
        column = IDENTITY_COLUMN.get(tab)
        kept = _TabIdentities()
        seen: set[str] = set()
        shared: set[str] = set()
        if column is not None:
            for row in rows:
                ident = (row.values.get(column) or "").strip()
                if ident in seen:
                    shared.add(ident)
                seen.add(ident)
        del seen
        for row in rows:
            ident = (row.values.get(column) or "").strip() if column else ""
            if ident and ident not in shared:
                kept.put(row.key, RowIdentity(ident, NO_FINGERPRINT))
            else:
                kept.put(row.key, identity_of(tab, row.values))
        self.tabs[tab] = kept

    def add(self, tab: str, key: int, values: Mapping[str, str]) -> None:
        if tab in TRACKED_TABS:
            self.tabs.setdefault(tab, _TabIdentities()).put(key, identity_of(tab, values))

    def set_ident(self, tab: str, key: int, ident: str) -> None:
        """The row's id was just written: it identifies the row from now on."""
        known = self.get(tab, key)
        if known is not None:
            self.tabs[tab].put(key, RowIdentity(ident.strip(), known.fingerprint))

    def get(self, tab: str, key: int) -> RowIdentity | None:
        found = self.tabs.get(tab)
        return found.get(key) if found is not None else None

    def forget(self, tab: str | None = None) -> None:
        if tab is None:
            self.tabs.clear()
        else:
            self.tabs.pop(tab, None)


def needs_content(tab: str, wanted: Sequence[RowIdentity]) -> bool:
    """True when the rows' ids alone cannot tell them apart (no id column, an empty id, an id
    used twice): the whole tab must then be read, not just its id column."""
    if tab not in IDENTITY_COLUMN:
        return True
    return any(identity.fingerprint != NO_FINGERPRINT for identity in wanted)


def locate_by_id(
    tab: str, wanted: Mapping[int, RowIdentity], current: Iterable[tuple[int, str]]
) -> dict[int, int | None]:
    """`locate` when every wanted row has an id of its own and only the id column was read:
    `current` holds (new key, id cell) pairs."""
    idents = {identity.ident for identity in wanted.values()}
    by_ident: dict[str, list[int]] = {}
    for key, cell in current:
        ident = cell.strip()
        if ident in idents:
            by_ident.setdefault(ident, []).append(key)
    return _match(wanted, by_ident, {})


def locate(
    tab: str,
    wanted: Mapping[int, RowIdentity],
    current: Sequence[tuple[int, Mapping[str, str]]],
) -> dict[int, int | None]:
    """Where each wanted row (old key → identity) is in `current` (new key, values): the new
    key, or None when the row is gone or cannot be told apart from another."""
    column = IDENTITY_COLUMN.get(tab)
    by_ident: dict[str, list[int]] = {}
    by_print: dict[tuple[str, int], list[int]] = {}
    for key, values in current:
        ident = str(values.get(column, "") or "").strip() if column else ""
        by_ident.setdefault(ident, []).append(key)
        found = identity_of(tab, values)
        by_print.setdefault((found.ident, found.fingerprint), []).append(key)
    return _match(wanted, by_ident, by_print)


def _match(
    wanted: Mapping[int, RowIdentity],
    by_ident: Mapping[str, list[int]],
    by_print: Mapping[tuple[str, int], list[int]],
) -> dict[int, int | None]:
    result: dict[int, int | None] = {}
    taken: set[int] = set()
    for old in sorted(wanted):
        identity = wanted[old]
        candidates = by_ident.get(identity.ident, []) if identity.ident else []
        if len(candidates) != 1 or not identity.ident:
            if identity.fingerprint == NO_FINGERPRINT:  # a second row took its id meanwhile
                result[old] = None
                continue
            candidates = by_print.get((identity.ident, identity.fingerprint), [])
        free = [key for key in candidates if key not in taken]
        if not free:
            result[old] = None
            continue
        # Identical rows: any one will do, but each only once, in their order.
        result[old] = free[0]
        taken.add(free[0])
    return result
