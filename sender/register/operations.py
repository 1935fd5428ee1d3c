"""Register operations behind the CLI: clean, import and export.

Library first: every function takes a Register and returns a report; printing is the CLI's job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sender import schema
from sender.cleaning.inscriptions import (
    DEFAULT_CONFIRMATION_DAYS,
    CleaningReport,
    PhoneCleaner,
    RowResult,
    clean_inscriptions,
)
from sender.cleaning.phones import clean_phone
from sender.dates import format_iso, now
from sender.errors import InputError
from sender.register.base import Register, Table
from sender.register.files import read_table
from sender.text import fold

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
    phone: PhoneCleaner = clean_phone,
    confirmation_days: float = DEFAULT_CONFIRMATION_DAYS,
    confirmation_failures: Mapping[tuple[str, str], str] | None = None,
) -> CleaningReport:
    """One read of the sign-up tabs, one write of what changed (none when nothing did)."""
    tables = register.read([schema.INSCRIPTIONS, schema.DESINSCRIPTIONS])
    report = clean_inscriptions(
        tables[schema.INSCRIPTIONS],
        tables[schema.DESINSCRIPTIONS],
        phone=phone,
        confirmation_days=confirmation_days,
        confirmation_failures=confirmation_failures,
    )
    if report.changes:
        register.write(report.changes)
    return report


@dataclass
class ImportReport:
    tab: str
    rows: list[dict[str, str]] = field(default_factory=list)  # as read from the file
    keys: list[int] = field(default_factory=list)
    results: list[RowResult | None] = field(default_factory=list)  # Inscriptions only
    cleaning: CleaningReport | None = None

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


def import_file(
    register: Register,
    path: Path,
    *,
    tab: str = schema.INSCRIPTIONS,
    phone: PhoneCleaner = clean_phone,
    confirmation_days: float = DEFAULT_CONFIRMATION_DAYS,
    confirmation_failures: Mapping[tuple[str, str], str] | None = None,
) -> ImportReport:
    """Append the file's rows to `tab`; sign-ups are then cleaned against the whole register."""
    if tab not in IMPORTABLE_TABS:
        raise InputError(
            f"Onglet « {tab} » non importable : choisir parmi {', '.join(IMPORTABLE_TABS)}."
        )
    rows = read_table(path, _IMPORT_COLUMNS[tab])
    report = ImportReport(tab=tab, rows=rows)
    if not rows:
        return report
    stamp = format_iso(now())
    prepared = [_prepare(tab, row, stamp) for row in rows]
    report.keys = register.append(tab, prepared)
    if tab == schema.INSCRIPTIONS:
        report.cleaning = clean_register(
            register, phone=phone, confirmation_days=confirmation_days,
            confirmation_failures=confirmation_failures,
        )
        report.results = [report.cleaning.results.get(key) for key in report.keys]
    else:
        report.results = [None] * len(rows)
    return report


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

