"""Register operations behind the CLI: clean, import and export.

Library first: every function takes a Register and returns a report; printing is the CLI's job.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sender import schema
from sender.cleaning.inscriptions import (
    DEFAULT_CONFIRMATION_DAYS,
    CleaningReport,
    PhoneParser,
    RowResult,
    Suppressed,
    clean_inscriptions,
)
from sender.dates import format_iso, now
from sender.domain.phones import parse_phone
from sender.errors import InputError
from sender.register.base import Register
from sender.register.files import read_table
from sender.tables import Table
from sender.text import fold, neutralise

IMPORTABLE_TABS = (schema.INSCRIPTIONS, schema.ALERTES, schema.HABILITATIONS)
_IMPORT_COLUMNS = {
    schema.INSCRIPTIONS: ("nom", "entreprise", "activite", "commune", "telephone", "horodatage"),
    schema.ALERTES: tuple(
        c for c in schema.COLUMNS[schema.ALERTES] if c not in schema.SENDER_COLUMNS[schema.ALERTES]
    ),
    schema.HABILITATIONS: schema.COLUMNS[schema.HABILITATIONS],
}


def clean_register(
    register: Register,
    *,
    phone: PhoneParser = parse_phone,
    confirmation_days: float = DEFAULT_CONFIRMATION_DAYS,
    confirmation_failures: Mapping[tuple[str, str], str] | None = None,
    suppressed: Suppressed | None = None,
) -> CleaningReport:
    """One read of the sign-up tabs, one write of what changed (none when nothing did)."""
    return _clean(register, phone, confirmation_days, confirmation_failures, suppressed)[0]


def _clean(
    register: Register,
    phone: PhoneParser,
    confirmation_days: float = DEFAULT_CONFIRMATION_DAYS,
    confirmation_failures: Mapping[tuple[str, str], str] | None = None,
    suppressed: Suppressed | None = None,
) -> tuple[CleaningReport, Table]:
    tables = register.read([schema.INSCRIPTIONS, schema.DESINSCRIPTIONS])
    report = clean_inscriptions(
        tables[schema.INSCRIPTIONS],
        tables[schema.DESINSCRIPTIONS],
        phone=phone,
        confirmation_days=confirmation_days,
        confirmation_failures=confirmation_failures,
        suppressed=suppressed,
    )
    if report.changes:
        register.write(report.changes)
    return report, tables[schema.INSCRIPTIONS]


@dataclass
class ImportReport:
    tab: str
    rows: list[dict[str, str]] = field(default_factory=list)  # as read from the file
    keys: list[int | None] = field(default_factory=list)  # the register row of each file row
    results: list[RowResult | None] = field(default_factory=list)  # Inscriptions only
    cleaning: CleaningReport | None = None
    already: int = 0  # file rows found in the register already: not added again

    @property
    def added(self) -> int:
        return len(self.rows) - self.already

    def as_json(self) -> list[dict[str, str | None]]:
        """One object per input row, in input order (Inscriptions)."""
        out: list[dict[str, str | None]] = []
        for row, result in zip(self.rows, self.results, strict=True):
            out.append(
                {
                    "telephone": row.get("telephone", ""),
                    "statut": result.statut if result else None,
                    "numero": (result.numero or None) if result else None,
                    "remarque": result.remarque if result else "",
                }
            )
        return out


# Columns the sender itself rewrites after an import: they do not tell whether a row is there.
_NOT_IDENTIFYING = frozenset({"statut"})


def _fingerprint(values: Mapping[str, str], columns: Sequence[str]) -> tuple[str, ...]:
    """What a file row looks like once stored (neutralised, as `append` stores it)."""
    return tuple(neutralise(str(values.get(c, "") or "").strip()) for c in columns)


def import_file(
    register: Register,
    path: Path,
    *,
    tab: str = schema.INSCRIPTIONS,
    phone: PhoneParser = parse_phone,
    confirmation_days: float = DEFAULT_CONFIRMATION_DAYS,
    confirmation_failures: Mapping[tuple[str, str], str] | None = None,
    suppressed: Suppressed | None = None,
) -> ImportReport:
    """Append the file's rows to `tab`; sign-ups are then cleaned against the whole register.

    All or nothing: the whole file is read and checked before anything is written, in one
    append. Idempotent: rows already in the tab (same values in the file's columns, counted
    with their repeats) are not added again, so importing a file twice, or again after a crash,
    adds nothing; `already` says how many were there.
    """
    if tab not in IMPORTABLE_TABS:
        raise InputError(
            f"Onglet « {tab} » non importable : choisir parmi {', '.join(IMPORTABLE_TABS)}."
        )
    rows = read_table(path, _IMPORT_COLUMNS[tab])
    report = ImportReport(tab=tab, rows=rows)
    if not rows:
        return report
    columns = [c for c in rows[0] if c not in _NOT_IDENTIFYING]
    present = Counter(_fingerprint(r.values, columns) for r in register.read([tab])[tab].rows)
    fresh: list[dict[str, str]] = []
    for row in rows:
        key = _fingerprint(row, columns)
        if present[key] > 0:
            present[key] -= 1
            report.already += 1
        else:
            fresh.append(row)
    stamp = format_iso(now())
    if fresh:
        register.append(tab, [_prepare(tab, row, stamp) for row in fresh])
    if tab == schema.INSCRIPTIONS:
        report.cleaning, table = _clean(
            register, phone, confirmation_days, confirmation_failures, suppressed
        )
        report.keys = _match(rows, table, columns)
        report.results = [
            report.cleaning.results.get(key) if key is not None else None for key in report.keys
        ]
    else:
        report.results = [None] * len(rows)
    return report


def _match(rows: list[dict[str, str]], table: Table, columns: list[str]) -> list[int | None]:
    """The register row of each file row, by its values (repeats matched in order)."""
    keys: dict[tuple[str, ...], deque[int]] = {}
    for row in table.rows:
        keys.setdefault(_fingerprint(row.values, columns), deque()).append(row.key)
    found: list[int | None] = []
    for row in rows:
        queue = keys.get(_fingerprint(row, columns))
        found.append(queue.popleft() if queue else None)
    return found


def _prepare(tab: str, row: dict[str, str], stamp: str) -> dict[str, str]:
    prepared = dict(row)
    if tab == schema.INSCRIPTIONS:
        prepared["source"] = schema.SOURCE_IMPORT
        prepared["horodatage"] = row.get("horodatage") or stamp
        prepared["consentement"] = f"import {stamp}"
    elif tab == schema.ALERTES:
        prepared["saisie_le"] = row.get("saisie_le") or stamp
        prepared.setdefault("statut", "")
        prepared["statut"] = prepared["statut"] or schema.BROUILLON
    return prepared


def export_tab(register: Register, tab: str) -> Table:
    if tab not in schema.COLUMNS:
        raise InputError(f"Onglet inconnu : « {tab} ». Onglets : {', '.join(schema.TABS)}.")
    return register.read([tab])[tab]


def tab_name(text: str) -> str:
    """Accept `alertes`, `ALERTES`, `Modèles` for the tab names."""
    for tab in schema.TABS:
        if fold(tab) == fold(text):
            return tab
    raise InputError(f"Onglet inconnu : « {text} ». Onglets : {', '.join(schema.TABS)}.")

