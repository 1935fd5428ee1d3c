"""Cleaning of the `Inscriptions` tab: pure functions from register rows to cell changes.

Every row gets a status (`en attente`, `actif`, `invalide`, `doublon`, `desinscrit`), its E.164
number, its commune code and zone, and a French remark when something needs a person's attention.
The result is a list of cell changes: only values that differ from what the sheet already shows,
so a run with nothing new writes nothing.

Consent: a sign-up or an unsubscription request made on the public form counts only once its
phone has confirmed it (`confirme_le` filled by the confirmation page); until then the sign-up is
`en attente` and the request waits, and both are listed in `CleaningReport.pending` for the sender
to send their one confirmation message. Rows an earlier version or the CMA already set to
`actif`, `doublon` or `desinscrit` (and requests already `traite`) are not asked again. A
confirmed new sign-up for a number whose member row is already `actif` (in the register, not
only in this cleaning) corrects that member's row in place.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from sender import schema
from sender.consent.planning import HELD_PREFIX, REPLACED
from sender.consent.requests import (
    DESINSCRIPTION,
    INSCRIPTION,
    ConfirmationRequest,
    expiry,
    request_ref,
)
from sender.dates import DateError, format_french, parse_datetime
from sender.dates import now as paris_now
from sender.domain.communes import match_commune, normalise_name
from sender.domain.phones import PhoneResult, parse_phone
from sender.register.ids import next_free_id
from sender.tables import CellChange, Row, Table
from sender.text import quote

PhoneParser = Callable[[str], PhoneResult]
_OUTPUT_COLUMNS = ("statut", "numero", "code_insee", "zone", "remarque")
_REACTIVATING_SOURCES = {schema.SOURCE_FORMULAIRE, schema.SOURCE_SAISIE, ""}
# Statuses given by an earlier version or typed by the CMA: such a form sign-up is not asked to
# confirm again.
_SETTLED_STATUSES = {schema.ACTIF, schema.DOUBLON, schema.DESINSCRIT, schema.SUSPENDU}
# The moment a number was erased after an unsubscription (its digest is in the suppression
# list, `sender/cleaning/suppressions.py`), or None: rows older than that, or imported, must
# not make it a member again.
Suppressed = Callable[[str], datetime | None]
CORRECTED_FIELDS = ("nom", "entreprise", "activite", "commune")
CORRECTION_PREFIX = "informations corrigées le "
DEFAULT_CONFIRMATION_DAYS = 7.0


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
    # Requests waiting for their phone's confirmation, still valid: one message each.
    pending: list[ConfirmationRequest] = field(default_factory=list)
    # Member rows corrected by a confirmed new sign-up: row key → corrected cells.
    corrections: dict[int, dict[str, str]] = field(default_factory=dict)


def _status(row: Row) -> str:
    return row.get("statut").strip().lower()


def _source(row: Row) -> str:
    return row.get("source").strip().lower()


def awaits_confirmation(row: Row) -> bool:
    """A sign-up from the form that its phone has not confirmed yet."""
    values = row.values  # read directly: this runs for every row of the register
    return (
        (values.get("source") or "").strip().lower() == schema.SOURCE_FORMULAIRE
        and not (values.get("confirme_le") or "").strip()
        and (values.get("statut") or "").strip().lower() not in _SETTLED_STATUSES
    )


def _freshly_confirmed(row: Row) -> bool:
    """A form sign-up confirmed since the last cycle (not yet given a member status)."""
    values = row.values
    return (
        (values.get("source") or "").strip().lower() == schema.SOURCE_FORMULAIRE
        and bool((values.get("confirme_le") or "").strip())
        and (values.get("statut") or "").strip().lower() in ("", schema.EN_ATTENTE)
    )


def unsubscription_awaits(row: Row) -> bool:
    """An unsubscription request from the form, neither confirmed nor processed before."""
    return (
        _source(row) == schema.SOURCE_FORMULAIRE
        and not row.get("confirme_le").strip()
        and not row.get("traite").strip().lower().startswith("oui")
    )


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
    phone: PhoneParser = parse_phone,
    now: datetime | None = None,
    confirmation_days: float = DEFAULT_CONFIRMATION_DAYS,
    confirmation_failures: Mapping[tuple[str, str], str] | None = None,
    suppressed: Suppressed | None = None,
) -> CleaningReport:
    """Compute every row's cleaned values and the cell changes to write back.

    `now` (default: the current time) decides which requests waiting for a confirmation have
    expired after `confirmation_days`; `confirmation_failures` maps (message id, number) to the
    reason a confirmation message could not be delivered (from the dispatch journal);
    `suppressed` says when a number was erased after an unsubscription.
    """
    with _collector_paused():
        cleaner = _Cleaner(
            phone, now or paris_now(), confirmation_days, dict(confirmation_failures or {}),
            suppressed,
        )
        return cleaner.clean(inscriptions, desinscriptions)


@dataclass
class _Cleaner:
    phone: PhoneParser
    now: datetime
    days: float
    failures: dict[tuple[str, str], str]
    suppressed: Suppressed | None = None

    def _waiting_note(self, request: ConfirmationRequest) -> str:
        failure = self.failures.get((request.message_id, request.numero))
        if failure == REPLACED:
            return f"en attente de confirmation : {REPLACED} (un seul message par numéro)"
        if failure is not None and failure.startswith(HELD_PREFIX):
            return f"en attente de confirmation : message {failure}"
        if failure is not None:
            return (
                f"en attente de confirmation : le message n'a pas pu être envoyé ({failure}) ; "
                "vérifier le numéro avec la personne"
            )
        until = (
            f" (lien valable jusqu'au {format_french(request.expires_at)})"
            if request.expires_at else ""
        )
        return f"en attente de confirmation par message{until}"

    def clean(self, inscriptions: Table, desinscriptions: Table | None) -> CleaningReport:
        """The phases: numbers, unsubscriptions, groups by number, ids, corrections and
        confirmations, then each row's verdict and the cells that change."""
        rows = inscriptions.rows
        report = CleaningReport(rows=len(rows))
        phone = self.phone
        phones: dict[int, PhoneResult] = {
            row.key: phone(row.values.get("telephone") or "") for row in rows
        }
        waiting = {row.key for row in rows if awaits_confirmation(row)}
        unsubscribed_at: dict[str, datetime | None] = {}
        if desinscriptions is not None:
            registered = {
                p.numero for key, p in phones.items() if p.numero and key not in waiting
            }
            reachable = {p.numero for key, p in phones.items() if p.ok and key not in waiting}
            self._unsubscriptions(
                desinscriptions, registered, reachable, unsubscribed_at, report
            )
        erased = self._erased(phones, unsubscribed_at)
        groups, moments = _group_by_number(rows, phones, waiting, unsubscribed_at)
        new_id = _next_ids(rows)
        ids = {row.key: (row.values.get("id") or "").strip() or new_id() for row in rows}
        correction_notes: dict[int, str] = {}
        corrected_by = self._corrections(
            groups, unsubscribed_at, moments, ids, report, correction_notes
        )
        waiting_notes = self._waiting(
            [r for r in rows if r.key in waiting and phones[r.key].ok],
            phones, groups, moments, ids, report,
        )
        verdict = _Verdict(
            phones, waiting, waiting_notes, corrected_by, correction_notes, groups,
            unsubscribed_at, moments, ids, erased,
        )
        tab = inscriptions.name
        for row in rows:
            corrected = report.corrections.get(row.key)
            outcome = verdict.outcome(row, corrected)
            report.results[row.key] = outcome
            report.statuses[outcome.statut] += 1
            _record_changes(report, tab, row, ids[row.key], corrected, outcome)
        return report

    def _erased(
        self, phones: Mapping[int, PhoneResult], unsubscribed_at: dict[str, datetime | None]
    ) -> set[str]:
        """Numbers erased after an unsubscription: they count as unsubscribed at the time of
        their erasure (only a sign-up confirmed since makes them members again)."""
        if self.suppressed is None:
            return set()
        erased: set[str] = set()
        for numero in {p.numero for p in phones.values() if p.numero}:
            when = self.suppressed(numero)
            if when is None:
                continue
            erased.add(numero)
            previous = unsubscribed_at.get(numero)
            if numero not in unsubscribed_at or previous is None or when > previous:
                unsubscribed_at[numero] = when
        return erased

    # -- unsubscription requests -------------------------------------------------------------

    def _unsubscriptions(
        self,
        desinscriptions: Table,
        registered: set[str],
        reachable: set[str],
        unsubscribed_at: dict[str, datetime | None],
        report: CleaningReport,
    ) -> None:
        """The `traite` column of each request; the latest time of the applied ones per number.
        `registered`: numbers of the register; `reachable`: those that may receive alerts."""
        for row in desinscriptions.rows:
            result = self.phone(row.get("telephone"))
            when = _moment(row.get("horodatage"))
            if "telephone" in row.unreadable:
                outcome = f"non traitée : {row.unreadable_remark()}"
            elif result.numero is None:
                outcome = f"non traitée : {result.remarque}"
            elif unsubscription_awaits(row):
                outcome = self._unsubscription_waiting(row, result.numero, when, reachable, report)
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

    def _unsubscription_waiting(
        self,
        row: Row,
        numero: str,
        when: datetime | None,
        reachable: set[str],
        report: CleaningReport,
    ) -> str:
        if numero not in reachable:
            # No member to unsubscribe: no message either (the form page said the same thing).
            return "sans effet : numéro non inscrit"
        expires = expiry(when, self.days)
        if expires is not None and self.now > expires:
            return f"non : confirmation non reçue avant le {format_french(expires)}"
        request = ConfirmationRequest(
            DESINSCRIPTION, request_ref(row.get("horodatage")), numero, when, expires
        )
        report.pending.append(request)
        return self._waiting_note(request)

    # -- sign-ups waiting for their confirmation ---------------------------------------------

    def _waiting(
        self,
        rows: list[Row],
        phones: dict[int, PhoneResult],
        groups: dict[str, list[Row]],
        moments: dict[int, datetime | None],
        ids: dict[int, str],
        report: CleaningReport,
    ) -> dict[int, str]:
        """The remark of each sign-up waiting for its confirmation; the valid ones go to
        `report.pending` (the same request sent twice gets one message)."""
        notes: dict[int, str] = {}
        made = {row.key: _moment(row.get("horodatage")) for row in rows}
        first_of: dict[tuple[str, ...], str] = {}
        for row in sorted(rows, key=lambda r: _sort_key(r, made)):
            numero = phones[row.key].numero or ""
            expires = expiry(made[row.key], self.days)
            if expires is not None and self.now > expires:
                notes[row.key] = (
                    f"demande expirée le {format_french(expires)} sans confirmation par le "
                    "téléphone : une nouvelle inscription par le formulaire envoie un nouveau "
                    "message"
                )
                continue
            same = (numero, *(normalise_name(row.get(c)) for c in CORRECTED_FIELDS))
            if same in first_of:
                notes[row.key] = (
                    f"même demande que l'inscription n° {first_of[same]}, en attente de "
                    "confirmation"
                )
                continue
            first_of[same] = ids[row.key]
            request = ConfirmationRequest(INSCRIPTION, ids[row.key], numero, made[row.key], expires)
            report.pending.append(request)
            note = self._waiting_note(request)
            member = _kept(groups.get(numero, []), moments)
            if member is not None and _status(member) == schema.ACTIF:
                note += (
                    f" ; numéro déjà inscrit : la confirmation mettra à jour l'inscription "
                    f"n° {ids[member.key]}"
                )
            notes[row.key] = note
        return notes

    # -- corrections -----------------------------------------------------------------------

    def _corrections(
        self,
        groups: dict[str, list[Row]],
        unsubscribed_at: dict[str, datetime | None],
        moments: dict[int, datetime | None],
        ids: dict[int, str],
        report: CleaningReport,
        notes: dict[int, str],
    ) -> dict[int, str]:
        """Apply each freshly confirmed sign-up to the member row of its number: corrected cells
        go to `report.corrections` and the member's remark to `notes`; returns the remark of
        each confirmed row used so."""
        remarks: dict[int, str] = {}
        when = format_french(self.now)
        for number, members in groups.items():
            if len(members) < 2 or number in unsubscribed_at:
                continue
            fresh = [r for r in members if _freshly_confirmed(r)]
            if not fresh:
                continue
            kept = _kept(members, moments)
            if kept is None or _status(kept) != schema.ACTIF:
                continue  # no member yet (a first cleaning): the oldest row simply wins
            fresh = sorted(
                (r for r in fresh if r.key != kept.key), key=lambda r: _sort_key(r, moments)
            )
            if not fresh:
                continue
            current = {c: kept.get(c) for c in CORRECTED_FIELDS}
            for row in fresh:
                diffs = []
                for column in CORRECTED_FIELDS:
                    new = " ".join(row.get(column).split())
                    if new and new != " ".join(current[column].split()):
                        diffs.append(f"{column} {quote(current[column])} → {quote(new)}")
                        current[column] = new
                if not diffs:
                    remarks[row.key] = (
                        f"doublon de l'inscription n° {ids[kept.key]} (mêmes informations, "
                        f"confirmé le {when})"
                    )
                    continue
                remarks[row.key] = (
                    f"correction de l'inscription n° {ids[kept.key]}, appliquée le {when}"
                )
                report.corrections[kept.key] = {
                    c: v for c, v in current.items() if v != kept.get(c)
                }
                notes[kept.key] = (
                    f"{CORRECTION_PREFIX}{when} (inscription n° {ids[row.key]}) : "
                    + ", ".join(diffs)
                )
        return remarks


