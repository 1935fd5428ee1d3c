"""Who may edit the `Alertes` and `Habilitations` tabs, as the register enforces it.

On Google Sheets, `initialiser` protects both tabs (real protection, not a warning): `Alertes`
may be edited by the Google accounts of the active officers (`Habilitations`, column `email`),
`Habilitations` by nobody but the accounts Google always keeps (the sheet's owner and the
service account that set the protection). Google adds those accounts to every protection by
itself; `initialiser` reads them back and records them in the protection's description
(`GOOGLE_ACCOUNTS`), so the check knows them without any setting. A local SQLite register has no
such notion: whoever can write the file can write alerts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from sender import schema
from sender.text import cell_text, is_truthy

PROTECTED_TABS: Final = (schema.ALERTES, schema.HABILITATIONS)
GOOGLE_ACCOUNTS: Final = "Comptes que Google garde toujours : "
_DESCRIPTIONS: Final = {
    schema.ALERTES: (
        "Alerte Message : seuls les agents actifs de l'onglet Habilitations (colonne email) "
        "peuvent modifier cet onglet. Pour changer la liste, modifiez Habilitations puis "
        "relancez « alerte-message initialiser »."
    ),
    schema.HABILITATIONS: (
        "Alerte Message : onglet réservé à la CMA (propriétaire de la feuille). Après une "
        "modification, relancez « alerte-message initialiser »."
    ),
}
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True, slots=True)
class Protection:
    """One protected range of a tab, as Google Sheets reports it (`ProtectedRange`)."""

    range_id: int | None
    whole_tab: bool  # the range is the whole sheet (no row or column bounds)
    warning_only: bool
    users: frozenset[str]  # lower-case e-mail addresses
    groups: frozenset[str]
    domain_can_edit: bool
    description: str

    @property
    def google_accounts(self) -> frozenset[str]:
        """The accounts `initialiser` found Google had added by itself (owner, service
        account), as recorded in the description."""
        return google_accounts_in(self.description)


def normalise_email(text: str) -> str:
    return text.strip().lower()


def is_email(text: str) -> bool:
    return bool(_EMAIL.match(text.strip()))


def description(tab: str, google_accounts: Iterable[str] = ()) -> str:
    """The protection's description, with the accounts Google keeps when they are known."""
    accounts = sorted({normalise_email(a) for a in google_accounts if a})
    text = _DESCRIPTIONS[tab]
    return f"{text} {GOOGLE_ACCOUNTS}{', '.join(accounts)}." if accounts else text


def google_accounts_in(text: str) -> frozenset[str]:
    start = text.find(GOOGLE_ACCOUNTS)
    if start < 0:
        return frozenset()
    listed = text[start + len(GOOGLE_ACCOUNTS):].rstrip(". ")
    return frozenset(normalise_email(a) for a in listed.split(",") if a.strip())


def parse(item: Mapping[str, object]) -> Protection:
    """A `ProtectedRange` of the Sheets API (defaults omitted on the wire count as such)."""
    grid = item.get("range")
    grid = grid if isinstance(grid, Mapping) else {}
    bounds = ("startRowIndex", "endRowIndex", "startColumnIndex", "endColumnIndex")
    editors = item.get("editors")
    editors = editors if isinstance(editors, Mapping) else {}
    raw_id = item.get("protectedRangeId")
    return Protection(
        range_id=raw_id if isinstance(raw_id, int) else None,
        whole_tab=not any(grid.get(b) for b in bounds) and "namedRangeId" not in item,
        warning_only=bool(item.get("warningOnly", False)),
        users=frozenset(normalise_email(str(u)) for u in _list(editors.get("users"))),
        groups=frozenset(normalise_email(str(g)) for g in _list(editors.get("groups"))),
        domain_can_edit=bool(editors.get("domainUsersCanEdit", False)),
        description=str(item.get("description") or ""),
    )


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def ours(protections: Iterable[Protection]) -> Protection | None:
    """The whole-tab edit protection `initialiser` sets, if there is one."""
    for protection in protections:
        if protection.whole_tab and not protection.warning_only:
            return protection
    return None


def officer_emails(habilitations_rows: Iterable[Mapping[str, object]]) -> set[str]:
    """The Google accounts (column `email`) of the active officers."""
    emails = set()
    for row in habilitations_rows:
        email = cell_text(row.get("email"))
        active = is_truthy(cell_text(row.get("actif")))
        if cell_text(row.get("identifiant")) and active and is_email(email):
            emails.add(normalise_email(email))
    return emails
