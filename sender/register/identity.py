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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sender import schema

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


@dataclass
class Identities:
    """The identity of each row key of the last read of each tab.

    Compact: a row with an id no other row of the read shares is remembered by that id alone
    (the very string the read holds: 100,000 sign-ups cost a dict, not 100,000 objects); the
    others by id and fingerprint."""

    tabs: dict[str, dict[int, RowIdentity | str]] = field(default_factory=dict)

    def remember(self, tab: str, rows: Iterable[tuple[int, Mapping[str, str]]]) -> None:
        if tab not in TRACKED_TABS:  # tabs the sender never writes to: nothing to remember
            return
        column = IDENTITY_COLUMN.get(tab)
        rows = list(rows)
        kept: dict[int, RowIdentity | str] = {}
        if column is None:
            self.tabs[tab] = {key: identity_of(tab, values) for key, values in rows}
            return
        counts: dict[str, int] = {}
        for _, values in rows:
            ident = (values.get(column) or "").strip()
            counts[ident] = counts.get(ident, 0) + 1
        for key, values in rows:
            ident = (values.get(column) or "").strip()
            kept[key] = ident if ident and counts[ident] == 1 else identity_of(tab, values)
        self.tabs[tab] = kept

    def add(self, tab: str, key: int, values: Mapping[str, str]) -> None:
        if tab in TRACKED_TABS:
            self.tabs.setdefault(tab, {})[key] = identity_of(tab, values)

    def set_ident(self, tab: str, key: int, ident: str) -> None:
        """The row's id was just written: it identifies the row from now on."""
        known = self.get(tab, key)
        if known is not None:
            self.tabs[tab][key] = RowIdentity(ident.strip(), known.fingerprint)

    def get(self, tab: str, key: int) -> RowIdentity | None:
        found = self.tabs.get(tab, {}).get(key)
        if isinstance(found, str):
            return RowIdentity(found, NO_FINGERPRINT)
        return found

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


def locate(
    tab: str,
    wanted: Mapping[int, RowIdentity],
    current: Sequence[tuple[int, Mapping[str, str]]],
    *,
    ids_only: bool = False,
) -> dict[int, int | None]:
    """Where each wanted row (old key → identity) is in `current` (new key, values): the new
    key, or None when the row is gone or cannot be told apart from another. With `ids_only`,
    `current` holds only the identity column."""
    column = IDENTITY_COLUMN.get(tab)
    by_ident: dict[str, list[int]] = {}
    by_print: dict[tuple[str, int], list[int]] = {}
    for key, values in current:
        ident = str(values.get(column, "") or "").strip() if column else ""
        by_ident.setdefault(ident, []).append(key)
        if not ids_only:
            found = identity_of(tab, values)
            by_print.setdefault((found.ident, found.fingerprint), []).append(key)
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