def _group_by_number(
    rows: Sequence[Row],
    phones: Mapping[int, PhoneResult],
    waiting: set[int],
    unsubscribed_at: dict[str, datetime | None],
) -> tuple[dict[str, list[Row]], dict[int, datetime | None]]:
    """The rows sharing each number (sign-ups awaiting confirmation aside), the time of the
    rows that matter for deciding among them, and, into `unsubscribed_at`, the time of the rows
    a person (or an earlier run) marked `desinscrit`: they stay so and their time counts too."""
    groups: dict[str, list[Row]] = {}
    for row in rows:
        number = phones[row.key].numero
        if number and row.key not in waiting:
            groups.setdefault(number, []).append(row)
    moments: dict[int, datetime | None] = {}
    for number, members in groups.items():
        if len(members) > 1 or number in unsubscribed_at:
            for row in members:
                moments[row.key] = _moment(row.get("horodatage"))
        for row in members:
            if _status(row) == schema.DESINSCRIT:
                when = moments.get(row.key) or _moment(row.get("horodatage"))
                current = unsubscribed_at.get(number)
                if number not in unsubscribed_at or (
                    when is not None and (current is None or when > current)
                ):
                    unsubscribed_at[number] = when
    return groups, moments


@dataclass
class _Verdict:
    """Each row's status, number, commune and remark, from what the earlier phases learnt."""

    phones: Mapping[int, PhoneResult]
    waiting: set[int]
    waiting_notes: Mapping[int, str]
    corrected_by: Mapping[int, str]
    correction_notes: Mapping[int, str]
    groups: Mapping[str, list[Row]]
    unsubscribed_at: dict[str, datetime | None]
    moments: dict[int, datetime | None]
    ids: dict[int, str]
    erased: set[str] = field(default_factory=set)

    def outcome(self, row: Row, corrected: Mapping[str, str] | None) -> RowResult:
        result = self.phones[row.key]
        commune_text = row.values.get("commune") or ""
        if corrected:
            commune_text = corrected.get("commune", commune_text)
        code, zone, commune_note = _commune_fields(commune_text)
        numero = result.numero or ""
        if not result.ok:
            outcome = RowResult(
                schema.INVALIDE, numero, code, zone, _join(result.remarque, commune_note)
            )
        elif row.key in self.waiting:
            outcome = RowResult(
                schema.EN_ATTENTE, numero, code, zone,
                _join(self.waiting_notes[row.key], commune_note),
            )
        elif row.key in self.corrected_by:
            outcome = RowResult(schema.DOUBLON, numero, code, zone, self.corrected_by[row.key])
        else:
            outcome = self._registered(row, numero, code, zone, commune_note)
        if row.key in self.correction_notes and outcome.statut == schema.ACTIF:
            outcome = outcome._replace(
                remarque=_join(self.correction_notes[row.key], commune_note)
            )
        if outcome.statut == schema.DESINSCRIT and numero in self.erased and (
            _status(row) != schema.DESINSCRIT
        ):
            cutoff = self.unsubscribed_at.get(numero)
            when = f" le {format_french(cutoff)}" if cutoff is not None else ""
            outcome = outcome._replace(remarque=(
                f"numéro effacé{when} (désinscription ou demande d'effacement) : une "
                "nouvelle inscription confirmée par le téléphone (formulaire ou WhatsApp) est "
                "nécessaire"
            ))
        elif outcome.statut == schema.ACTIF and _status(row) == schema.SUSPENDU:
            outcome = outcome._replace(  # article 18 of the GDPR: kept, never alerted
                statut=schema.SUSPENDU,
                remarque=_join(
                    "suspendu à la demande de la personne : aucune alerte", outcome.remarque),
            )
        if row.unreadable:
            outcome = _unreadable_outcome(row, outcome, commune_note)
        return outcome

    def _registered(
        self, row: Row, numero: str, code: str, zone: str, commune_note: str
    ) -> RowResult:
        """A valid number, neither waiting nor superseded: alone and active, or one of a group."""
        group = self.groups[numero]
        if len(group) == 1 and numero not in self.unsubscribed_at and (
            _status(row) != schema.DESINSCRIT
        ):
            stored = row.values.get("remarque")
            remark = (
                _member_remark(row, commune_note)
                if stored and stored.startswith(CORRECTION_PREFIX) else commune_note
            )
            return RowResult(schema.ACTIF, numero, code, zone, remark)
        return _member_outcome(
            row, numero, code, zone, commune_note, group, self.unsubscribed_at,
            self.moments, self.ids,
        )


