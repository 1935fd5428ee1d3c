"""Cleaning of the `Inscriptions` tab: pure functions from register rows to cell changes.

Every row gets a status (`actif`, `invalide`, `doublon`, `desinscrit`), its E.164 number, its
commune code and zone, and a French remark when something needs a person's attention. The result
is a list of cell changes: only values that differ from what the sheet already shows, so a run
with nothing new writes nothing.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from sender import schema
from sender.cleaning.communes import match_commune
from sender.cleaning.phones import PhoneResult, clean_phone
from sender.dates import DateError, format_french, parse_datetime
from sender.register.base import CellChange, Row, Table
from sender.register.ids import next_free_id

PhoneCleaner = Callable[[str], PhoneResult]
_OUTPUT_COLUMNS = ("statut", "numero", "code_insee", "zone", "remarque")
_REACTIVATING_SOURCES = {schema.SOURCE_FORMULAIRE, schema.SOURCE_SAISIE, ""}


class RowResult(NamedTuple):
    statut: str
    numero: str
    code_insee: str
    zone: str
    remarque: str

    def as_dict(self) -> dict[str, str]:
        return dict(zip(_OUTPUT_COLUMNS, self, strict=True))


@dataclass
class CleaningReport:
    changes: list[CellChange] = field(default_factory=list)
    results: dict[int, RowResult] = field(default_factory=dict)  # by row key
    statuses: Counter[str] = field(default_factory=Counter)
    rows: int = 0
    changed_rows: int = 0
    unsubscriptions_processed: int = 0




def _moment(text: str) -> datetime | None:
    try:
        return parse_datetime(text)
    except DateError:
        return None


def _sort_key(row: Row, moments: dict[int, datetime | None]) -> tuple[float, int]:
    moment = moments.get(row.key)
    return (moment.timestamp() if moment is not None else float("inf"), row.key)


@lru_cache(maxsize=8192)
def _commune_fields(text: str) -> tuple[str, str, str]:
    """code_insee, zone and a remark about the commune."""
    if not text.strip():
        return "", "", "commune manquante : la compléter pour les alertes par zone"
    commune = match_commune(text.strip())
    if commune is None:
        return "", "", f"commune « {text.strip()} » inconnue en Lozère : corriger l'orthographe"
    return commune.code, commune.zone, ""


def _join(*parts: str) -> str:
    return " ; ".join(p for p in parts if p)


def _next_ids(rows: Sequence[Row]) -> Callable[[], str]:
    first = next_free_id(r.values.get("id") for r in rows)
    counter = iter(range(first, first + len(rows)))
    return lambda: str(next(counter))


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Cleaning allocates about ten objects per row and creates no reference cycles: pausing the
    cyclic garbage collector saves its repeated full scans of the register (≈ 25 % of the time
    at 100,000 rows). Reference counting still frees everything as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def clean_inscriptions(
    inscriptions: Table,
    desinscriptions: Table | None = None,
    *,
    phone: PhoneCleaner = clean_phone,
) -> CleaningReport:
    """Compute every row's cleaned values and the cell changes to write back."""
    with _collector_paused():
        return _clean(inscriptions, desinscriptions, phone)


def _clean(
    inscriptions: Table, desinscriptions: Table | None, phone: PhoneCleaner
) -> CleaningReport:
    report = CleaningReport(rows=len(inscriptions.rows))
    rows = inscriptions.rows
    phones: dict[int, PhoneResult] = {
        row.key: phone(row.values.get("telephone") or "") for row in rows
    }

    # Unsubscriptions: latest time per number, and the `traite` column of each request.
    unsubscribed_at: dict[str, datetime | None] = {}
    registered = {p.numero for p in phones.values() if p.numero}
    if desinscriptions is not None:
        for row in desinscriptions.rows:
            result = phone(row.get("telephone"))
            when = _moment(row.get("horodatage"))
            if "telephone" in row.unreadable:
                outcome = f"non traitée : {row.unreadable_remark()}"
            elif result.numero is None:
                outcome = f"non traitée : {result.remarque}"
            else:
                previous = unsubscribed_at.get(result.numero)
                if result.numero not in unsubscribed_at or (
                    when is not None and (previous is None or when > previous)
                ):
                    unsubscribed_at[result.numero] = when
                outcome = "oui" if result.numero in registered else "oui (numéro non inscrit)"
            if row.get("traite") != outcome:
                report.changes.append(
                    CellChange(desinscriptions.name, row.key, "traite", outcome)
                )
            report.unsubscriptions_processed += 1

    # Rows a person (or an earlier run) marked `desinscrit` stay so; their time counts too.
    groups: dict[str, list[Row]] = {}
    for row in rows:
        number = phones[row.key].numero
        if number:
            groups.setdefault(number, []).append(row)
    moments: dict[int, datetime | None] = {}
    for number, members in groups.items():
        if len(members) > 1 or number in unsubscribed_at:
            for row in members:
                moments[row.key] = _moment(row.get("horodatage"))
        for row in members:
            if row.get("statut").strip().lower() == schema.DESINSCRIT:
                when = moments.get(row.key) or _moment(row.get("horodatage"))
                current = unsubscribed_at.get(number)
                if number not in unsubscribed_at or (
                    when is not None and (current is None or when > current)
                ):
                    unsubscribed_at[number] = when

    new_id = _next_ids(rows)
    ids = {row.key: (row.values.get("id") or "").strip() or new_id() for row in rows}
    tab = inscriptions.name
    changes = report.changes
    statuses = report.statuses
    for row in rows:
        values = row.values
        result = phones[row.key]
        code, zone, commune_note = _commune_fields(values.get("commune") or "")
        numero = result.numero or ""
        if not result.ok:
            outcome = RowResult(
                schema.INVALIDE, numero, code, zone, _join(result.remarque, commune_note)
            )
        else:
            group = groups[numero]
            if len(group) == 1 and numero not in unsubscribed_at and (
                (values.get("statut") or "").strip().lower() != schema.DESINSCRIT
            ):
                outcome = RowResult(schema.ACTIF, numero, code, zone, commune_note)
            else:
                outcome = _member_outcome(
                    row, numero, code, zone, commune_note, group, unsubscribed_at, moments, ids
                )
        if row.unreadable:
            outcome = _unreadable_outcome(row, outcome, commune_note)
        report.results[row.key] = outcome
        statuses[outcome.statut] += 1
        before = len(changes)
        if values.get("id") != ids[row.key]:
            changes.append(CellChange(tab, row.key, "id", ids[row.key]))
        for column, value in zip(_OUTPUT_COLUMNS, outcome, strict=True):
            if (values.get(column) or "") != value:
                changes.append(CellChange(tab, row.key, column, value))
        if len(changes) != before:
            report.changed_rows += 1
    return report


def _unreadable_outcome(row: Row, outcome: RowResult, commune_note: str) -> RowResult:
    """A row with unreadable cells keeps its result with a remark; without a readable phone
    number it cannot receive anything: `invalide`."""
    remark = row.unreadable_remark()
    if "telephone" in row.unreadable:
        return RowResult(schema.INVALIDE, "", outcome.code_insee, outcome.zone,
                         _join(remark, commune_note))
    return outcome._replace(remarque=_join(outcome.remarque, remark))


def _member_outcome(
    row: Row,
    numero: str,
    code: str,
    zone: str,
    commune_note: str,
    group: list[Row],
    unsubscribed_at: dict[str, datetime | None],
    moments: dict[int, datetime | None],
    ids: dict[int, str],
) -> RowResult:
    if row.get("statut").strip().lower() == schema.DESINSCRIT:
        return RowResult(
            schema.DESINSCRIT, numero, code, zone, row.get("remarque") or "désinscrit"
        )
    if numero in unsubscribed_at:
        cutoff = unsubscribed_at[numero]
        moment = moments.get(row.key)
        reactivates = (
            row.get("source").strip().lower() in _REACTIVATING_SOURCES
            and moment is not None
            and cutoff is not None
            and moment > cutoff
        )
        if not reactivates:
            when = f" le {format_french(cutoff)}" if cutoff is not None else ""
            return RowResult(
                schema.DESINSCRIT, numero, code, zone, f"désinscription reçue{when}"
            )
        group = [
            r for r in group
            if r.get("statut").strip().lower() != schema.DESINSCRIT
            and (m := moments.get(r.key)) is not None
            and m > cutoff
            and r.get("source").strip().lower() in _REACTIVATING_SOURCES
        ]
    if len(group) > 1:
        kept = min(
            (r for r in group if r.get("statut").strip().lower() != schema.DESINSCRIT),
            key=lambda r: _sort_key(r, moments),
        )
        if kept.key != row.key:
            reference = ids[kept.key]
            return RowResult(
                schema.DOUBLON, numero, code, zone, f"doublon de l'inscription n° {reference}"
            )
    return RowResult(schema.ACTIF, numero, code, zone, commune_note)