def _record_changes(
    report: CleaningReport,
    tab: str,
    row: Row,
    row_id: str,
    corrected: Mapping[str, str] | None,
    outcome: RowResult,
) -> None:
    """The cells of `row` whose value differs from what the register shows."""
    values = row.values
    changes = report.changes
    before = len(changes)
    if values.get("id") != row_id:
        changes.append(CellChange(tab, row.key, "id", row_id))
    if corrected:
        for column, value in corrected.items():
            if (values.get(column) or "") != value:
                changes.append(CellChange(tab, row.key, column, value))
    for column, value in zip(_OUTPUT_COLUMNS, outcome, strict=True):
        if (values.get(column) or "") != value:
            changes.append(CellChange(tab, row.key, column, value))
    if len(changes) != before:
        report.changed_rows += 1


def _kept(members: list[Row], moments: dict[int, datetime | None]) -> Row | None:
    """The member row of a number: the oldest one not unsubscribed."""
    candidates = [r for r in members if _status(r) != schema.DESINSCRIT]
    return min(candidates, key=lambda r: _sort_key(r, moments)) if candidates else None


def _member_remark(row: Row, commune_note: str) -> str:
    """An active member's remark: the commune note, after the note of its last correction."""
    stored = row.values.get("remarque") or ""
    if stored.startswith(CORRECTION_PREFIX):
        return stored if not commune_note or commune_note in stored else _join(stored, commune_note)
    return commune_note


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
    if _status(row) == schema.DESINSCRIT:
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
            stored = row.get("remarque")
            if stored.startswith((
                f"correction de l'inscription n° {reference},",
                f"doublon de l'inscription n° {reference} (",
            )):
                return RowResult(schema.DOUBLON, numero, code, zone, stored)
            return RowResult(
                schema.DOUBLON, numero, code, zone, f"doublon de l'inscription n° {reference}"
            )
    return RowResult(schema.ACTIF, numero, code, zone, _member_remark(row, commune_note))
